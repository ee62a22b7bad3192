-- Editions, their revision history, and the publication's settings.

-- The publication: one row, its settings as JSON (model.Publication).
CREATE TABLE publication (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    settings    TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

-- An edition's searchable fields are columns; its content (preheader, hero
-- image, sections) is JSON, the structured edition as model.Edition holds it.
CREATE TABLE editions (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug         TEXT NOT NULL UNIQUE,
    date         TEXT NOT NULL,
    slot         TEXT NOT NULL DEFAULT '',
    subject      TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    public       BOOLEAN NOT NULL DEFAULT FALSE,
    content      TEXT NOT NULL,
    revision     INTEGER NOT NULL DEFAULT 1,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    published_at TIMESTAMPTZ
);
CREATE INDEX editions_by_date ON editions (date, id);

-- Every saved state of every edition, the current one included.
CREATE TABLE edition_revisions (
    edition_id  BIGINT NOT NULL REFERENCES editions (id) ON DELETE CASCADE,
    revision    INTEGER NOT NULL,
    edition     TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (edition_id, revision)
);
