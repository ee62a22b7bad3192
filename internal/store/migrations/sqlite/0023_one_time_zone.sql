-- One time zone: the publication's (local-time campaigns) and the
-- newsroom's (series slots, the admin's times) become the one setting
-- newsroom_time_zone. The publication's wins where it was set; it then
-- leaves the publication's settings document.
INSERT INTO settings (key, value, updated_at)
SELECT 'newsroom_time_zone', json_extract(settings, '$.time_zone'), updated_at
FROM publication
WHERE id = 1 AND COALESCE(json_extract(settings, '$.time_zone'), '') <> ''
ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at;

UPDATE publication SET settings = json_remove(settings, '$.time_zone')
WHERE json_type(settings, '$.time_zone') IS NOT NULL;
