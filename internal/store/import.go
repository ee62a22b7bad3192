package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/model"
)

// ImportRow is one subscriber read from an import file. Email is already
// normalised; Attributes is a JSON object or nil.
type ImportRow struct {
	Line       int
	Email      string
	Name       string
	Attributes []byte
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
}

// Add sums two results.
func (r ImportResult) Add(o ImportResult) ImportResult {
	return ImportResult{r.Imported + o.Imported, r.Updated + o.Updated, r.Skipped + o.Skipped}
}

// importChunk bounds the rows per multi-row statement: 500 rows of at most
// six parameters stay well under SQLite's and PostgreSQL's parameter limits.
const importChunk = 500

// ImportBatch writes a batch of rows, whose emails must be distinct, in one
// transaction: new subscribers are created, existing ones updated or skipped
// by mode, and every row not skipped is subscribed to the list. A
// subscription that exists is never downgraded, and an unsubscribed one is
// never re-subscribed by an import: consent given or withdrawn elsewhere
// stands.
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
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for start := 0; start < len(rows); start += importChunk {
			chunk := rows[start:min(start+importChunk, len(rows))]
			r, err := s.importChunk(ctx, tx, chunk, opt, now)
			if err != nil {
				return err
			}
			res = res.Add(r)
		}
		return nil
	})
	if err != nil {
		return ImportResult{}, fmt.Errorf("import rows %d-%d: %w", rows[0].Line, rows[len(rows)-1].Line, err)
	}
	return res, nil
}

func (s *Store) importChunk(ctx context.Context, tx *sql.Tx, rows []ImportRow, opt ImportOptions, now time.Time) (ImportResult, error) {
	var res ImportResult
	ids := make(map[string]int64, len(rows))
	existed := make(map[string]bool, len(rows))

	// Which addresses exist already?
	args := make([]any, len(rows))
	for i, r := range rows {
		args[i] = r.Email
	}
	q := `SELECT id, email FROM subscribers WHERE email IN (` + placeholders(len(rows), 1, 1) + `)`
	existing, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return res, err
	}
	for existing.Next() {
		var id int64
		var email string
		if err := existing.Scan(&id, &email); err != nil {
			existing.Close()
			return res, err
		}
		ids[email] = id
		existed[email] = true
	}
	existing.Close()
	if err := existing.Err(); err != nil {
		return res, err
	}

	// Create the new ones in one statement.
	args = args[:0]
	for _, r := range rows {
		if existed[r.Email] {
			continue
		}
		attrs := "{}"
		if len(r.Attributes) > 0 {
			attrs = string(r.Attributes)
		}
		args = append(args, r.Email, r.Name, attrs, now)
	}
	if n := len(args) / 4; n > 0 {
		q := `INSERT INTO subscribers (email, name, attributes, created_at, updated_at) VALUES ` +
			valuesList(n, 4, func(b *strings.Builder, p int) { fmt.Fprintf(b, "($%d, $%d, $%d, $%d, $%d)", p, p+1, p+2, p+3, p+3) }) +
			` RETURNING id, email`
		created, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return res, err
		}
		for created.Next() {
			var id int64
			var email string
			if err := created.Scan(&id, &email); err != nil {
				created.Close()
				return res, err
			}
			ids[email] = id
		}
		created.Close()
		if err := created.Err(); err != nil {
			return res, err
		}
		res.Imported = n
	}

	// Update or skip the existing ones.
	var update *sql.Stmt
	subArgs := make([]any, 0, len(rows)*2)
	for _, r := range rows {
		if existed[r.Email] {
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
		}
		subArgs = append(subArgs, ids[r.Email])
	}
	if len(subArgs) == 0 {
		return res, nil
	}

	// Subscribe everyone not skipped. An existing subscription only moves
	// from unconfirmed to confirmed; RETURNING yields the rows that changed.
	n := len(subArgs)
	subArgs = append(subArgs, opt.ListID, opt.Status, opt.Source, now)
	p := n + 1
	q = `INSERT INTO subscriptions (list_id, subscriber_id, status, source, created_at, updated_at) VALUES ` +
		valuesList(n, 1, func(b *strings.Builder, i int) {
			fmt.Fprintf(b, "($%d, $%d, $%d, $%d, $%d, $%d)", p, i, p+1, p+2, p+3, p+3)
		}) + `
		ON CONFLICT (list_id, subscriber_id) DO UPDATE
		SET status = excluded.status, source = excluded.source, updated_at = excluded.updated_at
		WHERE subscriptions.status = 'unconfirmed' AND excluded.status = 'confirmed'
		RETURNING subscriber_id`
	changed, err := tx.QueryContext(ctx, q, subArgs...)
	if err != nil {
		return res, err
	}
	logArgs := make([]any, 0, n+4)
	for changed.Next() {
		var id int64
		if err := changed.Scan(&id); err != nil {
			changed.Close()
			return res, err
		}
		logArgs = append(logArgs, id)
	}
	changed.Close()
	if err := changed.Err(); err != nil {
		return res, err
	}
	if m := len(logArgs); m > 0 {
		logArgs = append(logArgs, opt.ListID, opt.Status, opt.Source, now)
		p := m + 1
		q = `INSERT INTO subscription_log (list_id, subscriber_id, status, source, at) VALUES ` +
			valuesList(m, 1, func(b *strings.Builder, i int) {
				fmt.Fprintf(b, "($%d, $%d, $%d, $%d, $%d)", p, i, p+1, p+2, p+3)
			})
		if _, err := tx.ExecContext(ctx, q, logArgs...); err != nil {
			return res, err
		}
	}
	return res, nil
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
