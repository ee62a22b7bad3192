-- The editorial desk. sources are feeds (the publication's own site and
-- other publications) polled on a schedule; next_poll_at doubles as the
-- poller's lease: a node claims a due source by moving it forward, so one
-- node polls it at a time. source_items keeps each feed entry once.
CREATE TABLE sources (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name             TEXT NOT NULL,
    url              TEXT NOT NULL UNIQUE,
    own              BOOLEAN NOT NULL DEFAULT FALSE,
    publication      TEXT NOT NULL DEFAULT '',
    interval_seconds INTEGER NOT NULL DEFAULT 900,
    etag             TEXT NOT NULL DEFAULT '',
    last_modified    TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL DEFAULT 'new',
    last_error       TEXT NOT NULL DEFAULT '',
    polled_at        TIMESTAMPTZ,
    next_poll_at     TIMESTAMPTZ NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX sources_due ON sources (next_poll_at);

CREATE TABLE source_items (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id    BIGINT NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    guid         TEXT NOT NULL,
    url          TEXT NOT NULL,
    title        TEXT NOT NULL,
    author       TEXT NOT NULL DEFAULT '',
    summary      TEXT NOT NULL DEFAULT '',
    image_url    TEXT NOT NULL DEFAULT '',
    published_at TIMESTAMPTZ,
    fetched_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (source_id, guid)
);
CREATE INDEX source_items_fetched ON source_items (fetched_at);

-- A series is a recurring briefing: a slot (local time on some weekdays in
-- the newsroom's time zone), an audience, and a template each day's draft
-- starts from. An automatic series builds and sends its edition from a
-- source's new items (RSS-to-email); item_cursor is the newest item sent.
-- lease_until keeps two nodes from running one series' schedule at once.
CREATE TABLE series (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    weekdays       TEXT NOT NULL,
    slot_time      TEXT NOT NULL,
    slot           TEXT NOT NULL DEFAULT '',
    list_ids       TEXT NOT NULL,
    from_addr      TEXT NOT NULL DEFAULT '',
    template       TEXT NOT NULL,
    automatic      BOOLEAN NOT NULL DEFAULT FALSE,
    source_id      BIGINT REFERENCES sources (id) ON DELETE SET NULL,
    remind_before  INTEGER NOT NULL DEFAULT 60,
    remind_to      TEXT NOT NULL DEFAULT '',
    item_cursor    BIGINT NOT NULL DEFAULT 0,
    active         BOOLEAN NOT NULL DEFAULT TRUE,
    lease_until    TIMESTAMPTZ,
    created_at     TIMESTAMPTZ NOT NULL
);

-- One row per series and local date: the day's draft, whether an editor
-- marked it ready, the reminder, and the campaign that sent it.
CREATE TABLE series_runs (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    series_id   BIGINT NOT NULL REFERENCES series (id) ON DELETE CASCADE,
    date        TEXT NOT NULL,
    slot_at     TIMESTAMPTZ NOT NULL,
    edition_id  BIGINT REFERENCES editions (id) ON DELETE SET NULL,
    status      TEXT NOT NULL CHECK (status IN ('draft', 'ready', 'sent', 'empty')),
    reminded_at TIMESTAMPTZ,
    campaign_id BIGINT REFERENCES campaigns (id) ON DELETE SET NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (series_id, date)
);
