-- A campaign may publish its edition (as the admin's Publish button does)
-- in the same transaction that starts it, whichever node starts it.
ALTER TABLE campaigns ADD COLUMN publish_on_start BOOLEAN NOT NULL DEFAULT FALSE;
