package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Retention folds old raw rows into counts and deletes them, a batch at a
// time, so that each transaction stays short and the single SQLite writer
// is never held for long. Opens and clicks fold into event_counts (per
// campaign, kind, link and UTC day); the ledger rows of a finished campaign
// fold into ledger_counts (per variant and status). Every reader of those
// totals (CampaignEventCounts, EventSeries, TopLinks, CampaignProgress, the
// A/B results) adds the folded counts to the raw rows still kept.
//
// Unique counts: a subscriber's folded events count once per campaign and
// kind (and once per link), at their last event of it; while they still
// have a raw event of it, the raw rows count them instead. So uniques stay
// exact, except for a reader who engaged again after their earlier events
// of that campaign were already folded: they count twice.

// foldable selects the raw events retention folds: opens and clicks of a
// campaign, older than $1.
const foldable = `kind IN ('open', 'click') AND campaign_id IS NOT NULL AND at < $1`

// foldLock serialises folds on PostgreSQL: two nodes (or a node and
// herald maintenance) folding the same rows at once would count them twice.
// SQLite's one writer serialises them already.
func (s *Store) foldLock(ctx context.Context, tx *sql.Tx) error {
	if s.dialect != dialectPostgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7210019, hashtext(current_schema()))`); err != nil {
		return fmt.Errorf("wait for another fold: %w", err)
	}
	return nil
}

// EventsToFold counts the opens and clicks older than before.
func (s *Store) EventsToFold(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE `+foldable, before.UTC()).Scan(&n); err != nil {
		return 0, fmt.Errorf("count events to fold: %w", err)
	}
	return n, nil
}

// FoldEvents folds up to batch of the oldest opens and clicks older than
// before, with ids above after, into per-day counts and deletes them, in
// one transaction. It returns how many raw events it folded (0 when none is
// left) and the last id it looked at: the next call's after, so that no
// batch scans again over the rows the ones before it deleted (PostgreSQL
// keeps them in its indexes until vacuumed).
func (s *Store) FoldEvents(ctx context.Context, before time.Time, after int64, batch int) (folded, last int64, err error) {
	before = before.UTC()
	day := `strftime('%Y-%m-%d', e.at)`
	if s.dialect == dialectPostgres {
		day = `to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`
	}
	// The batch is a range of ids: read it by the primary key, not by an
	// index SQLite would otherwise pick for the grouping (a whole-index scan
	// per batch).
	byID := ``
	if s.dialect == dialectSQLite {
		byID = ` NOT INDEXED`
	}
	later := `SELECT 1 FROM events l WHERE l.subscriber_id = e.subscriber_id AND l.kind = e.kind
		AND l.campaign_id = e.campaign_id AND l.id > e.id`
	last = after
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.foldLock(ctx, tx); err != nil {
			return err
		}
		var end sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MAX(id) FROM (SELECT id FROM events WHERE id > $3 AND `+foldable+`
			ORDER BY id LIMIT $2) b`, before, batch, after).Scan(&end); err != nil {
			return fmt.Errorf("choose events to fold: %w", err)
		}
		if !end.Valid {
			return nil
		}
		last = end.Int64
		_, err := tx.ExecContext(ctx, `INSERT INTO event_counts (campaign_id, kind, class, url, day, total, uniq, class_uniq, link_uniq, link_class_uniq)
			SELECT e.campaign_id, e.kind, e.class, e.url, `+day+`, COUNT(*),
				COUNT(DISTINCT CASE WHEN NOT EXISTS (`+later+`) THEN e.subscriber_id END),
				COUNT(DISTINCT CASE WHEN NOT EXISTS (`+later+` AND l.class = e.class) THEN e.subscriber_id END),
				COUNT(DISTINCT CASE WHEN NOT EXISTS (`+later+` AND l.url = e.url) THEN e.subscriber_id END),
				COUNT(DISTINCT CASE WHEN NOT EXISTS (`+later+` AND l.url = e.url AND l.class = e.class) THEN e.subscriber_id END)
			FROM events e`+byID+` WHERE e.id > $3 AND e.id <= $2 AND e.kind IN ('open', 'click') AND e.campaign_id IS NOT NULL AND e.at < $1
			GROUP BY e.campaign_id, e.kind, e.class, e.url, `+day+`
			ON CONFLICT (campaign_id, kind, class, url, day) DO UPDATE SET total = event_counts.total + excluded.total,
				uniq = event_counts.uniq + excluded.uniq, class_uniq = event_counts.class_uniq + excluded.class_uniq,
				link_uniq = event_counts.link_uniq + excluded.link_uniq, link_class_uniq = event_counts.link_class_uniq + excluded.link_class_uniq`,
			before, last, after)
		if err != nil {
			return fmt.Errorf("fold events: %w", err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM events`+byID+` WHERE id > $3 AND id <= $2 AND `+foldable, before, last, after)
		if err != nil {
			return fmt.Errorf("delete folded events: %w", err)
		}
		folded, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, after, err
	}
	return folded, last, nil
}

// finishedBefore selects campaigns that finished (sent, or cancelled)
// before $1. A cancelled campaign has no done_at: its last change counts.
const finishedBefore = `c.status IN ('sent', 'cancelled') AND COALESCE(c.done_at, c.updated_at) < $1`

