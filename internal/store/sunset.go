package store

import (
	"context"
	"database/sql"
	"encoding/json"
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

// lastSunsetKey is the setting that keeps the last sunset's report.
const lastSunsetKey = "sunset.last_report"

// SunsetPolicy says who has stopped engaging and what to do with them.
type SunsetPolicy struct {
	Months int    `json:"months"` // no open or click for this many months (1 to 60)
	Action string `json:"action"` // SunsetSegment or SunsetSuppress
	// SuppressAfter, with SunsetSegment, suppresses readers who stayed in
	// the re-engagement segment this many days, were sent mail there and
	// neither opened nor clicked it ("win back, then suppress"); 0 never
	// does.
	SuppressAfter int  `json:"suppress_after_days,omitempty"`
	DryRun        bool `json:"dry_run,omitempty"` // report only
}

// SunsetReport is what a sunset found and did (or, dry run, would do).
type SunsetReport struct {
	Policy  SunsetPolicy `json:"policy"`
	At      time.Time    `json:"at"`
	Cutoff  time.Time    `json:"cutoff"`  // engagement since then counts
	Matched int64        `json:"matched"` // subscribers moved by the action
	Sample  []string     `json:"sample"`  // up to 20 of their addresses
	// Returned readers left the segment: they opened or clicked since
	// they were moved.
	Returned int64 `json:"returned"`
	// Suppressed readers stayed silent in the segment for SuppressAfter
	// days; SuppressSample lists up to 20.
	Suppressed     int64    `json:"suppressed"`
	SuppressSample []string `json:"suppress_sample,omitempty"`
}

// sunsetWhere selects active, unsuppressed subscribers confirmed on a list,
// who joined before the cutoff ($1), were sent at least one campaign since
// (so they had something to open), and neither opened nor clicked since.
// The segment action leaves out subscribers it already moved; the
// suppress action does not (the segment spares nobody from it).
// Anonymous events (no subscriber) cannot count for anyone: a sunset needs
// full tracking. A machine's open or click (a gateway scanning the mail)
// does not keep a reader; a privacy-protected open does (Apple Mail
// preloaded it: the mailbox is in use, and whether its owner reads cannot
// be known).
func (s *Store) sunsetWhere(action string) string {
	where := ` sb.status = 'active' AND sb.created_at < $1
	AND EXISTS (SELECT 1 FROM subscriptions sp WHERE sp.subscriber_id = sb.id AND sp.status = 'confirmed')
	AND NOT EXISTS (SELECT 1 FROM suppressions x WHERE x.email = sb.email)
	AND EXISTS (SELECT 1 FROM deliveries d WHERE d.subscriber_id = sb.id AND d.status = 'sent' AND d.updated_at >= $1)
	AND NOT EXISTS (SELECT 1 FROM events e WHERE e.subscriber_id = sb.id AND e.kind IN ('open', 'click') AND e.class <> 'machine' AND e.at >= $1)`
	if action == SunsetSegment {
		where += ` AND ` + s.sunsetStamp("sb") + ` IS NULL`
	}
	return where
}

// sunsetStamp is the SQL of a subscriber's sunset stamp (the date it was
// moved, text), NULL when none.
func (s *Store) sunsetStamp(alias string) string {
	if s.dialect == dialectPostgres {
		return alias + `.attributes->>'sunset'`
	}
	return `json_extract(` + alias + `.attributes, '$.sunset')`
}

// stampedWhere selects readers stamped on day $1 who have not opened or
// clicked since $2 (the start of that day); with sentSince, only those
// sent a campaign since then too.
func (s *Store) stampedWhere(engaged bool) string {
	q := ` ` + s.sunsetStamp("sb") + ` = $1 AND `
	if !engaged {
		q += `sb.status = 'active' AND NOT EXISTS (SELECT 1 FROM suppressions x WHERE x.email = sb.email)
		AND EXISTS (SELECT 1 FROM deliveries d WHERE d.subscriber_id = sb.id AND d.status = 'sent' AND d.updated_at >= $2) AND NOT `
	}
	return q + `EXISTS (SELECT 1 FROM events e WHERE e.subscriber_id = sb.id AND e.kind IN ('open', 'click') AND e.class <> 'machine' AND e.at >= $2)`
}

// Sunset applies a sunset policy and reports whom it moved. First, readers
// in the re-engagement segment who opened or clicked since they were moved
// leave it; with SuppressAfter, those who stayed silent there that long
// after being sent mail are suppressed; then the action moves whoever
// stopped engaging. A run that is not a dry run is kept as the last
// report (LastSunset).
func (s *Store) Sunset(ctx context.Context, p SunsetPolicy) (SunsetReport, error) {
	rep := SunsetReport{Policy: p}
	if p.Months < 1 || p.Months > 60 {
		return rep, fmt.Errorf("sunset: months must be from 1 to 60 (got %d)", p.Months)
	}
	if p.Action != SunsetSegment && p.Action != SunsetSuppress {
		return rep, fmt.Errorf("sunset: the action is %s or %s (not %q)", SunsetSegment, SunsetSuppress, p.Action)
	}
	if p.SuppressAfter < 0 {
		return rep, fmt.Errorf("sunset: days before suppressing must be 0 or more (got %d)", p.SuppressAfter)
	}
	now := s.now()
	rep.At = now
	rep.Cutoff = now.AddDate(0, -p.Months, 0)
	if err := s.sunsetSegmentMembers(ctx, &rep, now); err != nil {
		return rep, fmt.Errorf("sunset: %w", err)
	}
	where := s.sunsetWhere(p.Action)
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM subscribers sb WHERE`+where, rep.Cutoff).Scan(&rep.Matched); err != nil {
		return rep, fmt.Errorf("sunset: %w", err)
	}
	sample, err := s.strings(ctx, `SELECT sb.email FROM subscribers sb WHERE`+where+` ORDER BY sb.id LIMIT 20`, rep.Cutoff)
	if err != nil {
		return rep, fmt.Errorf("sunset: %w", err)
	}
	rep.Sample = sample
	if p.DryRun {
		return rep, nil
	}
	if rep.Matched > 0 {
		if err := s.sunsetMove(ctx, p, rep.Cutoff, now); err != nil {
			return rep, fmt.Errorf("sunset: %w", err)
		}
	}
	b, err := json.Marshal(rep)
	if err != nil {
		return rep, fmt.Errorf("sunset: %w", err)
	}
	if err := s.PutSetting(ctx, lastSunsetKey, string(b)); err != nil {
		return rep, fmt.Errorf("sunset: %w", err)
	}
	return rep, nil
}

// sunsetMove applies the action to whoever sunsetWhere selects.
func (s *Store) sunsetMove(ctx context.Context, p SunsetPolicy, cutoff, now time.Time) error {
	where := s.sunsetWhere(p.Action)
	detail := fmt.Sprintf("sunset: no open or click in %d months", p.Months)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if p.Action == SunsetSuppress {
			_, err := tx.ExecContext(ctx, `INSERT INTO suppressions (email, reason, detail, created_at)
				SELECT sb.email, $2, $3, $4 FROM subscribers sb WHERE`+where+` ON CONFLICT (email) DO NOTHING`,
				cutoff, model.SuppressManual, detail, now)
			return err
		}
		set := `json_set(attributes, '$.sunset', $2)`
		if s.dialect == dialectPostgres {
			set = `attributes || jsonb_build_object('sunset', CAST($2 AS TEXT))`
		}
		_, err := tx.ExecContext(ctx, `UPDATE subscribers SET attributes = `+set+`, updated_at = $3
			WHERE id IN (SELECT sb.id FROM subscribers sb WHERE`+where+`)`, cutoff, now.Format(time.DateOnly), now)
		return err
	})
	if err != nil || p.Action != SunsetSegment {
		return err
	}
	if _, err := s.SegmentByName(ctx, SunsetSegmentName); errors.Is(err, ErrNotFound) {
		if err := s.SaveSegment(ctx, &model.Segment{Name: SunsetSegmentName, Query: "attr.sunset exists"}); err != nil && !errors.Is(err, ErrConflict) {
			return err
		}
	} else if err != nil {
		return err
	}
	return nil
}

// sunsetSegmentMembers lets readers in the segment who engaged again
// leave it, and suppresses those silent there for the policy's
// SuppressAfter days, one stamp day at a time (a sunset stamps one day
// per run, so there are few).
func (s *Store) sunsetSegmentMembers(ctx context.Context, rep *SunsetReport, now time.Time) error {
	p := rep.Policy
	days, err := s.strings(ctx, `SELECT DISTINCT `+s.sunsetStamp("sb")+` FROM subscribers sb WHERE `+s.sunsetStamp("sb")+` IS NOT NULL ORDER BY 1`)
	if err != nil {
		return err
	}
	unset := `json_remove(attributes, '$.sunset')`
	if s.dialect == dialectPostgres {
		unset = `attributes - 'sunset'`
	}
	for _, day := range days {
		since, err := time.Parse(time.DateOnly, day)
		if err != nil {
			continue // not a stamp a sunset wrote
		}
		var back int64
		if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM subscribers sb WHERE`+s.stampedWhere(true), day, since).Scan(&back); err != nil {
			return err
		}
		rep.Returned += back
		if back > 0 && !p.DryRun {
			if _, err := s.w.ExecContext(ctx, `UPDATE subscribers SET attributes = `+unset+`, updated_at = $3
				WHERE id IN (SELECT sb.id FROM subscribers sb WHERE`+s.stampedWhere(true)+`)`, day, since, now); err != nil {
				return err
			}
		}
		if p.Action != SunsetSegment || p.SuppressAfter == 0 || now.Before(since.AddDate(0, 0, p.SuppressAfter)) {
			continue
		}
		var silent int64
		if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM subscribers sb WHERE`+s.stampedWhere(false), day, since).Scan(&silent); err != nil {
			return err
		}
		if silent == 0 {
			continue
		}
		rep.Suppressed += silent
		if n := 20 - len(rep.SuppressSample); n > 0 {
			some, err := s.strings(ctx, `SELECT sb.email FROM subscribers sb WHERE`+s.stampedWhere(false)+fmt.Sprintf(` ORDER BY sb.id LIMIT %d`, n), day, since)
			if err != nil {
				return err
			}
			rep.SuppressSample = append(rep.SuppressSample, some...)
		}
		if p.DryRun {
			continue
		}
		detail := fmt.Sprintf("sunset: no open or click in %d days in the re-engagement segment", p.SuppressAfter)
		if _, err := s.w.ExecContext(ctx, `INSERT INTO suppressions (email, reason, detail, created_at)
			SELECT sb.email, $3, $4, $5 FROM subscribers sb WHERE`+s.stampedWhere(false)+` ON CONFLICT (email) DO NOTHING`,
			day, since, model.SuppressManual, detail, now); err != nil {
			return err
		}
	}
	return nil
}

// LastSunset returns the report of the last sunset that was not a dry
// run; ok is false when none has run.
func (s *Store) LastSunset(ctx context.Context) (rep SunsetReport, ok bool, err error) {
	v, err := s.Setting(ctx, lastSunsetKey)
	if errors.Is(err, ErrNotFound) {
		return rep, false, nil
	}
	if err != nil {
		return rep, false, err
	}
	if err := json.Unmarshal([]byte(v), &rep); err != nil {
		return rep, false, fmt.Errorf("read the last sunset report: %w", err)
	}
	return rep, true, nil
}
