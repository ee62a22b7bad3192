package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/model"
)

// ImportRow is one subscriber read from an import file. Email is already
// normalised; Attributes is a JSON object or nil.
type ImportRow struct {
	Line       int
	Email      string
	Name       string
	Attributes []byte
	// Start is when the person signed up, as the file says: the beginning
	// of a subscription the row creates, and of a subscriber it creates.
	// Zero means the time of the import.
	Start time.Time
}

// ImportMode says what an import does with addresses that already exist.
type ImportMode string

// Import modes.
const (
	// ImportUpsert updates existing subscribers' names (when the file has
	// one) and merges their attributes.
	ImportUpsert ImportMode = "upsert"
	// ImportSkipExisting leaves existing subscribers, and their
	// subscriptions, exactly as they are.
	ImportSkipExisting ImportMode = "skip-existing"
)

// Valid reports whether m is a known import mode.
func (m ImportMode) Valid() bool { return m == ImportUpsert || m == ImportSkipExisting }

// ImportOptions apply to every row of an import.
type ImportOptions struct {
	ListID int64
	Status model.SubscriptionStatus // confirmed or unconfirmed
	Mode   ImportMode
	Source model.Source
}

// ImportResult counts what one batch did.
type ImportResult struct {
	Imported int // new subscribers
	Updated  int // existing subscribers updated
	Skipped  int // existing subscribers left alone
	// Erased lists the lines of rows not imported because their address
	// was erased at its owner's request.
	Erased []int
}

// Add sums two results.
func (r ImportResult) Add(o ImportResult) ImportResult {
	return ImportResult{r.Imported + o.Imported, r.Updated + o.Updated, r.Skipped + o.Skipped, append(r.Erased, o.Erased...)}
}

// importChunk bounds the rows per multi-row statement: 500 rows of at most
// six parameters stay well under SQLite's and PostgreSQL's parameter limits.
const importChunk = 500

// ImportShape says how an import is best written to this database: the
// rows per batch (one transaction each) and the batches written at once.
// SQLite has one writer, so a batch holds it from everyone else; PostgreSQL
// merges a batch in a few statements whatever its size, and writes batches
// side by side.
func (s *Store) ImportShape() (batchSize, writers int) {
	if s.dialect == dialectPostgres {
		return pgImportBatch, pgImportWriters
	}
	return sqliteImportBatch, 1
}

// The import shapes (see ImportShape). On SQLite a batch of 2,500 rows
// wrote a million a fifth faster than one of 1,000 (fewer commits and
// checkpoints); 5,000 was faster again but took the process past 100 MiB.
// On PostgreSQL two writers of 5,000-row batches keep a second server
// process busy while the first merges its batch: 1.2-1.5x one writer's
// rows/s, which one writer of 10,000-row batches did not match, and
// within 100 MiB (two of 10,000 took the process past it).
const (
	sqliteImportBatch = 2500
	pgImportBatch     = 5000
	pgImportWriters   = 2
)

