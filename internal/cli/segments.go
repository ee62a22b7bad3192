package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

// segmentCommands are the "herald segments ..." verbs.
func segmentCommands() []command {
	return []command{
		{"segments create", "NAME --query QUERY", "save a segment (see docs/audience.md for the query language)", runSegmentsCreate},
		{"segments ls", "", "show saved segments with their member counts", runSegmentsLs},
		{"segments count", "NAME | --query QUERY", "count a saved segment's members, or a query's", runSegmentsCount},
		{"segments rm", "NAME", "delete a saved segment (not one that is a campaign's audience)", runSegmentsRm},
		{"sunset", "--months N --action segment|suppress [--suppress-after DAYS] [--dry-run]", "move or suppress subscribers who stopped opening and clicking, with a report", runSunset},
	}
}

func runSegmentsCreate(ctx context.Context, e *env, args []string) error {
	fs := e.flags("segments create", "NAME --query QUERY")
	query := fs.String("query", "", `whom the segment selects, e.g. "list = news and opened within 30 days" (required)`)
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	if *query == "" {
		return usageErrorf("--query is required")
	}
	return e.withStore(ctx, func(s *store.Store) error {
		sg := &model.Segment{Name: pos[0], Query: *query}
		if err := s.SaveSegment(ctx, sg); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("a segment named %q exists already", sg.Name)
			}
			return err
		}
		n, err := s.CountSegmentQuery(ctx, sg.Query)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "created segment %q: %s (%d subscribers now)\n", sg.Name, sg.Query, n)
		return nil
	})
}

func runSegmentsLs(ctx context.Context, e *env, args []string) error {
	fs := e.flags("segments ls", "")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	return e.withStore(ctx, func(s *store.Store) error {
		segs, err := s.Segments(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tSUBSCRIBERS\tQUERY")
		for _, sg := range segs {
			n, err := s.CountSegmentQuery(ctx, sg.Query)
			count := fmt.Sprint(n)
			if err != nil {
				count = "error: " + err.Error() // a list it names was deleted
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", sg.Name, count, sg.Query)
		}
		return tw.Flush()
	})
}

func runSegmentsCount(ctx context.Context, e *env, args []string) error {
	fs := e.flags("segments count", "NAME | --query QUERY")
	query := fs.String("query", "", "count this query instead of a saved segment")
	pos, err := parse(fs, args, -1)
	if err != nil {
		return err
	}
	if (len(pos) == 1) == (*query != "") || len(pos) > 1 {
		return usageErrorf("segments count takes a segment's name or --query QUERY (one of them)")
	}
	return e.withStore(ctx, func(s *store.Store) error {
		q := *query
		if len(pos) == 1 {
			sg, err := segmentByName(ctx, s, pos[0])
			if err != nil {
				return err
			}
			q = sg.Query
		}
		n, err := s.CountSegmentQuery(ctx, q)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, n)
		return nil
	})
}

// segmentByName looks a segment up for a command, with a message naming it.
func segmentByName(ctx context.Context, s *store.Store, name string) (*model.Segment, error) {
	sg, err := s.SegmentByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("there is no segment %q (see 'herald segments ls')", name)
	}
	return sg, err
}

func runSunset(ctx context.Context, e *env, args []string) error {
	fs := e.flags("sunset", "--months N --action segment|suppress [--suppress-after DAYS] [--dry-run]")
	months := fs.Int("months", 6, "subscribers with no open or click for this many months")
	action := fs.String("action", store.SunsetSegment, "segment (stamp attribute sunset; saved segment \""+store.SunsetSegmentName+"\") or suppress")
	after := fs.Int("suppress-after", 0, "with segment: suppress readers silent this many days in the segment after being sent mail there (0: never)")
	dry := fs.Bool("dry-run", false, "report whom the policy would move, and move nobody")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	cfg, err := e.config()
	if err != nil {
		return err
	}
	return e.withStore(ctx, func(s *store.Store) error {
		set, err := appSettings(cfg, s)
		if err != nil {
			return err
		}
		rep, err := delivery.Sunset(ctx, s, set, store.SunsetPolicy{Months: *months, Action: *action, SuppressAfter: *after, DryRun: *dry})
		if errors.Is(err, delivery.ErrSunsetNeedsTracking) {
			return usageErrorf("%v", err)
		}
		if err != nil {
			return err
		}
		printSunset(e.stdout, rep)
		return nil
	})
}

// printSunset writes a sunset's report, a line per thing it did and up to
// 20 addresses under each.
func printSunset(w io.Writer, rep store.SunsetReport) {
	would := ""
	if rep.Policy.DryRun {
		would = "would be "
	}
	list := func(n int64, some []string) {
		for _, m := range some {
			fmt.Fprintf(w, "  %s\n", m)
		}
		if n > int64(len(some)) {
			fmt.Fprintf(w, "  … and %d more\n", n-int64(len(some)))
		}
	}
	if rep.Returned > 0 {
		fmt.Fprintf(w, "%d subscribers opened or clicked again: %staken out of the segment %q\n", rep.Returned, would, store.SunsetSegmentName)
	}
	if rep.Suppressed > 0 || rep.Policy.SuppressAfter > 0 {
		fmt.Fprintf(w, "%d subscribers silent for %d days in the segment %ssuppressed\n", rep.Suppressed, rep.Policy.SuppressAfter, would)
		list(rep.Suppressed, rep.SuppressSample)
	}
	verb := map[string]string{store.SunsetSegment: "moved to the segment \"" + store.SunsetSegmentName + "\"", store.SunsetSuppress: "suppressed"}[rep.Policy.Action]
	fmt.Fprintf(w, "%d subscribers with no open or click since %s %s%s\n", rep.Matched, rep.Cutoff.Format("2006-01-02"), would, verb)
	list(rep.Matched, rep.Sample)
}

func runSegmentsRm(ctx context.Context, e *env, args []string) error {
	fs := e.flags("segments rm", "NAME")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	return e.withStore(ctx, func(s *store.Store) error {
		sg, err := s.SegmentByName(ctx, pos[0])
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("there is no segment named %q ('herald segments ls' shows them)", pos[0])
		}
		if err != nil {
			return err
		}
		if err := s.DeleteSegment(ctx, sg.ID); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "deleted segment %s\n", sg.Name)
		return nil
	})
}
