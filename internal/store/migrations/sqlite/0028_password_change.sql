-- A user whose password Herald generated (the first owner's one-time
-- password, `herald user create` without --password-stdin) is asked to
-- choose their own before anything else in the admin.
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
