package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"slices"
	"strconv"
	"time"

	"modernc.org/sqlite"
)

// Herald's SQL uses PostgreSQL's $1, $2 … placeholders, so that one
// statement serves both databases. SQLite accepts $N too, but resolves each
// by name with a linear search, which made a 500-row INSERT spend most of its
// time compiling (quadratic in its parameter count). The connector below
// rewrites $N to plain ? for SQLite, in order of appearance, and passes each
// statement the arguments in that order (repeating an argument used twice).

// sqliteConnector opens modernc SQLite connections that rebind placeholders.
type sqliteConnector struct {
	dsn string
	drv *sqlite.Driver
}

func (c *sqliteConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &rebindConn{conn}, nil
}

func (c *sqliteConnector) Driver() driver.Driver { return c.drv }

// rebind rewrites $N placeholders outside quoted text to ?, returning the
// argument index (0-based) each ? takes. A query without $ is returned as is.
func rebind(query string) (string, []int) {
	out := make([]byte, 0, len(query))
	var order []int
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(query) && query[j] != c {
				j++
			}
			out = append(out, query[i:min(j+1, len(query))]...)
			i = j
		case c == '$' && i+1 < len(query) && query[i+1] >= '0' && query[i+1] <= '9':
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			n, _ := strconv.Atoi(query[i+1 : j])
			order = append(order, n-1)
			out = append(out, '?')
			i = j - 1
		default:
			out = append(out, c)
		}
	}
	if order == nil {
		return query, nil
	}
	return string(out), order
}

var errArgCount = errors.New("sqlite: a placeholder refers to an argument that was not given")

// reorder returns the arguments in the order the rewritten query uses them,
// times in UTC. SQLite keeps a time as text and compares texts: one
// written with its zone's offset would sort wrongly against the store's
// own UTC times (a retry due in a minute, passed in New York's time, was
// due at once).
func reorder(args []driver.NamedValue, order []int) ([]driver.NamedValue, error) {
	if order == nil {
		var out []driver.NamedValue // a copy, made only when a time needs changing
		for i, a := range args {
			if t, ok := a.Value.(time.Time); ok && t.Location() != time.UTC {
				if out == nil {
					out = slices.Clone(args)
				}
				out[i].Value = t.UTC()
			}
		}
		if out == nil {
			return args, nil
		}
		return out, nil
	}
	out := make([]driver.NamedValue, len(order))
	for i, k := range order {
		if k < 0 || k >= len(args) {
			return nil, errArgCount
		}
		v := args[k].Value
		if t, ok := v.(time.Time); ok {
			v = t.UTC()
		}
		out[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return out, nil
}

type rebindConn struct {
	driver.Conn
}

type connFull interface {
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.ExecerContext
	driver.QueryerContext
}

func (c *rebindConn) inner() connFull { return c.Conn.(connFull) }

func (c *rebindConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	q, order := rebind(query)
	st, err := c.inner().PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	return &rebindStmt{st, order}, nil
}

func (c *rebindConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.inner().BeginTx(ctx, opts)
}

func (c *rebindConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	q, order := rebind(query)
	a, err := reorder(args, order)
	if err != nil {
		return nil, err
	}
	return c.inner().ExecContext(ctx, q, a)
}

func (c *rebindConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, order := rebind(query)
	a, err := reorder(args, order)
	if err != nil {
		return nil, err
	}
	return c.inner().QueryContext(ctx, q, a)
}

func (c *rebindConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

type rebindStmt struct {
	driver.Stmt
	order []int
}

// NumInput is unknown to database/sql: a reused $N appears more than once.
func (s *rebindStmt) NumInput() int { return -1 }

func (s *rebindStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	a, err := reorder(args, s.order)
	if err != nil {
		return nil, err
	}
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, a)
}

func (s *rebindStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	a, err := reorder(args, s.order)
	if err != nil {
		return nil, err
	}
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, a)
}
