package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/herald-news/herald/internal/progress"
	"github.com/herald-news/herald/internal/retention"
	"github.com/herald-news/herald/internal/store"
)

// runMaintenance applies the retention policy now, as the scheduler leader
// does once a day, with progress and a report.
func runMaintenance(ctx context.Context, e *env, args []string) error {
	fs := e.flags("maintenance", "[--dry-run] [--events-days N] [--ledger-days N] [--switch-vacuum]")
	dry := fs.Bool("dry-run", false, "count what would be folded and deleted, and change nothing")
	e.configFlag(fs, "events-days", "retention_events_days", "keep raw opens and clicks this many days (default: the configuration's retention_events_days)")
	e.configFlag(fs, "ledger-days", "retention_ledger_days", "keep finished campaigns' ledger rows this many days (default: retention_ledger_days)")
	switchVacuum := fs.Bool("switch-vacuum", false, "SQLite: turn on incremental vacuum for a database made before it was the default (rewrites the whole file once; stop herald serve first)")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	cfg, err := e.config()
	if err != nil {
		return err
	}
	p := retentionPolicy(cfg)
	p.DryRun = *dry
	if err := p.Check(cfg.SunsetMonths); err != nil {
		return usageErrorf("%v", err)
	}
	return e.withStore(ctx, func(s *store.Store) error {
		if *switchVacuum {
			if *dry {
				return usageErrorf("--switch-vacuum rewrites the database; it has no dry run")
			}
			start := time.Now()
			fmt.Fprintln(e.stderr, "rewriting the database with incremental vacuum on (VACUUM)…")
			if err := s.EnableIncrementalVacuum(ctx); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "incremental vacuum turned on in %s\n", time.Since(start).Round(time.Millisecond))
		}
		if p.Off() {
			fmt.Fprintln(e.stdout, "retention is off (retention_events_days and retention_ledger_days are 0): every row is kept")
			return e.reportSpace(ctx, s)
		}
		var bar *progress.Reporter
		stage := ""
		rep, err := retention.Run(ctx, s, p, time.Now(), func(name string, done, total int64) {
			if name != stage {
				if bar != nil {
					bar.Finish()
				}
				desc := map[string]string{"events": "folding opens and clicks", "ledger": "folding ledger rows", "space": "giving space back"}[name]
				unit := map[bool]string{true: "pages", false: "rows"}[name == "space"]
				bar = progress.New(e.stderr, progress.Options{Description: desc, Total: total, Unit: unit})
				stage = name
			}
			bar.Add(done - bar.Done())
		})
		if bar != nil {
			bar.Finish()
		}
		verb := "folded into counts and deleted"
		if *dry {
			verb = "would be folded into counts and deleted"
		}
		if p.EventsDays > 0 {
			fmt.Fprintf(e.stdout, "opens and clicks before %s: %d %s\n", rep.EventsBefore.Format(time.DateOnly), rep.Events, verb)
		}
		if p.LedgerDays > 0 {
			fmt.Fprintf(e.stdout, "ledger rows of campaigns finished before %s: %d %s\n", rep.LedgerBefore.Format(time.DateOnly), rep.Ledger, verb)
		}
		if err != nil {
			return err // what was folded stays folded; a new run carries on
		}
		if !*dry {
			if secs := rep.Took.Seconds(); secs > 0 {
				fmt.Fprintf(e.stdout, "took %s (%.0f rows/s)\n", rep.Took.Round(time.Millisecond), float64(rep.Events+rep.Ledger)/secs)
			}
			if rep.Reclaimed > 0 {
				fmt.Fprintf(e.stdout, "gave %s back to the file system\n", progress.FormatBytes(rep.Reclaimed*rep.SpaceBefore.PageSize))
			}
		}
		return e.reportSpace(ctx, s)
	})
}

// reportSpace prints the SQLite file's size and vacuum mode.
func (e *env) reportSpace(ctx context.Context, s *store.Store) error {
	sp, err := s.Space(ctx)
	if err != nil || sp.PageSize == 0 {
		return err
	}
	fmt.Fprintf(e.stdout, "database file: %s, %s free inside; auto_vacuum %s\n",
		progress.FormatBytes(sp.Pages*sp.PageSize), progress.FormatBytes(sp.FreePages*sp.PageSize), sp.AutoVacuum)
	if sp.AutoVacuum != "incremental" {
		fmt.Fprintln(e.stdout, "  the file does not shrink after deletions: stop herald serve and run 'herald maintenance --switch-vacuum' once")
	}
	return nil
}
