-- Confirmation and welcome messages due to one reader about one list. A
-- row is written in the same transaction as the signup or confirmation
-- that asks for it, so a crash cannot lose the message; it is deleted once
-- the message is sent (or given up). due_at is the next try: a sender's
-- claim moves it to the end of its lease, a temporary failure to the retry.
CREATE TABLE mail_queue (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('confirm', 'welcome')),
    subscriber_id BIGINT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    list_id       BIGINT NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    attempts      INTEGER NOT NULL DEFAULT 0,
    due_at        TIMESTAMPTZ NOT NULL,
    last_error    TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX mail_queue_due ON mail_queue (due_at);