// ImportBatch writes a batch of rows, whose emails must be distinct, in one
// transaction: new subscribers are created, existing ones updated or skipped
// by mode, and every row not skipped is subscribed to the list. A
// subscription that exists is never downgraded, and an unsubscribed one is
// never re-subscribed by an import: consent given or withdrawn elsewhere
// stands. A new subscription begins at its row's Start. Rows whose address
// was erased are left out and listed in the result.
func (s *Store) ImportBatch(ctx context.Context, rows []ImportRow, opt ImportOptions) (ImportResult, error) {
	var res ImportResult
	if opt.Status != model.SubConfirmed && opt.Status != model.SubUnconfirmed {
		return res, fmt.Errorf("import status must be confirmed or unconfirmed, not %q", opt.Status)
	}
	if !opt.Mode.Valid() {
		return res, fmt.Errorf("unknown import mode %q", opt.Mode)
	}
	if opt.Source == "" {
		opt.Source = model.SourceImport
	}
	if len(rows) == 0 {
		return res, nil
	}
	if s.dialect == dialectPostgres {
		res, err := s.importBatchPostgres(ctx, rows, opt)
		if err != nil {
			return ImportResult{}, fmt.Errorf("import rows %d-%d: %w", rows[0].Line, rows[len(rows)-1].Line, err)
		}
		return res, nil
	}
	now := s.now()
	var full chunkStmts
	if len(rows) >= importChunk {
		var err error
		if full, err = s.prepareChunkStmts(ctx); err != nil {
			return res, fmt.Errorf("import: %w", err)
		}
	}
	err := s.inImportTx(ctx, func(tx *sql.Tx) error {
		// Foreign keys are not checked on the import connection: every
		// subscription written below refers to this list, which exists
		// (checked here, and nobody else writes until the commit), and to
		// a subscriber read or written in this transaction.
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM lists WHERE id = $1`, opt.ListID).Scan(&one); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("list %d: %w", opt.ListID, ErrNotFound)
			}
			return err
		}
		erasures, err := anyErasures(ctx, tx)
		if err != nil {
			return err
		}
		if !erasures {
			full.erased = nil // no chunk needs looking at
		}
		// The subscribers the batch creates are exactly those above the
		// largest ID before it (SQLite gives a new row the largest ID plus
		// one, and nobody else writes meanwhile).
		var before int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM subscribers`).Scan(&before); err != nil {
			return err
		}
		for start := 0; start < len(rows); start += importChunk {
			chunk := rows[start:min(start+importChunk, len(rows))]
			r, err := s.importChunk(ctx, tx, chunk, opt, now, before, full, erasures)
			if err != nil {
				return err
			}
			res = res.Add(r)
		}
		if res.Imported > 0 {
			// Every new subscriber gets a new subscription, beginning when
			// the subscriber did (its row's start, or now): no conflict is
			// possible and nothing is logged (the row holds its beginning).
			if _, err := tx.ExecContext(ctx, subscribeNewSQL, opt.ListID, opt.Status, opt.Source, before); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, audit.ImportBatch, audit.Object("list", opt.ListID), importChanges(len(rows), res))
	})
	if err != nil {
		return ImportResult{}, fmt.Errorf("import rows %d-%d: %w", rows[0].Line, rows[len(rows)-1].Line, err)
	}
	return res, nil
}

// inImportTx runs fn in a write transaction on the import connection,
// which does not check foreign keys (ImportBatch proves them itself: the
// checks cost two lookups for every subscription written, a fifth of an
// import's time). It holds the writer's one connection meanwhile, so
// nothing else in this process writes, as if the import were on it.
func (s *Store) inImportTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	w, err := s.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer w.Close()
	return runTx(ctx, s.imp, fn)
}

// importChanges is the audit record of one import batch: counts only,
// never the addresses.
func importChanges(rows int, r ImportResult) audit.Changes {
	return audit.Changes{}.Set("rows", nil, rows).Set("imported", nil, r.Imported).Set("updated", nil, r.Updated).
		Set("skipped", nil, r.Skipped).Set("erased", nil, len(r.Erased)).Created()
}

// insertSubscribersSQL inserts n new subscribers, each (email, name,
// attributes, created_at), updated at $4n+1, skipping existing addresses.
// A NULL attributes is an empty
// object and a NULL created_at is $4n+1. The rows come as a VALUES table so
// that the time shared by every row is bound once per statement, not once
// per row: on SQLite each $N becomes its own ? (sqlitebind.go), and binding
// a time formats it.
func insertSubscribersSQL(n int) string {
	now := 4*n + 1
	return fmt.Sprintf(`INSERT INTO subscribers (email, name, attributes, created_at, updated_at)
		SELECT column1, column2, COALESCE(column3, '{}'), COALESCE(column4, $%d), $%d FROM (VALUES `, now, now) +
		valuesList(n, 4, func(b *strings.Builder, p int) { fmt.Fprintf(b, "($%d, $%d, $%d, $%d)", p, p+1, p+2, p+3) }) +
		`) WHERE true ON CONFLICT (email) DO NOTHING`
}

// subscribeNewSQL subscribes the subscribers above ID $4 (those the
// batch created) to list $1 with status $2 from source $3, each beginning
// when the subscriber row did: its created_at is the row's start, or the
// batch's now.
const subscribeNewSQL = `INSERT INTO subscriptions (list_id, subscriber_id, status, source, first_status, first_source, created_at, updated_at)
	SELECT $1, id, $2, $3, $2, $3, created_at, created_at FROM subscribers WHERE id > $4`