// LedgerToFold counts the ledger rows of campaigns finished before before.
func (s *Store) LedgerToFold(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id
		WHERE `+finishedBefore, before.UTC()).Scan(&n); err != nil {
		return 0, fmt.Errorf("count ledger rows to fold: %w", err)
	}
	return n, nil
}

// FoldLedger folds up to batch ledger rows of one campaign finished before
// before into per-status counts and deletes them, in one transaction. It
// returns how many rows it folded (0 when none is left).
func (s *Store) FoldLedger(ctx context.Context, before time.Time, batch int) (int64, error) {
	before = before.UTC()
	var folded int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.foldLock(ctx, tx); err != nil {
			return err
		}
		var campaign int64
		err := tx.QueryRowContext(ctx, `SELECT c.id FROM campaigns c WHERE `+finishedBefore+`
			AND EXISTS (SELECT 1 FROM deliveries d WHERE d.campaign_id = c.id) ORDER BY c.id LIMIT 1`, before).Scan(&campaign)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("choose a campaign to fold: %w", err)
		}
		var last int64
		if err := tx.QueryRowContext(ctx, `SELECT MAX(id) FROM (SELECT id FROM deliveries WHERE campaign_id = $1
			ORDER BY id LIMIT $2) b`, campaign, batch).Scan(&last); err != nil {
			return fmt.Errorf("choose ledger rows to fold: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_counts (campaign_id, variant, status, total)
			SELECT campaign_id, variant, status, COUNT(*) FROM deliveries WHERE campaign_id = $1 AND id <= $2
			GROUP BY campaign_id, variant, status
			ON CONFLICT (campaign_id, variant, status) DO UPDATE SET total = ledger_counts.total + excluded.total`,
			campaign, last); err != nil {
			return fmt.Errorf("fold the ledger of campaign %d: %w", campaign, err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM deliveries WHERE campaign_id = $1 AND id <= $2`, campaign, last)
		if err != nil {
			return fmt.Errorf("delete folded ledger rows of campaign %d: %w", campaign, err)
		}
		folded, err = res.RowsAffected()
		return err
	})
	return folded, err
}

// Space is what the database file holds and could give back (SQLite only;
// zero on PostgreSQL, whose autovacuum reuses the space of deleted rows).
type Space struct {
	AutoVacuum string // SQLite's auto_vacuum mode: none, full or incremental
	PageSize   int64
	Pages      int64 // pages in the file
	FreePages  int64 // pages on the free list, not yet given back
}

// Space reads the SQLite file's size and free list.
func (s *Store) Space(ctx context.Context) (Space, error) {
	var sp Space
	if s.dialect != dialectSQLite {
		return sp, nil
	}
	var mode int
	for _, p := range []struct {
		pragma string
		dst    any
	}{{"auto_vacuum", &mode}, {"page_size", &sp.PageSize}, {"page_count", &sp.Pages}, {"freelist_count", &sp.FreePages}} {
		if err := s.w.QueryRowContext(ctx, `PRAGMA `+p.pragma).Scan(p.dst); err != nil {
			return sp, fmt.Errorf("read PRAGMA %s: %w", p.pragma, err)
		}
	}
	sp.AutoVacuum = [...]string{"none", "full", "incremental"}[min(max(mode, 0), 2)]
	return sp, nil
}

// ReclaimSpace gives up to pages free pages of the SQLite file back to the
// file system (PRAGMA incremental_vacuum; all of them when pages is 0),
// and returns how many it gave back. It does nothing on PostgreSQL, or on
// a SQLite file whose auto_vacuum mode is not incremental (see
// EnableIncrementalVacuum).
func (s *Store) ReclaimSpace(ctx context.Context, pages int64) (int64, error) {
	before, err := s.Space(ctx)
	if err != nil || before.AutoVacuum != "incremental" {
		return 0, err
	}
	// incremental_vacuum returns a row per step: read them all, or it stops.
	rows, err := s.w.QueryContext(ctx, fmt.Sprintf(`PRAGMA incremental_vacuum(%d)`, pages))
	if err != nil {
		return 0, fmt.Errorf("incremental vacuum: %w", err)
	}
	for rows.Next() {
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("incremental vacuum: %w", err)
	}
	after, err := s.Space(ctx)
	if err != nil {
		return 0, err
	}
	return before.Pages - after.Pages, nil
}

// EnableIncrementalVacuum switches a SQLite file made before Herald set
// auto_vacuum to incremental: the mode only takes effect through a full
// VACUUM, which rewrites the whole file (it needs as much free disk as the
// file and holds the writer until done). New databases start incremental.
func (s *Store) EnableIncrementalVacuum(ctx context.Context) error {
	if s.dialect != dialectSQLite {
		return nil
	}
	if _, err := s.w.ExecContext(ctx, `PRAGMA auto_vacuum = INCREMENTAL`); err != nil {
		return fmt.Errorf("set auto_vacuum: %w", err)
	}
	if _, err := s.w.ExecContext(ctx, `VACUUM`); err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	return nil
}
