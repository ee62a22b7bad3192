-- An automatic series' last failure to build a sendable edition, in words
-- for the series page ('' once a day goes out again).
ALTER TABLE series ADD COLUMN problem TEXT NOT NULL DEFAULT '';
