-- The transport a campaign started with (smtp or outbox), so that a
-- restart without relays never sends its mail to the outbox, and why its
-- mail is waiting when that transport is missing.
ALTER TABLE campaign_content ADD COLUMN transport TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN problem TEXT NOT NULL DEFAULT '';
