-- Retention: opens and clicks older than retention_events_days, and the
-- ledger rows of campaigns finished more than retention_ledger_days ago,
-- are folded into these counts and deleted. Every total Herald shows is
-- the folded counts plus the raw rows still kept.

-- One campaign's events of one kind and class (human, machine, privacy:
-- see 0020) and, for clicks, one link, on one day (UTC, YYYY-MM-DD). uniq
-- counts each subscriber once per campaign and kind, at their last folded
-- event; class_uniq once per class too; link_uniq and link_class_uniq the
-- same per link.
CREATE TABLE event_counts (
    campaign_id     INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    class           TEXT NOT NULL,
    url             TEXT NOT NULL,
    day             TEXT NOT NULL,
    total           INTEGER NOT NULL,
    uniq            INTEGER NOT NULL,
    class_uniq      INTEGER NOT NULL,
    link_uniq       INTEGER NOT NULL,
    link_class_uniq INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, kind, class, url, day)
);

-- A finished campaign's ledger rows by A/B variant and status.
CREATE TABLE ledger_counts (
    campaign_id INTEGER NOT NULL,
    variant     INTEGER NOT NULL,
    status      TEXT NOT NULL,
    total       INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, variant, status)
);

-- Folding asks, for each old event, whether its subscriber has a later one
-- of the same kind in the campaign: one index probe with the subscriber in
-- the index (the campaign's counts read it without the table, too). This
-- rebuilds the index once, which takes a while on a large events table.
DROP INDEX events_by_campaign;
CREATE INDEX events_by_campaign ON events (campaign_id, kind, subscriber_id, at);
