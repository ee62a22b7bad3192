-- The transactional API: API tokens may have the sender role (send
-- messages and nothing else), and each Idempotency-Key a token sends with
-- a message is kept for a day with the request's hash and, once the
-- message is handed to the transport, the answer given, so a retry gets
-- the same answer instead of a second message. status is 0 while the
-- request is under way (started_at says since when).
--
-- SQLite cannot change a CHECK constraint: api_tokens is rebuilt with the
-- new one (nothing refers to it yet).
CREATE TABLE api_tokens_new (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'author', 'viewer', 'sender')),
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP
);
INSERT INTO api_tokens_new (id, user_id, name, role, prefix, hash, created_at, last_used_at)
    SELECT id, user_id, name, role, prefix, hash, created_at, last_used_at FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_new RENAME TO api_tokens;

CREATE TABLE idempotency_keys (
    id           INTEGER PRIMARY KEY,
    token_id     INTEGER NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    idem_key     TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL DEFAULT 0,
    response     TEXT NOT NULL DEFAULT '',
    started_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    UNIQUE (token_id, idem_key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
