-- The transactional API: API tokens may have the sender role (send
-- messages and nothing else), and each Idempotency-Key a token sends with
-- a message is kept for a day with the request's hash and, once the
-- message is handed to the transport, the answer given, so a retry gets
-- the same answer instead of a second message. status is 0 while the
-- request is under way (started_at says since when).
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_role_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_role_check CHECK (role IN ('owner', 'editor', 'author', 'viewer', 'sender'));

CREATE TABLE idempotency_keys (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_id     BIGINT NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    idem_key     TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL DEFAULT 0,
    response     TEXT NOT NULL DEFAULT '',
    started_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (token_id, idem_key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
