// Package store is Herald's one storage API. The same methods, and for the
// most part the same SQL, run on an embedded SQLite file (the default, one
// writer connection in WAL mode) and on PostgreSQL (several nodes sharing one
// database). Every method takes a context; not-found and conflicts are
// reported as ErrNotFound and ErrConflict, wrapped with what was looked for.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/herald-news/herald/internal/secretbox"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Errors the store returns, wrapped with detail; test with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
	// ErrStale: the record was saved by someone else since the caller
	// read it, so saving the caller's copy would lose their change.
	ErrStale = errors.New("changed since it was read")
	// ErrInUse: the record cannot go while others refer to it (a segment
	// that is a campaign's audience).
	ErrInUse = errors.New("in use")
	// ErrErased: the address was erased at its owner's request. Herald
	// keeps only its hash, so that it is never added again.
	ErrErased = errors.New("the address was erased at its owner's request")
)

// InUseError says what refers to a record that cannot be deleted; it
// reads as a sentence for the person who asked, and is ErrInUse.
type InUseError struct {
	Msg string
}

func (e *InUseError) Error() string { return e.Msg }

// Unwrap makes errors.Is(err, ErrInUse) true.
func (e *InUseError) Unwrap() error { return ErrInUse }

// Options says which database to open.
type Options struct {
	// DatabaseURL selects PostgreSQL (postgres:// or postgresql://). Empty
	// means SQLite at SQLitePath.
	DatabaseURL string
	// SQLitePath is the SQLite database file; its folder is created.
	SQLitePath string
	// NoMigrate opens without applying pending migrations; the schema
	// version is still checked.
	NoMigrate bool
	// Synchronous is SQLite's synchronous setting: "normal" (the default,
	// also for ""; in WAL mode a commit is safe from a crash of Herald but
	// the last ones can be lost to a power cut or an OS crash) or "full"
	// (each commit is on the disk before it returns).
	Synchronous string
	// Box seals the secrets the store keeps (settings whose key names a
	// secret, webhook signing secrets) with the master key; nil keeps
	// them clear, and a sealed one found is then an error saying so.
	Box *secretbox.Box
}

// Store is a handle on Herald's database. It is safe for concurrent use.
type Store struct {
	// w takes every write. On SQLite it holds exactly one connection, so
	// writers queue in Go instead of spinning on SQLITE_BUSY; on PostgreSQL
	// w and r are the same pool.
	w, r *sql.DB
	// imp is SQLite's import connection: it writes import batches without
	// checking foreign keys, which ImportBatch proves itself, and only
	// while holding w's connection, so there is still one writer at a
	// time. Nil on PostgreSQL.
	imp     *sql.DB
	dialect dialect
	now     func() time.Time
	path    string // the SQLite file; "" on PostgreSQL
	box     *secretbox.Box
	schema  string // PostgreSQL's current schema; "" on SQLite

	// stmts caches prepared writer statements that hot loops run again and
	// again (full import chunks), so SQLite parses each once.
	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt
	// chunk is a full import chunk's statements, on imp; chunkMu guards
	// it apart from stmtMu, so preparing it (which waits for the import
	// connection) holds up no other statement.
	chunkMu sync.Mutex
	chunk   chunkStmts
	// rstmts are reader statements every public request runs (a list by
	// its slug), prepared once for each reader connection instead of once
	// a query.
	rstmts map[string]*sql.Stmt

	// signups writes concurrent public signups in shared transactions.
	signups signupGroup

	// onErase runs after each erasure commits (see OnErase).
	onErase []func(ctx context.Context, email string) error
}

type dialect int

const (
	dialectSQLite dialect = iota
	dialectPostgres
)

