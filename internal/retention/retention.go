// Package retention keeps raw opens, clicks and ledger rows only as long as
// the configuration says (retention_events_days, retention_ledger_days),
// folding older ones into per-campaign, per-link and per-day counts before
// deleting them, so every total Herald shows stays the same.
//
// Contract: Run works in small batches, each its own transaction, so a
// stop (context cancelled, a crash) loses nothing and the next run carries
// on; on SQLite it then gives the freed pages back to the file system
// (incremental vacuum). The scheduler leader runs it once a day (package
// delivery); `herald maintenance` runs it by hand with a report.
package retention

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/herald-news/herald/internal/store"
)

// Policy says how long raw rows are kept. Zero days keeps them forever.
type Policy struct {
	EventsDays int // raw opens and clicks
	LedgerDays int // ledger rows of finished campaigns, counted from the finish
	// Batch is how many rows one transaction folds (default 5,000).
	Batch int
	// Pause is a rest between batches that lets other writers in (the
	// scheduler sets it; herald maintenance goes flat out).
	Pause  time.Duration
	DryRun bool // count only
}

// Off reports whether the policy keeps everything.
func (p Policy) Off() bool { return p.EventsDays <= 0 && p.LedgerDays <= 0 }

// ErrTooShort is returned by Check for a retention shorter than the sunset
// policy's window, which would make it suppress readers who do engage.
var ErrTooShort = errors.New("retention shorter than the sunset window")

// Check refuses a policy that would delete what the sunset policy reads:
// a sunset of sunsetMonths looks for opens, clicks and sent mail that
// recent, so both kinds of rows must be kept at least that long (a month
// taken as 31 days).
func (p Policy) Check(sunsetMonths int) error {
	if sunsetMonths <= 0 {
		return nil
	}
	need := sunsetMonths * 31
	for _, k := range []struct {
		key  string
		days int
	}{{"retention_events_days", p.EventsDays}, {"retention_ledger_days", p.LedgerDays}} {
		if k.days > 0 && k.days < need {
			return fmt.Errorf("%w: %s = %d would delete the opens, clicks and sent mail that sunset_months = %d reads; keep them at least %d days, or 0 for ever",
				ErrTooShort, k.key, k.days, sunsetMonths, need)
		}
	}
	return nil
}

// Store is what Run needs of the store.
type Store interface {
	EventsToFold(ctx context.Context, before time.Time) (int64, error)
	FoldEvents(ctx context.Context, before time.Time, after int64, batch int) (folded, last int64, err error)
	LedgerToFold(ctx context.Context, before time.Time) (int64, error)
	FoldLedger(ctx context.Context, before time.Time, batch int) (int64, error)
	Space(ctx context.Context) (store.Space, error)
	ReclaimSpace(ctx context.Context, pages int64) (int64, error)
}

// Report is what a run found and did.
type Report struct {
	Policy       Policy
	EventsBefore time.Time // opens and clicks before this were folded (zero: kept forever)
	LedgerBefore time.Time // campaigns finished before this had their ledger folded
	Events       int64     // raw events folded (dry run: to fold)
	Ledger       int64     // ledger rows folded (dry run: to fold)
	Took         time.Duration
	// SQLite's file: before, and after the pages freed were given back.
	SpaceBefore, SpaceAfter store.Space
	Reclaimed               int64 // pages given back
}

// eventsFolder folds events batch after batch, each starting after the
// last id the one before looked at.
func eventsFolder(st Store) func(context.Context, time.Time, int) (int64, error) {
	var after int64
	return func(ctx context.Context, before time.Time, batch int) (int64, error) {
		n, last, err := st.FoldEvents(ctx, before, after, batch)
		after = last
		return n, err
	}
}

// reclaimStep is how many free pages one incremental vacuum step gives
// back (16 MB of 4 KB pages).
const reclaimStep = 4096

// pause rests d, or until ctx is done.
func pause(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// Progress hears how far a run is: stage is "events" or "ledger", done of
// total rows, then "space", pages given back.
type Progress func(stage string, done, total int64)

// Run applies p at now: it counts what is to fold, folds it batch by
// batch (unless p.DryRun), then reclaims the freed space. A cancelled ctx
// stops it between batches with what was done so far reported.
func Run(ctx context.Context, st Store, p Policy, now time.Time, progress Progress) (Report, error) {
	start := time.Now()
	rep := Report{Policy: p}
	if p.Batch <= 0 {
		p.Batch = 5000
	}
	if progress == nil {
		progress = func(string, int64, int64) {}
	}
	var err error
	if rep.SpaceBefore, err = st.Space(ctx); err != nil {
		return rep, err
	}
	rep.SpaceAfter = rep.SpaceBefore
	stages := []struct {
		name  string
		days  int
		since *time.Time
		done  *int64
		count func(context.Context, time.Time) (int64, error)
		fold  func(context.Context, time.Time, int) (int64, error)
	}{
		{"events", p.EventsDays, &rep.EventsBefore, &rep.Events, st.EventsToFold, eventsFolder(st)},
		{"ledger", p.LedgerDays, &rep.LedgerBefore, &rep.Ledger, st.LedgerToFold, st.FoldLedger},
	}
	for _, s := range stages {
		if s.days <= 0 {
			continue
		}
		before := now.AddDate(0, 0, -s.days)
		*s.since = before
		total, err := s.count(ctx, before)
		if err != nil {
			return rep, err
		}
		if p.DryRun {
			*s.done = total
			continue
		}
		progress(s.name, 0, total)
		for {
			if err := ctx.Err(); err != nil {
				rep.Took = time.Since(start)
				return rep, fmt.Errorf("retention stopped: %w", err)
			}
			n, err := s.fold(ctx, before, p.Batch)
			if err != nil {
				rep.Took = time.Since(start)
				return rep, err
			}
			if n == 0 {
				break
			}
			*s.done += n
			progress(s.name, *s.done, max(total, *s.done))
			pause(ctx, p.Pause)
		}
	}
	if !p.DryRun && (rep.Events > 0 || rep.Ledger > 0) {
		// A few megabytes a step: each step holds SQLite's one writer,
		// and sending must get its turn in between.
		for ctx.Err() == nil {
			n, err := st.ReclaimSpace(ctx, reclaimStep)
			if err != nil {
				return rep, err
			}
			rep.Reclaimed += n
			if n < reclaimStep {
				break
			}
			progress("space", rep.Reclaimed, max(rep.SpaceBefore.FreePages, rep.Reclaimed))
			pause(ctx, p.Pause)
		}
		if rep.SpaceAfter, err = st.Space(ctx); err != nil {
			return rep, err
		}
	}
	rep.Took = time.Since(start)
	return rep, nil
}