// subscribeSQL subscribes n existing subscribers, each (id, start), to
// list $2n+1 with status $2n+2 from source $2n+3; a new subscription begins
// at its start, or at $2n+4 when its start is NULL. Subscriptions that
// exist are upgraded from unconfirmed to confirmed at $2n+4 (never
// otherwise changed), and it returns each subscription it created or
// changed with whether it is new (a new one's beginning is in its row;
// only a change goes to the history). The rows come as a VALUES table, as
// in insertSubscribersSQL.
func subscribeSQL(n int) string {
	p := 2*n + 1
	return fmt.Sprintf(`INSERT INTO subscriptions (list_id, subscriber_id, status, source, first_status, first_source, created_at, updated_at)
		SELECT $%d, column1, $%d, $%d, $%d, $%d, COALESCE(column2, $%d), COALESCE(column2, $%d) FROM (VALUES `, p, p+1, p+2, p+1, p+2, p+3, p+3) +
		valuesList(n, 2, func(b *strings.Builder, i int) { fmt.Fprintf(b, "($%d, $%d)", i, i+1) }) + `) WHERE true` +
		fmt.Sprintf(`
		ON CONFLICT (list_id, subscriber_id) DO UPDATE
		SET status = excluded.status, source = excluded.source, updated_at = $%d
		WHERE subscriptions.status = 'unconfirmed' AND excluded.status = 'confirmed'
		RETURNING subscriber_id, created_at = updated_at`, p+3)
}

// logSQL records m subscription changes, parameters as in subscribeSQL.
func logSQL(m int) string {
	p := m + 1
	return `INSERT INTO subscription_log (list_id, subscriber_id, status, source, at) VALUES ` +
		valuesList(m, 1, func(b *strings.Builder, i int) {
			fmt.Fprintf(b, "($%d, $%d, $%d, $%d, $%d)", p, i, p+1, p+2, p+3)
		})
}

// chunkStmts are the statements of a full chunk, prepared once on the
// import connection: parsing a 500-row statement is a fair part of its
// cost on SQLite.
type chunkStmts struct {
	erased, insert *sql.Stmt
}

// chunkSQL is the text of a full chunk's statements, built once: a batch
// looks its statements up by their text, and building a 500-row statement
// for that was a fair part of a batch's own work.
var chunkSQL = sync.OnceValue(func() [2]string {
	return [2]string{erasedSQL(importChunk), insertSubscribersSQL(importChunk)}
})

// prepareChunkStmts prepares a full chunk's statements on the import
// connection, once. Call it outside a transaction on that connection (it
// has only one); inside, bind each statement with pick.
func (s *Store) prepareChunkStmts(ctx context.Context) (chunkStmts, error) {
	s.chunkMu.Lock()
	defer s.chunkMu.Unlock()
	if s.chunk.insert != nil {
		return s.chunk, nil
	}
	q := chunkSQL()
	var c chunkStmts
	var err error
	if c.erased, err = s.imp.PrepareContext(ctx, q[0]); err != nil {
		return c, err
	}
	if c.insert, err = s.imp.PrepareContext(ctx, q[1]); err != nil {
		c.erased.Close()
		return c, err
	}
	s.chunk = c
	return c, nil
}

// pick binds st to tx when the statement is for a full chunk of n rows.
func (c chunkStmts) pick(ctx context.Context, tx *sql.Tx, n int, st *sql.Stmt) *sql.Stmt {
	if n != importChunk || st == nil {
		return nil
	}
	return tx.StmtContext(ctx, st)
}

// query runs st when not nil, else the statement q builds (only then: a
// 500-row statement's text is not free to build).
func query(ctx context.Context, tx *sql.Tx, st *sql.Stmt, q func() string, args ...any) (*sql.Rows, error) {
	if st != nil {
		return st.QueryContext(ctx, args...)
	}
	return tx.QueryContext(ctx, q(), args...)
}

