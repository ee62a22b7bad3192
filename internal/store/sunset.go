package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/herald-news/herald/internal/model"
)

// Sunset actions: what happens to subscribers who stopped engaging.
const (
	// SunsetSegment stamps them with the attribute sunset (the date) and
	// keeps the saved segment SunsetSegmentName (attr.sunset exists) for a
	// re-engagement campaign; they stay subscribed.
	SunsetSegment = "segment"
	// SunsetSuppress suppresses their addresses (reason manual).
	SunsetSuppress = "suppress"
)

// SunsetSegmentName is the saved segment of subscribers a sunset moved.
const SunsetSegmentName = "Re-engagement"

// SunsetPolicy says who has stopped engaging and what to do with them.
type SunsetPolicy struct {
	Months int    // no open or click for this many months (1 to 60)
	Action string // SunsetSegment or SunsetSuppress
	DryRun bool   // report only
}

// SunsetReport is what a sunset found and did.
type SunsetReport struct {
	Policy  SunsetPolicy
	Cutoff  time.Time // engagement since then counts
	Matched int64     // subscribers moved (or, dry run, that would be)
	Sample  []string  // up to 20 of their addresses
}

// sunsetWhere selects active, unsuppressed subscribers confirmed on a list,
// who joined before the cutoff ($1), were sent at least one campaign since
// (so they had something to open), and neither opened nor clicked since. A
// subscriber a sunset already moved to the segment is not moved again.
// Anonymous events (no subscriber) cannot count for anyone: a sunset needs
// full tracking. A machine's open or click (a gateway scanning the mail)
// does not keep a reader; a privacy-protected open does (Apple Mail
// preloaded it: the mailbox is in use, and whether its owner reads cannot
// be known).
func (s *Store) sunsetWhere() string {
	stamped := `json_extract(sb.attributes, '$.sunset') IS NULL`
	if s.dialect == dialectPostgres {
		stamped = `NOT (sb.attributes ? 'sunset')`
	}
	return ` sb.status = 'active' AND sb.created_at < $1
	AND EXISTS (SELECT 1 FROM subscriptions sp WHERE sp.subscriber_id = sb.id AND sp.status = 'confirmed')
	AND NOT EXISTS (SELECT 1 FROM suppressions x WHERE x.email = sb.email)
	AND EXISTS (SELECT 1 FROM deliveries d WHERE d.subscriber_id = sb.id AND d.status = 'sent' AND d.updated_at >= $1)
	AND NOT EXISTS (SELECT 1 FROM events e WHERE e.subscriber_id = sb.id AND e.kind IN ('open', 'click') AND e.class <> 'machine' AND e.at >= $1)
	AND ` + stamped
}

// Sunset applies a sunset policy and reports whom it moved.
func (s *Store) Sunset(ctx context.Context, p SunsetPolicy) (SunsetReport, error) {
	rep := SunsetReport{Policy: p}
	if p.Months < 1 || p.Months > 60 {
		return rep, fmt.Errorf("sunset: months must be from 1 to 60 (got %d)", p.Months)
	}
	if p.Action != SunsetSegment && p.Action != SunsetSuppress {
		return rep, fmt.Errorf("sunset: the action is %s or %s (not %q)", SunsetSegment, SunsetSuppress, p.Action)
	}
	now := s.now()
	rep.Cutoff = now.AddDate(0, -p.Months, 0)
	where := s.sunsetWhere()
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM subscribers sb WHERE`+where, rep.Cutoff).Scan(&rep.Matched); err != nil {
		return rep, fmt.Errorf("sunset: %w", err)
	}
	sample, err := s.strings(ctx, `SELECT sb.email FROM subscribers sb WHERE`+where+` ORDER BY sb.id LIMIT 20`, rep.Cutoff)
	if err != nil {
		return rep, fmt.Errorf("sunset: %w", err)
	}
	rep.Sample = sample
	if p.DryRun || rep.Matched == 0 {
		return rep, nil
	}
	detail := fmt.Sprintf("sunset: no open or click in %d months", p.Months)
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if p.Action == SunsetSuppress {
			_, err := tx.ExecContext(ctx, `INSERT INTO suppressions (email, reason, detail, created_at)
				SELECT sb.email, $2, $3, $4 FROM subscribers sb WHERE`+where+` ON CONFLICT (email) DO NOTHING`,
				rep.Cutoff, model.SuppressManual, detail, now)
			return err
		}
		set := `json_set(attributes, '$.sunset', $2)`
		if s.dialect == dialectPostgres {
			set = `attributes || jsonb_build_object('sunset', CAST($2 AS TEXT))`
		}
		_, err := tx.ExecContext(ctx, `UPDATE subscribers SET attributes = `+set+`, updated_at = $3
			WHERE id IN (SELECT sb.id FROM subscribers sb WHERE`+where+`)`, rep.Cutoff, now.Format(time.DateOnly), now)
		return err
	})
	if err != nil {
		return rep, fmt.Errorf("sunset: %w", err)
	}
	if p.Action == SunsetSegment {
		if _, err := s.SegmentByName(ctx, SunsetSegmentName); errors.Is(err, ErrNotFound) {
			if err := s.SaveSegment(ctx, &model.Segment{Name: SunsetSegmentName, Query: "attr.sunset exists"}); err != nil && !errors.Is(err, ErrConflict) {
				return rep, err
			}
		} else if err != nil {
			return rep, err
		}
	}
	return rep, nil
}
