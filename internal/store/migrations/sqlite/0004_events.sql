-- Opens, clicks, bounces, complaints and unsubscribes, written in batches.
CREATE TABLE events (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('open', 'click', 'bounce', 'soft_bounce', 'complaint', 'unsubscribe')),
    campaign_id   INTEGER,
    subscriber_id INTEGER,
    url           TEXT NOT NULL DEFAULT '',
    detail        TEXT NOT NULL DEFAULT '',
    at            TIMESTAMP NOT NULL
);
CREATE INDEX events_by_campaign ON events (campaign_id, kind, at);
CREATE INDEX events_by_subscriber ON events (subscriber_id);