// importChunk writes up to importChunk rows, with full's statements for a
// full chunk; with erasures, some addresses may have been erased. The
// subscribers it creates (above before) are subscribed by ImportBatch, for
// the whole batch at once; it subscribes the existing ones it does not skip.
func (s *Store) importChunk(ctx context.Context, tx *sql.Tx, rows []ImportRow, opt ImportOptions, now time.Time, before int64, full chunkStmts, erasures bool) (ImportResult, error) {
	var res ImportResult
	var err error
	// Leave out erased addresses.
	var erased map[string]bool
	if erasures {
		emails := make([]string, len(rows))
		for i, r := range rows {
			emails[i] = r.Email
		}
		if erased, err = erasedAmong(ctx, tx, full.pick(ctx, tx, len(rows), full.erased), emails); err != nil {
			return res, err
		}
	}
	if len(erased) > 0 {
		kept := make([]ImportRow, 0, len(rows))
		for _, r := range rows {
			if erased[r.Email] {
				res.Erased = append(res.Erased, r.Line)
			} else {
				kept = append(kept, r)
			}
		}
		if rows = kept; len(rows) == 0 {
			return res, nil
		}
	}
	// A row's own start, or nil for the statement's now.
	start := func(r ImportRow) any {
		if r.Start.IsZero() {
			return nil
		}
		return r.Start
	}

	// Insert every row; the ones that exist already are left out by the
	// conflict clause.
	args := make([]any, 0, len(rows)*4+1)
	for _, r := range rows {
		var attrs any
		if len(r.Attributes) > 0 {
			attrs = string(r.Attributes)
		}
		args = append(args, r.Email, r.Name, attrs, start(r))
	}
	args = append(args, now)
	var inserted sql.Result
	if st := full.pick(ctx, tx, len(rows), full.insert); st != nil {
		inserted, err = st.ExecContext(ctx, args...)
	} else {
		inserted, err = tx.ExecContext(ctx, insertSubscribersSQL(len(rows)), args...)
	}
	if err != nil {
		return res, err
	}
	n, err := inserted.RowsAffected()
	if err != nil {
		return res, err
	}
	if res.Imported = int(n); res.Imported == len(rows) {
		return res, nil // the usual case of a first import: every row is new
	}

	// Some existed: read their IDs (the new ones are above before).
	ids := make(map[string]int64, len(rows))
	args = args[:0]
	for _, r := range rows {
		args = append(args, r.Email)
	}
	args = append(args, before)
	q := `SELECT id, email FROM subscribers WHERE email IN (` + placeholders(len(rows), 1, 1) + fmt.Sprintf(`) AND id <= $%d`, len(args))
	if err := scanIDs(ctx, tx, nil, ids, func() string { return q }, args...); err != nil {
		return res, err
	}

	// Update or skip the existing ones.
	var update *sql.Stmt
	old := make([]any, 0, 8) // existing ones, not skipped
	for _, r := range rows {
		id, existed := ids[r.Email]
		if !existed {
			continue
		}
		if opt.Mode == ImportSkipExisting {
			res.Skipped++
			continue
		}
		if update == nil {
			update, err = tx.PrepareContext(ctx, s.mergeSubscriberSQL())
			if err != nil {
				return res, err
			}
			defer update.Close()
		}
		var attrs any
		if len(r.Attributes) > 0 {
			attrs = string(r.Attributes)
		}
		if _, err := update.ExecContext(ctx, r.Name, attrs, now, id); err != nil {
			return res, err
		}
		res.Updated++
		old = append(old, id, start(r))
	}

	// Existing subscribers: a subscription only moves from unconfirmed to
	// confirmed; RETURNING says which were created and which changed, and
	// the changes are logged.
	if n := len(old) / 2; n > 0 {
		old = append(old, opt.ListID, opt.Status, opt.Source, now)
		rows, err := tx.QueryContext(ctx, subscribeSQL(n), old...)
		if err != nil {
			return res, err
		}
		logArgs := make([]any, 0, n+4)
		for rows.Next() {
			var id int64
			var created bool
			if err := rows.Scan(&id, &created); err != nil {
				rows.Close()
				return res, err
			}
			if !created {
				logArgs = append(logArgs, id)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return res, err
		}
		if m := len(logArgs); m > 0 {
			logArgs = append(logArgs, opt.ListID, opt.Status, opt.Source, now)
			if _, err := tx.ExecContext(ctx, logSQL(m), logArgs...); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// scanIDs runs a query yielding (id, email) rows into ids: st when not
// nil, else q.
func scanIDs(ctx context.Context, tx *sql.Tx, st *sql.Stmt, ids map[string]int64, q func() string, args ...any) error {
	rows, err := query(ctx, tx, st, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var email string
		if err := rows.Scan(&id, &email); err != nil {
			return err
		}
		ids[email] = id
	}
	return rows.Err()
}

// mergeSubscriberSQL updates an existing subscriber from an import row: a
// non-empty name replaces the old one, attributes are merged key by key.
func (s *Store) mergeSubscriberSQL() string {
	attrs, merge := `$2`, `json_patch(attributes, $2)`
	if s.dialect == dialectPostgres {
		attrs, merge = `$2::jsonb`, `attributes || $2::jsonb`
	}
	return `UPDATE subscribers SET
		name = CASE WHEN $1 = '' THEN name ELSE $1 END,
		attributes = CASE WHEN ` + attrs + ` IS NULL THEN attributes ELSE ` + merge + ` END,
		updated_at = $3
		WHERE id = $4`
}

// placeholders returns "$start, $start+1, ..." for n values of width cols.
func placeholders(n, cols, start int) string {
	var b strings.Builder
	for i := 0; i < n*cols; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(start + i))
	}
	return b.String()
}

// valuesList joins n tuples written by tuple, which receives the number of
// the tuple's first parameter (tuples are width parameters apart).
func valuesList(n, width int, tuple func(b *strings.Builder, first int)) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		tuple(&b, 1+i*width)
	}
	return b.String()
}
