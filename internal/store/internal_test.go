package store

import (
	"context"
	"strings"
)

// ForceSchemaVersionForTest records a schema version as applied, to test
// that a binary refuses a database newer than itself.
func (s *Store) ForceSchemaVersionForTest(ctx context.Context, v int) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'future', 'x')`, v)
	return err
}

// RerunMigrationUpdatesForTest runs again the UPDATE statements of a
// migration, as they ran on the data the database held then (to test a
// migration that reclassifies rows on rows written after it).
func (s *Store) RerunMigrationUpdatesForTest(ctx context.Context, version int) error {
	ms, err := s.migrations()
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.version != version {
			continue
		}
		for _, stmt := range strings.Split(m.sql, ";") {
			var code []string
			for _, line := range strings.Split(stmt, "\n") {
				if !strings.HasPrefix(strings.TrimSpace(line), "--") {
					code = append(code, line)
				}
			}
			if q := strings.TrimSpace(strings.Join(code, "\n")); strings.HasPrefix(q, "UPDATE") {
				if _, err := s.w.ExecContext(ctx, q); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
