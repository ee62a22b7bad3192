-- One time zone: the publication's (local-time campaigns) and the
-- newsroom's (series slots, the admin's times) become the one setting
-- newsroom_time_zone. The publication's wins where it was set; it then
-- leaves the publication's settings document.
INSERT INTO settings (key, value, updated_at)
SELECT 'newsroom_time_zone', settings::jsonb ->> 'time_zone', updated_at
FROM publication
WHERE id = 1 AND COALESCE(settings::jsonb ->> 'time_zone', '') <> ''
ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at;

UPDATE publication SET settings = (settings::jsonb - 'time_zone')::text
WHERE settings::jsonb -> 'time_zone' IS NOT NULL;
