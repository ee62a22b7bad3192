package cli

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"

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
		{"sunset", "--months N --action segment|suppress [--dry-run]", "move or suppress subscribers who stopped opening and clicking, with a report", runSunset},
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
	fs := e.flags("sunset", "--months N --action segment|suppress [--dry-run]")
	months := fs.Int("months", 6, "subscribers with no open or click for this many months")
	action := fs.String("action", store.SunsetSegment, "segment (stamp attribute sunset; saved segment \""+store.SunsetSegmentName+"\") or suppress")
	dry := fs.Bool("dry-run", false, "report whom the policy would move, and move nobody")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	cfg, err := e.config()
	if err != nil {
		return err
	}
	if cfg.Tracking != "full" {
		// Without per-subscriber opens and clicks everyone looks unengaged.
		return usageErrorf("sunset needs full tracking (tracking is %s): without it nobody's opens and clicks are known", cfg.Tracking)
	}
	return e.withStore(ctx, func(s *store.Store) error {
		rep, err := s.Sunset(ctx, store.SunsetPolicy{Months: *months, Action: *action, DryRun: *dry})
		if err != nil {
			return err
		}
		verb := map[string]string{store.SunsetSegment: "moved to the segment \"" + store.SunsetSegmentName + "\"", store.SunsetSuppress: "suppressed"}[*action]
		if *dry {
			verb = "would be " + verb
		}
		fmt.Fprintf(e.stdout, "%d subscribers with no open or click since %s %s\n", rep.Matched, rep.Cutoff.Format("2006-01-02"), verb)
		for _, m := range rep.Sample {
			fmt.Fprintf(e.stdout, "  %s\n", m)
		}
		if rep.Matched > int64(len(rep.Sample)) {
			fmt.Fprintf(e.stdout, "  … and %d more\n", rep.Matched-int64(len(rep.Sample)))
		}
		return nil
	})
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
