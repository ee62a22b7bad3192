package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/herald-news/herald/internal/audit"
)

// importBatchPostgres is ImportBatch on PostgreSQL: the rows are streamed
// into a temporary table with COPY, then merged with a few set-based
// statements, so a batch costs a handful of round trips, not one per row.
func (s *Store) importBatchPostgres(ctx context.Context, rows []ImportRow, opt ImportOptions) (ImportResult, error) {
	var res ImportResult
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return res, err
	}
	defer conn.Close()
	now := s.now()
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		return pgx.BeginFunc(ctx, pc, func(tx pgx.Tx) error {
			r, err := mergeStaged(ctx, tx, rows, opt, now)
			res = r
			if err != nil {
				return err
			}
			return s.auditOn(ctx, pgxOps{tx}, audit.ImportBatch, audit.Object("list", opt.ListID), importChanges(len(rows), r))
		})
	})
	return res, err
}

func mergeStaged(ctx context.Context, tx pgx.Tx, rows []ImportRow, opt ImportOptions, now time.Time) (ImportResult, error) {
	var res ImportResult
	var err error
	rows, res.Erased, err = dropErasedPostgres(ctx, tx, rows)
	if err != nil || len(rows) == 0 {
		return res, err
	}
	// One staging table per connection, emptied at each commit: creating and
	// dropping it per batch churned the catalog.
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS import_stage (
		email TEXT NOT NULL, name TEXT NOT NULL, attributes JSONB, started_at TIMESTAMPTZ,
		subscriber_id BIGINT, is_new BOOLEAN NOT NULL DEFAULT FALSE) ON COMMIT DELETE ROWS`); err != nil {
		return res, err
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"import_stage"}, []string{"email", "name", "attributes", "started_at"},
		pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			var attrs, start any
			if len(rows[i].Attributes) > 0 {
				attrs = string(rows[i].Attributes)
			}
			if !rows[i].Start.IsZero() {
				start = rows[i].Start
			}
			return []any{rows[i].Email, rows[i].Name, attrs, start}, nil
		}))
	if err != nil {
		return res, fmt.Errorf("copy rows: %w", err)
	}
	// New subscribers, each subscribed at once, beginning when the
	// subscriber row does (its start, or now): a new subscriber has no
	// subscription to conflict with, and a new subscription's beginning is
	// in its own row, so nothing is logged. The statement returns how many
	// were new. Only when some already existed are the new ones marked in
	// the stage (the sub-select is evaluated once, before the join), so a
	// first import does not rewrite its stage.
	err = tx.QueryRow(ctx, `
		WITH ins AS (
			INSERT INTO subscribers (email, name, attributes, created_at, updated_at)
			SELECT email, name, COALESCE(attributes, '{}'::jsonb), COALESCE(started_at, $1), $1 FROM import_stage
			ON CONFLICT (email) DO NOTHING
			RETURNING id, email, created_at),
		sub AS (
			INSERT INTO subscriptions (list_id, subscriber_id, status, source, first_status, first_source, created_at, updated_at)
			SELECT $2, id, $3, $4, $3, $4, created_at, created_at FROM ins),
		mark AS (
			UPDATE import_stage st SET subscriber_id = ins.id, is_new = TRUE FROM ins
			WHERE st.email = ins.email AND (SELECT COUNT(*) FROM ins) < $5)
		SELECT COUNT(*) FROM ins`,
		now, opt.ListID, string(opt.Status), string(opt.Source), len(rows)).Scan(&res.Imported)
	if err != nil {
		return res, err
	}
	old := len(rows) - res.Imported
	if old == 0 {
		return res, nil
	}
	// Existing subscribers: find them, and in upsert mode update them.
	if _, err := tx.Exec(ctx, `UPDATE import_stage st SET subscriber_id = sb.id FROM subscribers sb
		WHERE st.subscriber_id IS NULL AND sb.email = st.email`); err != nil {
		return res, err
	}
	if opt.Mode == ImportSkipExisting {
		res.Skipped = old
		return res, nil
	}
	res.Updated = old
	if _, err := tx.Exec(ctx, `UPDATE subscribers sb SET
		name = CASE WHEN st.name = '' THEN sb.name ELSE st.name END,
		attributes = CASE WHEN st.attributes IS NULL THEN sb.attributes ELSE sb.attributes || st.attributes END,
		updated_at = $1
		FROM import_stage st WHERE st.subscriber_id = sb.id AND NOT st.is_new`, now); err != nil {
		return res, err
	}
	// Subscribe them, never downgrading and never re-subscribing someone
	// who left; log what changed (a new subscription's beginning, from the
	// file or now, is in its own row).
	_, err = tx.Exec(ctx, `
		WITH changed AS (
			INSERT INTO subscriptions (list_id, subscriber_id, status, source, first_status, first_source, created_at, updated_at)
			SELECT $1, subscriber_id, $2, $3, $2, $3, COALESCE(started_at, $4), COALESCE(started_at, $4)
			FROM import_stage WHERE NOT is_new
			ON CONFLICT (list_id, subscriber_id) DO UPDATE
			SET status = excluded.status, source = excluded.source, updated_at = $4
			WHERE subscriptions.status = 'unconfirmed' AND excluded.status = 'confirmed'
			RETURNING subscriber_id, created_at = updated_at AS fresh)
		INSERT INTO subscription_log (list_id, subscriber_id, status, source, at)
		SELECT $1, subscriber_id, $2, $3, $4 FROM changed WHERE NOT fresh`,
		opt.ListID, string(opt.Status), string(opt.Source), now)
	return res, err
}

// dropErasedPostgres leaves out the rows whose address was erased and
// returns the others with the lines of those left out.
func dropErasedPostgres(ctx context.Context, tx pgx.Tx, rows []ImportRow) ([]ImportRow, []int, error) {
	var n int
	err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM erasures LIMIT 1) e`).Scan(&n)
	if err != nil || n == 0 {
		return rows, nil, err
	}
	hashes := make([]string, len(rows))
	for i, r := range rows {
		hashes[i] = erasureHash(r.Email)
	}
	found, err := tx.Query(ctx, `SELECT email_sha256 FROM erasures WHERE email_sha256 = ANY($1)`, hashes)
	if err != nil {
		return nil, nil, fmt.Errorf("look for erased addresses: %w", err)
	}
	erased := map[string]bool{}
	for found.Next() {
		var h string
		if err := found.Scan(&h); err != nil {
			found.Close()
			return nil, nil, fmt.Errorf("look for erased addresses: %w", err)
		}
		erased[h] = true
	}
	found.Close()
	if err := found.Err(); err != nil {
		return nil, nil, fmt.Errorf("look for erased addresses: %w", err)
	}
	if len(erased) == 0 {
		return rows, nil, nil
	}
	var lines []int
	kept := make([]ImportRow, 0, len(rows))
	for i, r := range rows {
		if erased[hashes[i]] {
			lines = append(lines, r.Line)
		} else {
			kept = append(kept, r)
		}
	}
	return kept, lines, nil
}

// pgxOps is txOps over a pgx transaction.
type pgxOps struct{ tx pgx.Tx }

func (o pgxOps) exec(ctx context.Context, q string, args ...any) error {
	_, err := o.tx.Exec(ctx, q, args...)
	return err
}

func (o pgxOps) ids(ctx context.Context, q string, args ...any) ([]int64, error) {
	rows, err := o.tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}
