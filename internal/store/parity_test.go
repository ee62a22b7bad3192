package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestMigrationsDefineTheSameSchema migrates a SQLite file and a PostgreSQL
// schema, reads back from each database what the migrations made (tables,
// their columns, and the indexes created by name) and compares them. The
// two dialects' migrations are written by hand side by side; this is what
// keeps them from drifting (a column added to one only, an index forgotten).
// Column types are not compared: the dialects spell them differently.
func TestMigrationsDefineTheSameSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "herald.db")
	lite, err := store.Open(ctx, store.Options{SQLitePath: path})
	if err != nil {
		t.Fatal(err)
	}
	lite.Close()
	pgURL := storetest.PostgresURL(t)
	pg, err := store.Open(ctx, store.Options{DatabaseURL: pgURL})
	if err != nil {
		t.Fatal(err)
	}
	pg.Close()

	sqliteDB, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer sqliteDB.Close()
	pgDB, err := sql.Open("pgx", pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pgDB.Close()

	want := sqliteSchema(t, sqliteDB)
	got := postgresSchema(t, pgDB)
	if len(want) < 20 {
		t.Fatalf("read only %d schema lines from SQLite: %v", len(want), want)
	}
	t.Logf("compared %d lines of schema (%d indexes)", len(want), countPrefix(want, "index "))
	if missing, extra := difference(want, got), difference(got, want); len(missing)+len(extra) > 0 {
		t.Errorf("the migrations disagree:\n  only in SQLite:     %s\n  only in PostgreSQL: %s",
			strings.Join(missing, "\n                      "), strings.Join(extra, "\n                      "))
	}
}

// sqliteSchema lists "table T", "column T.C" and "index T.NAME (cols)".
func sqliteSchema(t *testing.T, db *sql.DB) []string {
	t.Helper()
	var out []string
	tables := queryStrings(t, db, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	for _, table := range tables {
		out = append(out, "table "+table)
		for _, col := range queryStrings(t, db, `SELECT name FROM pragma_table_info(?)`, table) {
			out = append(out, "column "+table+"."+col)
		}
		// Only indexes made by CREATE INDEX: SQLite's automatic ones
		// (primary keys, UNIQUE constraints) have no SQL.
		for _, idx := range queryStrings(t, db, `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL`, table) {
			cols := queryStrings(t, db, `SELECT COALESCE(name, '(expression)') FROM pragma_index_info(?) ORDER BY seqno`, idx)
			out = append(out, fmt.Sprintf("index %s.%s (%s)", table, idx, strings.Join(cols, ", ")))
		}
	}
	slices.Sort(out)
	return out
}

// postgresSchema lists the same for the current schema (search_path).
func postgresSchema(t *testing.T, db *sql.DB) []string {
	t.Helper()
	var out []string
	tables := queryStrings(t, db, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`)
	for _, table := range tables {
		out = append(out, "table "+table)
		for _, col := range queryStrings(t, db, `SELECT column_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1`, table) {
			out = append(out, "column "+table+"."+col)
		}
		// Only indexes made by CREATE INDEX: not those backing a primary
		// key or UNIQUE constraint.
		rows := queryPairs(t, db, `SELECT i.relname, COALESCE(string_agg(
				CASE WHEN k.attnum = 0 THEN '(expression)' ELSE a.attname END, ', ' ORDER BY k.ord), '')
			FROM pg_index x
			JOIN pg_class i ON i.oid = x.indexrelid
			JOIN pg_class c ON c.oid = x.indrelid
			JOIN pg_namespace n ON n.oid = c.relnamespace
			CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
			LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
			WHERE n.nspname = current_schema() AND c.relname = $1
			  AND NOT EXISTS (SELECT 1 FROM pg_constraint p WHERE p.conindid = x.indexrelid)
			GROUP BY i.relname`, table)
		for _, r := range rows {
			out = append(out, fmt.Sprintf("index %s.%s (%s)", table, r[0], r[1]))
		}
	}
	slices.Sort(out)
	return out
}

func queryStrings(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	var out []string
	for _, r := range queryPairs(t, db, q, args...) {
		out = append(out, r[0])
	}
	return out
}

// queryPairs runs q and returns its rows, one or two text columns each.
func queryPairs(t *testing.T, db *sql.DB, q string, args ...any) [][2]string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][2]string
	for rows.Next() {
		var r [2]string
		dest := []any{&r[0]}
		if len(cols) > 1 {
			dest = append(dest, &r[1])
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// difference returns the lines of a that b lacks.
func difference(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

func countPrefix(lines []string, prefix string) int {
	n := 0
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}
