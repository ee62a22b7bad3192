-- Audience: saved segments a campaign can target, local-time delivery,
-- A/B subject tests.
CREATE TABLE segments (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    query      TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE campaign_segments (
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    segment_id  INTEGER NOT NULL REFERENCES segments (id),
    PRIMARY KEY (campaign_id, segment_id)
);

-- local_time ("07:00"): each row becomes due at that hour in its
-- subscriber's zone. ab_test: the A/B test as JSON, or ''. ab_winner: the
-- winning variant (1-based) once chosen, else 0.
ALTER TABLE campaigns ADD COLUMN local_time TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN ab_test TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN ab_winner INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN ab_decided_at TIMESTAMP;

-- Each A/B variant's subject and rendered copy, frozen at start.
CREATE TABLE campaign_variants (
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    variant     INTEGER NOT NULL,
    subject     TEXT NOT NULL,
    preheader   TEXT NOT NULL,
    html        BLOB NOT NULL,
    text        BLOB NOT NULL,
    PRIMARY KEY (campaign_id, variant)
);

-- The variant a row is sent with (0: the campaign's one content, or an
-- A/B row held until the winner is chosen).
ALTER TABLE deliveries ADD COLUMN variant INTEGER NOT NULL DEFAULT 0;

-- Claims read pending rows without a time by id, and rows with a time
-- (local-time pending rows, retries) by that time: neither reads a row that
-- is not due.
DROP INDEX deliveries_claim;
CREATE INDEX deliveries_due ON deliveries (campaign_id, status, next_attempt_at, id);

-- Segments test engagement per subscriber and kind ("opened within 30
-- days", "never clicked"): one index lookup each.
DROP INDEX events_by_subscriber;
CREATE INDEX events_by_subscriber ON events (subscriber_id, kind, at);
