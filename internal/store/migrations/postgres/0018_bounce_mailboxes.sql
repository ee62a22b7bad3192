-- Bounce mailboxes: the IMAP mailboxes Herald reads bounce reports from.
-- A node polls one only while it holds the row's lease (next_poll_at in
-- the future, set when it claims the row), so one node of a cluster reads
-- it at a time; a node that dies lets the lease run out.
CREATE TABLE bounce_mailboxes (
    name          TEXT PRIMARY KEY,
    next_poll_at  TIMESTAMPTZ NOT NULL,
    last_poll_at  TIMESTAMPTZ,
    last_problem  TEXT NOT NULL DEFAULT '',
    recorded      BIGINT NOT NULL DEFAULT 0
);
