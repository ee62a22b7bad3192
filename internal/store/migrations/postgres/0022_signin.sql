-- Sign-in: second factors (a TOTP secret with single-use recovery codes,
-- passkeys), password reset links, single sign-on identities, what each
-- session knows of its browser, and the short-lived challenges of the
-- passkey and single sign-on ceremonies. See the SQLite file for the
-- meaning of each column.
ALTER TABLE users ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN totp_pending TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;

CREATE TABLE recovery_codes (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX recovery_codes_by_user ON recovery_codes (user_id);

CREATE TABLE passkeys (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    credential    TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    last_used_at  TIMESTAMPTZ
);
CREATE INDEX passkeys_by_user ON passkeys (user_id);

ALTER TABLE sessions ADD COLUMN stage TEXT NOT NULL DEFAULT 'full';
ALTER TABLE sessions ADD COLUMN method TEXT NOT NULL DEFAULT 'password';
ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN ip TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN last_seen_at TIMESTAMPTZ;

CREATE TABLE password_resets (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX password_resets_by_user ON password_resets (user_id);

CREATE TABLE user_identities (
    provider   TEXT NOT NULL,
    subject    TEXT NOT NULL,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX user_identities_by_user ON user_identities (user_id);

CREATE TABLE auth_challenges (
    id_hash    TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    user_id    BIGINT REFERENCES users (id) ON DELETE CASCADE,
    data       TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

-- The mail queue also carries password reset messages, about a user.
ALTER TABLE mail_queue DROP CONSTRAINT mail_queue_kind_check;
ALTER TABLE mail_queue ADD CONSTRAINT mail_queue_kind_check CHECK (kind IN ('confirm', 'welcome', 'password-reset'));
ALTER TABLE mail_queue ALTER COLUMN subscriber_id DROP NOT NULL;
ALTER TABLE mail_queue ALTER COLUMN list_id DROP NOT NULL;
ALTER TABLE mail_queue ADD COLUMN reset_id BIGINT REFERENCES password_resets (id) ON DELETE CASCADE;
ALTER TABLE mail_queue ADD CONSTRAINT mail_queue_reset_check
    CHECK ((kind = 'password-reset') = (reset_id IS NOT NULL AND subscriber_id IS NULL AND list_id IS NULL));
