package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/model"
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

// RunMigrationForTest runs the statements in setup, then migration
// version's SQL again: data as an older binary left it, migrated.
func (s *Store) RunMigrationForTest(ctx context.Context, version int, setup ...string) error {
	ms, err := s.migrations()
	if err != nil {
		return err
	}
	for _, q := range setup {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	for _, m := range ms {
		if m.version == version {
			_, err := s.w.ExecContext(ctx, m.sql)
			return err
		}
	}
	return fmt.Errorf("no migration %d", version)
}

// PublicationDocForTest returns the publication's stored settings document.
func (s *Store) PublicationDocForTest(ctx context.Context) (string, error) {
	var doc string
	err := s.r.QueryRowContext(ctx, `SELECT settings FROM publication WHERE id = 1`).Scan(&doc)
	return doc, err
}

// SQLitePragmaForTest reads a PRAGMA on the writer's connection.
func (s *Store) SQLitePragmaForTest(ctx context.Context, name string) (string, error) {
	var v string
	err := s.w.QueryRowContext(ctx, `PRAGMA `+name).Scan(&v)
	return v, err
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

// SignupForTest is one signup of SignupsTogetherForTest.
type SignupForTest struct {
	Email string
	List  *model.List
}

// SignupsTogetherForTest writes signups in one batch, as signups that
// arrive together are (see signupGroup), and returns each one's outcome
// and error.
func (s *Store) SignupsTogetherForTest(ctx context.Context, signups ...SignupForTest) ([]SignupOutcome, []error) {
	batch := make([]*signupReq, len(signups))
	for i, su := range signups {
		batch[i] = &signupReq{ctx: ctx, email: su.Email, list: su.List, source: model.SourceForm, ready: make(chan struct{})}
	}
	s.signupBatch(ctx, batch)
	outs, errs := make([]SignupOutcome, len(batch)), make([]error, len(batch))
	for i, r := range batch {
		outs[i], errs[i] = r.out, r.err
	}
	return outs, errs
}

// DanglingReferencesForTest counts the rows that refer to a row that does
// not exist: on SQLite every foreign key PRAGMA foreign_key_check finds
// (the import connection does not check them as it writes); on PostgreSQL,
// which always checks, subscriptions without their list or subscriber.
func (s *Store) DanglingReferencesForTest(ctx context.Context) (int, error) {
	if s.dialect == dialectPostgres {
		var n int
		err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM subscriptions sn
			WHERE NOT EXISTS (SELECT 1 FROM subscribers sb WHERE sb.id = sn.subscriber_id)
			OR NOT EXISTS (SELECT 1 FROM lists l WHERE l.id = sn.list_id)`).Scan(&n)
		return n, err
	}
	rows, err := s.w.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}

// SubscriptionStartsForTest returns, by address, when each subscriber on
// a list was created and when its subscription to the list began.
func (s *Store) SubscriptionStartsForTest(ctx context.Context, listID int64) (map[string][2]time.Time, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT sb.email, sb.created_at, sn.created_at FROM subscriptions sn
		JOIN subscribers sb ON sb.id = sn.subscriber_id WHERE sn.list_id = $1`, listID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][2]time.Time{}
	for rows.Next() {
		var email string
		var t [2]time.Time
		if err := rows.Scan(&email, &t[0], &t[1]); err != nil {
			return nil, err
		}
		out[email] = t
	}
	return out, rows.Err()
}
