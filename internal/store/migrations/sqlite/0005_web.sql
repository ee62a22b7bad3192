-- Soft bounces counted per address: enough of them in a row suppress it.
CREATE TABLE soft_bounces (
    email      TEXT PRIMARY KEY,
    count      INTEGER NOT NULL,
    first_at   TIMESTAMP NOT NULL,
    last_at    TIMESTAMP NOT NULL,
    detail     TEXT NOT NULL DEFAULT ''
);
