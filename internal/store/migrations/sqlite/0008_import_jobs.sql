-- CSV imports started from the admin: what was asked, how far they got
-- and the rows they rejected, so any node can show them and an import cut
-- short by a restart is finished by the node that holds its upload.
CREATE TABLE import_jobs (
    id            INTEGER PRIMARY KEY,
    file_name     TEXT NOT NULL,
    list_id       INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    list_name     TEXT NOT NULL,
    mode          TEXT NOT NULL,
    sub_status    TEXT NOT NULL DEFAULT '',
    upload        TEXT NOT NULL DEFAULT '',
    size          INTEGER NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('running', 'done', 'failed')),
    read_bytes    INTEGER NOT NULL DEFAULT 0,
    rows_read     INTEGER NOT NULL DEFAULT 0,
    imported      INTEGER NOT NULL DEFAULT 0,
    updated       INTEGER NOT NULL DEFAULT 0,
    skipped       INTEGER NOT NULL DEFAULT 0,
    rejected      INTEGER NOT NULL DEFAULT 0,
    message       TEXT NOT NULL DEFAULT '',
    rejects       BLOB NOT NULL DEFAULT '',
    rejects_cut   BOOLEAN NOT NULL DEFAULT FALSE,
    started_at    TIMESTAMP NOT NULL,
    heartbeat_at  TIMESTAMP NOT NULL,
    finished_at   TIMESTAMP
);
CREATE INDEX import_jobs_running ON import_jobs (state);
