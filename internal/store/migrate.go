package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the dialect's migrations in version order. Files are
// named NNNN_name.sql; both dialects carry the same versions.
func (s *Store) migrations() ([]migration, error) {
	dir := "migrations/sqlite"
	if s.dialect == dialectPostgres {
		dir = "migrations/postgres"
	}
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration file %s is not named NNNN_name.sql", e.Name())
		}
		body, err := fs.ReadFile(migrationFiles, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: name, sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// SchemaVersion is the newest schema version this binary knows.
func (s *Store) SchemaVersion() (int, error) {
	ms, err := s.migrations()
	if err != nil || len(ms) == 0 {
		return 0, err
	}
	return ms[len(ms)-1].version, nil
}

// ErrSchemaTooNew is returned when the database was migrated by a newer
// Herald than this one.
var ErrSchemaTooNew = errors.New("the database schema is newer than this Herald binary")

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
)`

// checkVersion returns the database's schema version, refusing one newer
// than the binary knows.
func (s *Store) checkVersion(ctx context.Context) (int, error) {
	if _, err := s.w.ExecContext(ctx, createMigrationsTable); err != nil {
		return 0, fmt.Errorf("prepare the migrations table: %w", err)
	}
	var current sql.NullInt64
	if err := s.r.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&current); err != nil {
		return 0, fmt.Errorf("read the schema version: %w", err)
	}
	known, err := s.SchemaVersion()
	if err != nil {
		return 0, err
	}
	if int(current.Int64) > known {
		return 0, fmt.Errorf("%w: the database is at version %d, this binary knows up to %d; run a newer Herald",
			ErrSchemaTooNew, current.Int64, known)
	}
	return int(current.Int64), nil
}

// Migrate applies every pending migration, each in its own transaction, and
// returns the names of those it applied. On PostgreSQL an advisory lock keeps
// two nodes from migrating at once.
func (s *Store) Migrate(ctx context.Context) ([]string, error) {
	if _, err := s.checkVersion(ctx); err != nil {
		return nil, err
	}
	ms, err := s.migrations()
	if err != nil {
		return nil, err
	}
	var applied []string
	for _, m := range ms {
		done := false
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			if s.dialect == dialectPostgres {
				if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7210001, hashtext(current_schema()))`); err != nil {
					return err
				}
			}
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = $1`, m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				done = true
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.version, m.name, s.now().Format("2006-01-02T15:04:05Z"))
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
		}
		if !done {
			applied = append(applied, fmt.Sprintf("%04d_%s", m.version, m.name))
		}
	}
	return applied, nil
}
