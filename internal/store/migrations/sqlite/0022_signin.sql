-- Sign-in: second factors (a TOTP secret with single-use recovery codes,
-- passkeys), password reset links, single sign-on identities, what each
-- session knows of its browser, and the short-lived challenges of the
-- passkey and single sign-on ceremonies.
--
-- totp_secret is the confirmed authenticator secret ('' without one);
-- totp_pending the one being enrolled, until its first code confirms it;
-- totp_last_step the time step of the last code accepted, so a code
-- cannot be used twice in its window.
ALTER TABLE users ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN totp_pending TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;

-- Recovery codes are kept as their SHA-256; used_at marks one spent.
CREATE TABLE recovery_codes (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    used_at    TIMESTAMP
);
CREATE INDEX recovery_codes_by_user ON recovery_codes (user_id);

-- A passkey: the WebAuthn credential (public key, sign count, flags) as
-- JSON, found by its credential ID (base64url).
CREATE TABLE passkeys (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    credential    TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    last_used_at  TIMESTAMP
);
CREATE INDEX passkeys_by_user ON passkeys (user_id);

-- stage: 'full' (signed in), 'second' (password accepted, second factor
-- awaited) or 'enrol' (must set up a second factor first). method says
-- how the session began (password, passkey, sso:NAME).
ALTER TABLE sessions ADD COLUMN stage TEXT NOT NULL DEFAULT 'full';
ALTER TABLE sessions ADD COLUMN method TEXT NOT NULL DEFAULT 'password';
ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN ip TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN last_seen_at TIMESTAMP;

-- A password reset request. The link names the row and is signed with the
-- secret key; used_at makes it single-use.
CREATE TABLE password_resets (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP
);
CREATE INDEX password_resets_by_user ON password_resets (user_id);

-- A user's account at a single sign-on provider (the ID token's sub).
CREATE TABLE user_identities (
    provider   TEXT NOT NULL,
    subject    TEXT NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX user_identities_by_user ON user_identities (user_id);

-- A ceremony in progress (passkey registration or sign-in, single sign-on
-- redirect), found by the SHA-256 of the value its cookie holds and used
-- once.
CREATE TABLE auth_challenges (
    id_hash    TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    user_id    INTEGER REFERENCES users (id) ON DELETE CASCADE,
    data       TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

-- The mail queue also carries password reset messages, which are about a
-- user, not a reader: subscriber_id and list_id become optional and
-- reset_id names the request. SQLite cannot change a CHECK constraint, so
-- the table is rebuilt (nothing refers to it).
CREATE TABLE mail_queue_new (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('confirm', 'welcome', 'password-reset')),
    subscriber_id INTEGER REFERENCES subscribers (id) ON DELETE CASCADE,
    list_id       INTEGER REFERENCES lists (id) ON DELETE CASCADE,
    reset_id      INTEGER REFERENCES password_resets (id) ON DELETE CASCADE,
    attempts      INTEGER NOT NULL DEFAULT 0,
    due_at        TIMESTAMP NOT NULL,
    last_error    TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMP NOT NULL,
    CHECK ((kind = 'password-reset') = (reset_id IS NOT NULL AND subscriber_id IS NULL AND list_id IS NULL))
);
INSERT INTO mail_queue_new (id, kind, subscriber_id, list_id, attempts, due_at, last_error, created_at)
    SELECT id, kind, subscriber_id, list_id, attempts, due_at, last_error, created_at FROM mail_queue;
DROP TABLE mail_queue;
ALTER TABLE mail_queue_new RENAME TO mail_queue;
CREATE INDEX mail_queue_due ON mail_queue (due_at);
