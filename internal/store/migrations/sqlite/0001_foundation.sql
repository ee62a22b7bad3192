-- Subscribers, lists, subscriptions and suppressions.
CREATE TABLE subscribers (
    id          INTEGER PRIMARY KEY,
    email       TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL DEFAULT '',
    attributes  TEXT NOT NULL DEFAULT '{}',
    status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'blocklisted')),
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

CREATE TABLE lists (
    id          INTEGER PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    opt_in      TEXT NOT NULL CHECK (opt_in IN ('single', 'double')),
    public      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

CREATE TABLE subscriptions (
    list_id       INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    status        TEXT NOT NULL CHECK (status IN ('unconfirmed', 'confirmed', 'unsubscribed')),
    source        TEXT NOT NULL,
    -- How the subscription began: the first entry of its history.
    -- subscription_log holds every change after that.
    first_status  TEXT NOT NULL,
    first_source  TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (list_id, subscriber_id)
) WITHOUT ROWID;
CREATE INDEX subscriptions_by_subscriber ON subscriptions (subscriber_id);

-- Every change of a subscription after it began: when, to what, and where
-- it came from. (Its beginning is in the subscription row, so a bulk import
-- writes one row per subscription, not two.)
-- No foreign keys: the checks cost a third of an import's time, and the
-- store deletes a subscriber's or a list's history itself.
CREATE TABLE subscription_log (
    id            INTEGER PRIMARY KEY,
    list_id       INTEGER NOT NULL,
    subscriber_id INTEGER NOT NULL,
    status        TEXT NOT NULL,
    source        TEXT NOT NULL,
    at            TIMESTAMP NOT NULL
);
CREATE INDEX subscription_log_by_subscriber ON subscription_log (subscriber_id, at);

-- Addresses that must never be mailed, whatever list they are on.
CREATE TABLE suppressions (
    email      TEXT PRIMARY KEY,
    reason     TEXT NOT NULL CHECK (reason IN ('hard_bounce', 'complaint', 'unsubscribe', 'manual')),
    detail     TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);

-- Small named settings (publication, secrets generated on first run).
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
