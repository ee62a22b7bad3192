-- Campaigns, their audience, what they froze at start, and the delivery ledger.
CREATE TABLE campaigns (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL,
    edition_id  BIGINT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('draft', 'scheduled', 'sending', 'paused', 'sent', 'cancelled')),
    from_addr   TEXT NOT NULL,
    reply_to    TEXT NOT NULL DEFAULT '',
    relay       TEXT NOT NULL DEFAULT '',
    send_at     TIMESTAMPTZ,
    tracking    BOOLEAN NOT NULL DEFAULT TRUE,
    total       BIGINT NOT NULL DEFAULT 0,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    started_at  TIMESTAMPTZ,
    done_at     TIMESTAMPTZ
);
CREATE INDEX campaigns_by_status ON campaigns (status);

CREATE TABLE campaign_lists (
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    list_id     BIGINT NOT NULL REFERENCES lists (id),
    PRIMARY KEY (campaign_id, list_id)
);

-- The rendered edition, frozen when the campaign starts.
CREATE TABLE campaign_content (
    campaign_id BIGINT PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
    subject     TEXT NOT NULL,
    prefix      TEXT NOT NULL,
    html        BYTEA NOT NULL,
    text        BYTEA NOT NULL,
    links       TEXT NOT NULL
);

-- One row per recipient. Its status changes in the database before and
-- after every SMTP transaction; lease_until bounds a worker's claim.
CREATE TABLE deliveries (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id     BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    subscriber_id   BIGINT,
    email           TEXT NOT NULL,
    name            TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'deferred', 'failed', 'skipped')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    lease_until     TIMESTAMPTZ,
    next_attempt_at TIMESTAMPTZ,
    last_reply      TEXT NOT NULL DEFAULT '',
    updated_at      TIMESTAMPTZ,
    UNIQUE (campaign_id, email)
);
CREATE INDEX deliveries_claim ON deliveries (campaign_id, status, id);
CREATE INDEX deliveries_by_subscriber ON deliveries (subscriber_id);
