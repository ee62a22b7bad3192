-- Who saved each revision (a user's address; empty for files and the
-- command line), so the history never folds one person's save into
-- another's.
ALTER TABLE edition_revisions ADD COLUMN author TEXT NOT NULL DEFAULT '';
