package store

import (
	"context"
	"database/sql"
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
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		erasures, err := anyErasures(ctx, tx)
		if err != nil {
			return err
		}
		if !erasures {
			full.erased = nil // no chunk needs looking at
		}
		for start := 0; start < len(rows); start += importChunk {
			chunk := rows[start:min(start+importChunk, len(rows))]
			r, err := s.importChunk(ctx, tx, chunk, opt, now, full, erasures)
			if err != nil {
				return err
			}
			res = res.Add(r)
		}
		return s.audit(ctx, tx, audit.ImportBatch, audit.Object("list", opt.ListID), importChanges(len(rows), res))
	})
	if err != nil {
		return ImportResult{}, fmt.Errorf("import rows %d-%d: %w", rows[0].Line, rows[len(rows)-1].Line, err)
	}
	return res, nil
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

// subscribeNewSQL subscribes n subscribers the chunk has just created,
// each named by (email, start), to list $2n+1 with status $2n+2 from
// source $2n+3, beginning at their start or $2n+4: as subscribeSQL, but
// finding each one's ID by its address, so the insert before it needs no
// RETURNING (which SQLite keeps in a temporary table, row by row, before
// handing it over).
func subscribeNewSQL(n int) string {
	p := 2*n + 1
	return fmt.Sprintf(`INSERT INTO subscriptions (list_id, subscriber_id, status, source, first_status, first_source, created_at, updated_at)
		SELECT $%d, (SELECT id FROM subscribers WHERE email = column1), $%d, $%d, $%d, $%d, COALESCE(column2, $%d), COALESCE(column2, $%d) FROM (VALUES `,
		p, p+1, p+2, p+1, p+2, p+3, p+3) +
		valuesList(n, 2, func(b *strings.Builder, i int) { fmt.Fprintf(b, "($%d, $%d)", i, i+1) }) + `) WHERE true`
}

// subscribeSQL subscribes n subscribers, each (id, start), to list $2n+1
// with status $2n+2 from source $2n+3; a new subscription begins at its
// start, or at $2n+4 when its start is NULL. With upsert, subscriptions
// that exist are upgraded from unconfirmed to confirmed at $2n+4 (never
// otherwise changed), and it returns each subscription it created or
// changed with whether it is new (a new one's beginning is in its row;
// only a change goes to the history). The rows come as a VALUES table, as
// in insertSubscribersSQL.
func subscribeSQL(n int, upsert bool) string {
	p := 2*n + 1
	q := fmt.Sprintf(`INSERT INTO subscriptions (list_id, subscriber_id, status, source, first_status, first_source, created_at, updated_at)
		SELECT $%d, column1, $%d, $%d, $%d, $%d, COALESCE(column2, $%d), COALESCE(column2, $%d) FROM (VALUES `, p, p+1, p+2, p+1, p+2, p+3, p+3) +
		valuesList(n, 2, func(b *strings.Builder, i int) { fmt.Fprintf(b, "($%d, $%d)", i, i+1) }) + `) WHERE true`
	if !upsert {
		return q
	}
	return q + fmt.Sprintf(`
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

// chunkStmts are the statements of a full chunk, prepared once: parsing a
// 500-row statement is a fair part of its cost on SQLite.
type chunkStmts struct {
	erased, insert, subscribeNew *sql.Stmt
}

// chunkSQL is the text of a full chunk's statements, built once: a batch
// looks its statements up by their text, and building a 500-row statement
// for that was a fair part of a batch's own work.
var chunkSQL = sync.OnceValue(func() [3]string {
	return [3]string{erasedSQL(importChunk), insertSubscribersSQL(importChunk), subscribeNewSQL(importChunk)}
})

func (s *Store) prepareChunkStmts(ctx context.Context) (chunkStmts, error) {
	var c chunkStmts
	var err error
	q := chunkSQL()
	if c.erased, err = s.prepared(ctx, q[0]); err != nil {
		return c, err
	}
	if c.insert, err = s.prepared(ctx, q[1]); err != nil {
		return c, err
	}
	c.subscribeNew, err = s.prepared(ctx, q[2])
	return c, err
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
// full chunk; with erasures, some addresses may have been erased.
func (s *Store) importChunk(ctx context.Context, tx *sql.Tx, rows []ImportRow, opt ImportOptions, now time.Time, full chunkStmts, erasures bool) (ImportResult, error) {
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
	// conflict clause. The writer is this transaction's alone, so the new
	// ones are exactly those above the largest ID before.
	var before int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM subscribers`).Scan(&before); err != nil {
		return res, err
	}
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
	res.Imported = int(n)

	if res.Imported == len(rows) {
		// The usual case of a first import: every row is new, so every
		// row gets a new subscription, found by its address.
		args = args[:0]
		for _, r := range rows {
			args = append(args, r.Email, start(r))
		}
		args = append(args, opt.ListID, opt.Status, opt.Source, now)
		if st := full.pick(ctx, tx, len(rows), full.subscribeNew); st != nil {
			_, err = st.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, subscribeNewSQL(len(rows)), args...)
		}
		return res, err
	}

	// Some existed: read every row's ID.
	ids := make(map[string]int64, len(rows))
	existed := make(map[string]bool, len(rows))
	args = args[:0]
	for _, r := range rows {
		args = append(args, r.Email)
	}
	q := `SELECT id, email FROM subscribers WHERE email IN (` + placeholders(len(args), 1, 1) + `)`
	if err := scanIDs(ctx, tx, nil, ids, func() string { return q }, args...); err != nil {
		return res, err
	}
	for _, r := range rows {
		existed[r.Email] = ids[r.Email] <= before
	}

	// Update or skip the existing ones.
	var update *sql.Stmt
	fresh := make([]any, 0, 2*len(rows)+3) // new subscribers: no subscription yet
	old := make([]any, 0, 8)               // existing ones, not skipped
	for _, r := range rows {
		if !existed[r.Email] {
			fresh = append(fresh, ids[r.Email], start(r))
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
		if _, err := update.ExecContext(ctx, r.Name, attrs, now, ids[r.Email]); err != nil {
			return res, err
		}
		res.Updated++
		old = append(old, ids[r.Email], start(r))
	}

	// New subscribers get new subscriptions: a plain insert, no conflict
	// possible, nothing to log (the row holds its beginning).
	if n := len(fresh) / 2; n > 0 {
		fresh = append(fresh, opt.ListID, opt.Status, opt.Source, now)
		if _, err := tx.ExecContext(ctx, subscribeSQL(n, false), fresh...); err != nil {
			return res, err
		}
	}
	// Existing subscribers: a subscription only moves from unconfirmed to
	// confirmed; RETURNING says which were created and which changed, and
	// the changes are logged.
	if n := len(old) / 2; n > 0 {
		old = append(old, opt.ListID, opt.Status, opt.Source, now)
		rows, err := tx.QueryContext(ctx, subscribeSQL(n, true), old...)
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
