package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/progress"
	"github.com/herald-news/herald/internal/store"
)

// runCopy copies the configured SQLite installation into an empty
// PostgreSQL database: the move from one machine to several. It exits 0
// only when every table's count in the target matches the source's.
func runCopy(ctx context.Context, e *env, args []string) error {
	fs := e.flags("copy", "--to postgres://...")
	to := fs.String("to", "", "the empty PostgreSQL database to copy into (required)")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	if !strings.HasPrefix(*to, "postgres://") && !strings.HasPrefix(*to, "postgresql://") {
		return usageErrorf("--to must be a PostgreSQL URL (postgres://user:pass@host/db)")
	}
	cfg, err := e.config()
	if err != nil {
		return err
	}
	if cfg.DatabaseURL.Reveal() != "" {
		return errors.New("herald copy reads the embedded SQLite database, and this Herald is configured for PostgreSQL: run it with the SQLite installation's configuration")
	}
	s, err := e.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	started := time.Now()
	var bar *progress.Reporter
	rep, err := s.CopyTo(ctx, *to, store.CopyOptions{
		Start: func(total int64) {
			bar = progress.New(e.stderr, progress.Options{Description: "copying", Total: total, Unit: "rows"})
		},
		Table: func(name string, rows int64) { bar.SetStatus(fmt.Sprintf("%s, %d rows", name, rows)) },
		Rows:  func(n int64) { bar.Add(n) },
	})
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return fmt.Errorf("copy to %s: %w", store.RedactURL(*to), err)
	}
	fmt.Fprintf(e.stdout, "%-24s %12s %12s\n", "table", "source", "target")
	for _, t := range rep.Tables {
		mark := ""
		if t.Source != t.Target {
			mark = "  MISMATCH"
		}
		fmt.Fprintf(e.stdout, "%-24s %12d %12d%s\n", t.Name, t.Source, t.Target, mark)
	}
	elapsed := time.Since(started)
	if bad := rep.Mismatched(); len(bad) > 0 {
		return &ExitError{Code: 1, Err: fmt.Errorf("%d of %d tables differ after the copy; do not start Herald on %s", len(bad), len(rep.Tables), store.RedactURL(*to))}
	}
	fmt.Fprintf(e.stdout, "copied %d tables, %d rows, to %s in %s (%.0f rows/s); every count matches\n",
		len(rep.Tables), rep.Rows, store.RedactURL(*to), elapsed.Round(time.Millisecond), float64(rep.Rows)/elapsed.Seconds())
	return nil
}
