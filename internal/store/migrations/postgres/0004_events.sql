-- Opens, clicks, bounces, complaints and unsubscribes, written in batches.
CREATE TABLE events (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('open', 'click', 'bounce', 'soft_bounce', 'complaint', 'unsubscribe')),
    campaign_id   BIGINT,
    subscriber_id BIGINT,
    url           TEXT NOT NULL DEFAULT '',
    detail        TEXT NOT NULL DEFAULT '',
    at            TIMESTAMPTZ NOT NULL
);
CREATE INDEX events_by_campaign ON events (campaign_id, kind, at);
CREATE INDEX events_by_subscriber ON events (subscriber_id);