// Open connects to the database described by opts, checks the schema version
// and, unless opts.NoMigrate is set, applies pending migrations.
func Open(ctx context.Context, opts Options) (*Store, error) {
	s, err := open(opts)
	if err != nil {
		return nil, err
	}
	s.box = opts.Box
	if err := s.r.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("connect to the database: %w", err)
	}
	if s.dialect == dialectPostgres {
		if err := s.r.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&s.schema); err != nil {
			s.Close()
			return nil, fmt.Errorf("read the schema: %w", err)
		}
	}
	if opts.NoMigrate {
		_, err = s.checkVersion(ctx)
	} else {
		_, err = s.Migrate(ctx)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func open(opts Options) (*Store, error) {
	now := func() time.Time { return time.Now().UTC() }
	if u := opts.DatabaseURL; u != "" {
		if !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
			return nil, fmt.Errorf("database URL must start with postgres:// (got %q)", RedactURL(u))
		}
		db, err := sql.Open("pgx", u)
		if err != nil {
			return nil, fmt.Errorf("open PostgreSQL: %w", err)
		}
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(20)
		db.SetConnMaxIdleTime(5 * time.Minute)
		return &Store{w: db, r: db, dialect: dialectPostgres, now: now}, nil
	}
	if opts.SQLitePath == "" {
		return nil, errors.New("no database: set a PostgreSQL URL or a SQLite path")
	}
	sync := "NORMAL"
	switch opts.Synchronous {
	case "", "normal":
	case "full":
		sync = "FULL"
	default:
		return nil, fmt.Errorf("SQLite synchronous setting %q: want normal or full", opts.Synchronous)
	}
	if err := os.MkdirAll(filepath.Dir(opts.SQLitePath), 0o700); err != nil {
		return nil, fmt.Errorf("create the data folder: %w", err)
	}
	if err := privateFiles(opts.SQLitePath); err != nil {
		return nil, err
	}
	dsn := func(foreignKeys bool, extra string) string {
		fk := "1"
		if !foreignKeys {
			fk = "0"
		}
		// auto_vacuum first: it only takes on a file with no tables yet, so
		// new databases give deleted rows' pages back with incremental_vacuum
		// (retention); an older file needs EnableIncrementalVacuum once.
		return "file:" + opts.SQLitePath + "?_pragma=auto_vacuum(2)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)" +
			"&_pragma=foreign_keys(" + fk + ")&_pragma=synchronous(" + sync + ")&_time_format=sqlite" + extra
	}
	w := sql.OpenDB(&sqliteConnector{dsn: dsn(true, "&_txlock=immediate"), drv: &sqlite.Driver{}})
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	r := sql.OpenDB(&sqliteConnector{dsn: dsn(true, "&_pragma=query_only(1)"), drv: &sqlite.Driver{}})
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	// The import connection is opened at the first import.
	imp := sql.OpenDB(&sqliteConnector{dsn: dsn(false, "&_txlock=immediate"), drv: &sqlite.Driver{}})
	imp.SetMaxOpenConns(1)
	imp.SetMaxIdleConns(1)
	imp.SetConnMaxIdleTime(0)
	imp.SetConnMaxLifetime(0)
	return &Store{w: w, r: r, imp: imp, dialect: dialectSQLite, now: now, path: opts.SQLitePath}, nil
}

// privateFiles makes the SQLite database readable by its owner only:
// it holds subscribers' addresses, password hashes and signing keys. The
// file is created 0600 before SQLite opens it (SQLite gives its -wal and
// -shm files the database file's mode), and the files of an older
// installation are made 0600.
func privateFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open the database file: %w", err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("make %s private: %w", p, err)
		}
	}
	return nil
}

// Close closes the database handles.
func (s *Store) Close() error {
	s.stmtMu.Lock()
	for _, st := range s.stmts {
		st.Close()
	}
	for _, st := range s.rstmts {
		st.Close()
	}
	s.stmts, s.rstmts = nil, nil
	s.stmtMu.Unlock()
	s.chunkMu.Lock()
	for _, st := range []*sql.Stmt{s.chunk.erased, s.chunk.insert} {
		if st != nil {
			st.Close()
		}
	}
	s.chunk = chunkStmts{}
	s.chunkMu.Unlock()
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	if s.imp != nil {
		err = errors.Join(err, s.imp.Close())
	}
	return err
}

// Kind names the database behind the store: "sqlite" or "postgres".
func (s *Store) Kind() string {
	if s.dialect == dialectPostgres {
		return "postgres"
	}
	return "sqlite"
}

// Ping checks that the database answers (for /healthz).
func (s *Store) Ping(ctx context.Context) error {
	return s.r.PingContext(ctx)
}

// prepared returns q prepared once on the writer. Call it outside a
// transaction: on SQLite the writer has one connection, which a transaction
// holds. Inside one, bind the statement with tx.StmtContext.
func (s *Store) prepared(ctx context.Context, q string) (*sql.Stmt, error) {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if st, ok := s.stmts[q]; ok {
		return st, nil
	}
	st, err := s.w.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if s.stmts == nil {
		s.stmts = map[string]*sql.Stmt{}
	}
	s.stmts[q] = st
	return st, nil
}

// preparedRead returns q prepared once on the readers: each reader
// connection compiles it the first time it runs it, not every time.
func (s *Store) preparedRead(ctx context.Context, q string) (*sql.Stmt, error) {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if st, ok := s.rstmts[q]; ok {
		return st, nil
	}
	st, err := s.r.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if s.rstmts == nil {
		s.rstmts = map[string]*sql.Stmt{}
	}
	s.rstmts[q] = st
	return st, nil
}

// inTx runs fn in a write transaction, committing if it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return runTx(ctx, s.w, fn)
}

// runTx runs fn in a transaction on db, committing if it returns nil.
func runTx(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	// After a commit a no-op; after an error, or a panic in fn, it gives
	// the connection (on SQLite, the write lock) back.
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// isUniqueViolation reports whether err is a unique-constraint failure on
// either database.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		return liteErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || liteErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// RedactURL hides the password in a database or relay URL, for logs and
// messages.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// SetClockForTest makes the store read the time from now. It is for tests
// (of the store and of the packages above it, such as the delivery engine
// with a fake clock); call it before the store is used concurrently.
func (s *Store) SetClockForTest(now func() time.Time) { s.now = now }
