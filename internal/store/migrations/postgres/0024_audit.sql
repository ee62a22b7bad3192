-- The audit log: one row per change a person made through the admin, the
-- API or the command line, written in the change's own transaction. Rows
-- are never updated (a trigger refuses it); they are deleted only by
-- retention, oldest first. user_id has no foreign key: a deleted user's
-- actions stay on record under their name.
CREATE TABLE audit_log (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      TIMESTAMPTZ NOT NULL,
    user_id BIGINT,
    actor   TEXT NOT NULL,
    via     TEXT NOT NULL CHECK (via IN ('admin', 'api', 'cli')),
    ip      TEXT NOT NULL DEFAULT '',
    action  TEXT NOT NULL,
    object  TEXT NOT NULL DEFAULT '',
    changes TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_object ON audit_log (object, id);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log rows are append-only';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
