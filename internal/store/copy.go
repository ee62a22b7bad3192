package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// ErrTargetNotEmpty is returned by CopyTo when the PostgreSQL database
// already holds data (or tables Herald does not know): a copy goes only
// into an empty database, so that nothing there is mixed up or lost.
var ErrTargetNotEmpty = errors.New("the target database is not empty")

// CopyOptions are hooks for showing a copy's progress.
type CopyOptions struct {
	// Start hears the total number of rows to copy, before the first.
	Start func(total int64)
	// Table hears each table as its copy begins.
	Table func(name string, rows int64)
	// Rows hears rows as they are copied.
	Rows func(n int64)
}

// CopiedTable is one table of a copy: its rows in the source snapshot and
// in the target after the copy committed.
type CopiedTable struct {
	Name           string
	Source, Target int64
}

// CopyReport is what CopyTo did, table by table, in copy order.
type CopyReport struct {
	Tables []CopiedTable
	Rows   int64 // rows copied in all
}

// Mismatched returns the tables whose counts differ.
func (r CopyReport) Mismatched() []CopiedTable {
	var out []CopiedTable
	for _, t := range r.Tables {
		if t.Source != t.Target {
			out = append(out, t)
		}
	}
	return out
}

// CopyTo copies this SQLite installation, every table of its schema, into
// the empty PostgreSQL database at targetURL: one read snapshot of the
// source, the target migrated to the same schema version, each table
// streamed with COPY in foreign-key order inside one transaction (a failed
// copy leaves the target as empty as it was), identity sequences moved past
// the copied ids, and each table counted again after the commit. The table
// list is read from the schema, so a table added by a later migration is
// copied without a change here. Herald must not be running on the source.
func (s *Store) CopyTo(ctx context.Context, targetURL string, opt CopyOptions) (CopyReport, error) {
	var rep CopyReport
	if s.dialect != dialectSQLite {
		return rep, errors.New("copy reads an SQLite installation; this Herald runs on PostgreSQL already")
	}
	src, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return rep, fmt.Errorf("begin the read snapshot: %w", err)
	}
	defer src.Rollback()
	tables, err := sqliteTables(ctx, src)
	if err != nil {
		return rep, err
	}
	if err := checkTargetTables(ctx, targetURL, tables); err != nil {
		return rep, err
	}
	dst, err := Open(ctx, Options{DatabaseURL: targetURL})
	if err != nil {
		return rep, fmt.Errorf("open and migrate the target: %w", err)
	}
	defer dst.Close()
	var srcVersion, dstVersion int
	if err := src.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&srcVersion); err != nil {
		return rep, fmt.Errorf("read the source's schema version: %w", err)
	}
	if err := dst.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&dstVersion); err != nil {
		return rep, fmt.Errorf("read the target's schema version: %w", err)
	}
	if srcVersion != dstVersion {
		return rep, fmt.Errorf("the source is at schema version %d and the target at %d: run the same Herald on both", srcVersion, dstVersion)
	}
	plan, err := dst.copyPlan(ctx, src, tables)
	if err != nil {
		return rep, err
	}
	var total int64
	for _, t := range plan {
		if err := src.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+quoteIdent(t.name)).Scan(&t.rows); err != nil {
			return rep, fmt.Errorf("count %s: %w", t.name, err)
		}
		total += t.rows
	}
	if opt.Start != nil {
		opt.Start(total)
	}

	conn, err := dst.w.Conn(ctx)
	if err != nil {
		return rep, err
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		return pgx.BeginFunc(ctx, pc, func(tx pgx.Tx) error {
			for _, t := range plan {
				var n int64
				if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM `+quoteIdent(t.name)).Scan(&n); err != nil {
					return err
				}
				if n > 0 {
					return fmt.Errorf("%w: table %s has %d rows", ErrTargetNotEmpty, t.name, n)
				}
			}
			for _, t := range plan {
				if opt.Table != nil {
					opt.Table(t.name, t.rows)
				}
				if err := copyTable(ctx, src, tx, t, opt.Rows); err != nil {
					return fmt.Errorf("copy %s: %w", t.name, err)
				}
				for _, col := range t.identity {
					// The next id follows the largest copied one.
					q := fmt.Sprintf(`SELECT setval(pg_get_serial_sequence($1, $2), COALESCE(MAX(%s), 0) + 1, false) FROM %s`,
						quoteIdent(col), quoteIdent(t.name))
					if _, err := tx.Exec(ctx, q, t.name, col); err != nil {
						return fmt.Errorf("reset the sequence of %s.%s: %w", t.name, col, err)
					}
				}
			}
			return nil
		})
	})
	if err != nil {
		return rep, err
	}
	for _, t := range plan {
		ct := CopiedTable{Name: t.name, Source: t.rows}
		if err := dst.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+quoteIdent(t.name)).Scan(&ct.Target); err != nil {
			return rep, fmt.Errorf("count %s in the target: %w", t.name, err)
		}
		rep.Tables = append(rep.Tables, ct)
		rep.Rows += ct.Target
	}
	return rep, nil
}

// copyTablePlan is how one table is copied.
type copyTablePlan struct {
	name     string
	columns  []string
	convert  []func(any) (any, error) // by column, into the target's type
	identity []string                 // identity columns whose sequence to reset
	rows     int64                    // in the source snapshot
}

// sqliteTables lists the source's tables: every table of the schema but
// SQLite's own and the migrations table (which the target's migrations
// write).
func sqliteTables(ctx context.Context, src *sql.Tx) ([]string, error) {
	rows, err := src.QueryContext(ctx, `SELECT name FROM sqlite_master
		WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list the source's tables: %w", err)
	}
	return scanStrings(rows)
}

// scanStrings reads a one-column text result and closes it.
func scanStrings(rows *sql.Rows) ([]string, error) {
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// checkTargetTables refuses a target schema holding a table that is not
// Herald's before anything is written to it.
func checkTargetTables(ctx context.Context, targetURL string, known []string) error {
	db, err := sql.Open("pgx", targetURL)
	if err != nil {
		return fmt.Errorf("open the target: %w", err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() ORDER BY table_name`)
	if err != nil {
		return fmt.Errorf("connect to the target: %w", err)
	}
	have, err := scanStrings(rows)
	if err != nil {
		return fmt.Errorf("list the target's tables: %w", err)
	}
	ours := map[string]bool{"schema_migrations": true}
	for _, t := range known {
		ours[t] = true
	}
	for _, t := range have {
		if !ours[t] {
			return fmt.Errorf("%w: it has a table %s that is not Herald's; copy into a new database or schema", ErrTargetNotEmpty, t)
		}
	}
	return nil
}

// copyPlan matches each source table with the target's: the same columns,
// converters into the target's types, and an order in which every row's
// foreign keys point at rows already copied.
func (dst *Store) copyPlan(ctx context.Context, src *sql.Tx, tables []string) ([]*copyTablePlan, error) {
	type column struct{ name, typ, identity string }
	targetCols := map[string][]column{}
	rows, err := dst.r.QueryContext(ctx, `SELECT table_name, column_name, data_type, is_identity
		FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`)
	if err != nil {
		return nil, fmt.Errorf("read the target's columns: %w", err)
	}
	for rows.Next() {
		var t string
		var c column
		if err := rows.Scan(&t, &c.name, &c.typ, &c.identity); err != nil {
			rows.Close()
			return nil, err
		}
		targetCols[t] = append(targetCols[t], c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var plan []*copyTablePlan
	for _, name := range tables {
		tc, ok := targetCols[name]
		if !ok {
			return nil, fmt.Errorf("table %s is in the source but not in the target's schema", name)
		}
		r, err := src.QueryContext(ctx, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, name)
		if err != nil {
			return nil, fmt.Errorf("read the columns of %s: %w", name, err)
		}
		srcCols, err := scanStrings(r)
		if err != nil {
			return nil, err
		}
		byName := map[string]column{}
		for _, c := range tc {
			byName[c.name] = c
		}
		if len(srcCols) != len(tc) {
			return nil, fmt.Errorf("table %s has %d columns in the source and %d in the target", name, len(srcCols), len(tc))
		}
		p := &copyTablePlan{name: name}
		for _, col := range srcCols {
			c, ok := byName[col]
			if !ok {
				return nil, fmt.Errorf("column %s.%s is in the source but not in the target", name, col)
			}
			conv, err := converter(c.typ)
			if err != nil {
				return nil, fmt.Errorf("column %s.%s: %w", name, col, err)
			}
			p.columns = append(p.columns, col)
			p.convert = append(p.convert, conv)
			if c.identity == "YES" {
				p.identity = append(p.identity, col)
			}
		}
		plan = append(plan, p)
	}
	return dst.foreignKeyOrder(ctx, plan)
}

// foreignKeyOrder sorts tables so that each comes after the tables its
// foreign keys (in the target) refer to; ties keep name order.
func (dst *Store) foreignKeyOrder(ctx context.Context, plan []*copyTablePlan) ([]*copyTablePlan, error) {
	rows, err := dst.r.QueryContext(ctx, `SELECT c.relname, p.relname FROM pg_constraint k
		JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
		WHERE k.contype = 'f' AND k.connamespace = current_schema()::regnamespace`)
	if err != nil {
		return nil, fmt.Errorf("read the target's foreign keys: %w", err)
	}
	deps := map[string][]string{}
	for rows.Next() {
		var child, parent string
		if err := rows.Scan(&child, &parent); err != nil {
			rows.Close()
			return nil, err
		}
		if child != parent {
			deps[child] = append(deps[child], parent)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	byName := map[string]*copyTablePlan{}
	for _, p := range plan {
		byName[p.name] = p
	}
	sort.Slice(plan, func(i, j int) bool { return plan[i].name < plan[j].name })
	var out []*copyTablePlan
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(name string) error
	visit = func(name string) error {
		switch state[name] {
		case 1:
			return fmt.Errorf("the foreign keys of table %s form a cycle", name)
		case 2:
			return nil
		}
		state[name] = 1
		parents := deps[name]
		sort.Strings(parents)
		for _, parent := range parents {
			if _, ok := byName[parent]; ok {
				if err := visit(parent); err != nil {
					return err
				}
			}
		}
		state[name] = 2
		out = append(out, byName[name])
		return nil
	}
	for _, p := range plan {
		if err := visit(p.name); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// copyTable streams one table from the snapshot into the target with COPY.
func copyTable(ctx context.Context, src *sql.Tx, tx pgx.Tx, t *copyTablePlan, progress func(int64)) error {
	cols := make([]string, len(t.columns))
	for i, c := range t.columns {
		cols[i] = quoteIdent(c)
	}
	rows, err := src.QueryContext(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM `+quoteIdent(t.name))
	if err != nil {
		return err
	}
	defer rows.Close()
	rs := &rowSource{rows: rows, plan: t, raw: make([]any, len(cols)), ptrs: make([]any, len(cols)), out: make([]any, len(cols)), progress: progress}
	for i := range rs.raw {
		rs.ptrs[i] = &rs.raw[i]
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, t.columns, rs)
	if err != nil {
		return err
	}
	if progress != nil && rs.pending > 0 {
		progress(rs.pending)
	}
	if n != t.rows {
		return fmt.Errorf("copied %d rows of %d", n, t.rows)
	}
	return nil
}

// rowSource feeds COPY from the source's rows, converting each value.
type rowSource struct {
	rows     *sql.Rows
	plan     *copyTablePlan
	raw      []any
	ptrs     []any
	out      []any
	err      error
	progress func(int64)
	pending  int64
}

func (r *rowSource) Next() bool {
	if r.err != nil || !r.rows.Next() {
		return false
	}
	if err := r.rows.Scan(r.ptrs...); err != nil {
		r.err = err
		return false
	}
	for i, v := range r.raw {
		c, err := r.plan.convert[i](v)
		if err != nil {
			r.err = fmt.Errorf("column %s: %w", r.plan.columns[i], err)
			return false
		}
		r.out[i] = c
	}
	if r.progress != nil {
		if r.pending++; r.pending == 10_000 {
			r.progress(r.pending)
			r.pending = 0
		}
	}
	return true
}

func (r *rowSource) Values() ([]any, error) { return r.out, nil }

func (r *rowSource) Err() error {
	if r.err != nil {
		return r.err
	}
	return r.rows.Err()
}

// converter turns a value as SQLite gives it into one for a PostgreSQL
// column of type typ (information_schema's data_type).
func converter(typ string) (func(any) (any, error), error) {
	switch typ {
	case "text", "character varying":
		return func(v any) (any, error) {
			switch x := v.(type) {
			case []byte:
				return string(x), nil
			case int64:
				return strconv.FormatInt(x, 10), nil
			case float64:
				return strconv.FormatFloat(x, 'g', -1, 64), nil
			case time.Time:
				return x.UTC().Format(time.RFC3339Nano), nil
			}
			return v, nil
		}, nil
	case "jsonb", "json":
		return func(v any) (any, error) {
			if b, ok := v.([]byte); ok {
				return string(b), nil
			}
			return v, nil
		}, nil
	case "bigint", "integer", "smallint":
		return func(v any) (any, error) {
			switch x := v.(type) {
			case nil, int64:
				return v, nil
			case bool:
				if x {
					return int64(1), nil
				}
				return int64(0), nil
			case float64:
				return int64(x), nil
			case string:
				return strconv.ParseInt(x, 10, 64)
			}
			return nil, fmt.Errorf("%T is not a whole number", v)
		}, nil
	case "double precision", "real", "numeric":
		return func(v any) (any, error) {
			if x, ok := v.(int64); ok {
				return float64(x), nil
			}
			return v, nil
		}, nil
	case "boolean":
		return func(v any) (any, error) {
			switch x := v.(type) {
			case nil, bool:
				return v, nil
			case int64:
				return x != 0, nil
			case string:
				return strconv.ParseBool(x)
			}
			return nil, fmt.Errorf("%T is not a boolean", v)
		}, nil
	case "bytea":
		return func(v any) (any, error) {
			if s, ok := v.(string); ok {
				return []byte(s), nil
			}
			return v, nil
		}, nil
	case "timestamp with time zone", "timestamp without time zone":
		return func(v any) (any, error) {
			switch x := v.(type) {
			case nil, time.Time:
				return v, nil
			case string:
				return parseSQLiteTime(x)
			case []byte:
				return parseSQLiteTime(string(x))
			case int64:
				return time.Unix(x, 0).UTC(), nil
			}
			return nil, fmt.Errorf("%T is not a time", v)
		}, nil
	}
	return nil, fmt.Errorf("copy does not know the PostgreSQL type %q", typ)
}

// sqliteTimeLayouts are the ways times are written in Herald's SQLite
// files: the driver's own format and RFC 3339 text.
var sqliteTimeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02",
}

func parseSQLiteTime(s string) (time.Time, error) {
	for _, l := range sqliteTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time", s)
}

// quoteIdent quotes a table or column name read from the schema.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
