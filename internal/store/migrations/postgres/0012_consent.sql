-- Addresses erased at their owner's request, kept only as the SHA-256 (hex)
-- of the normalised, lower-cased address: nothing else about the person
-- stays, yet no import, signup or API call can add the address back.
CREATE TABLE erasures (
    email_sha256 TEXT PRIMARY KEY,
    created_at   TIMESTAMPTZ NOT NULL
);

-- Rows an import put on the suppression list (the file marked them
-- unsubscribed, cleaned or blocklisted).
ALTER TABLE import_jobs ADD COLUMN suppressed INTEGER NOT NULL DEFAULT 0;
