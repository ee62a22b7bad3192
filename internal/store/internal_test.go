package store

import (
	"context"
)

// ForceSchemaVersionForTest records a schema version as applied, to test
// that a binary refuses a database newer than itself.
func (s *Store) ForceSchemaVersionForTest(ctx context.Context, v int) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'future', 'x')`, v)
	return err
}

// ExecForTest runs a statement on the writer, to test what the schema
// itself refuses.
func (s *Store) ExecForTest(ctx context.Context, q string, args ...any) error {
	_, err := s.w.ExecContext(ctx, q, args...)
	return err
}
