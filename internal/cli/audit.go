package cli

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/settings"
	"github.com/herald-news/herald/internal/store"
)

// auditCommands read the audit log and set how long it is kept.
func auditCommands() []command {
	return []command{
		{"audit", "[--action A] [--since 24h] [--user U] [--object O] [--limit N] [--csv]", "show who changed what, newest first", runAudit},
		{"audit retention", "[DAYS]", "show or set how many days audit rows are kept (0: for ever)", runAuditRetention},
	}
}

func runAudit(ctx context.Context, e *env, args []string) error {
	fs := e.flags("audit", "[--action A] [--since 24h] [--user U] [--object O] [--limit N] [--csv]")
	action := fs.String("action", "", "an action (campaign.start), or all of a kind (campaign.)")
	since := fs.String("since", "", "how far back: a duration (24h, 7d), a date (2026-03-01) or an RFC 3339 time")
	user := fs.String("user", "", "the actor (a user's email, a token's name, cli:NAME), or a user with their tokens")
	object := fs.String("object", "", "an object (campaign/12), or all of a kind (campaign)")
	limit := fs.Int("limit", 50, "at most this many entries (up to 1000; with --csv, all that match)")
	asCSV := fs.Bool("csv", false, "write CSV (at, actor, via, ip, action, object, changes) for a spreadsheet")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	f := audit.Filter{Action: *action, User: *user, Object: *object}
	var err error
	if f.Since, err = audit.ParseSince(*since, time.Now()); err != nil {
		return usageErrorf("--%v", err)
	}
	if *limit < 1 || *limit > 1000 {
		return usageErrorf("--limit must be from 1 to 1000")
	}
	return e.withStore(ctx, func(s *store.Store) error {
		if *asCSV {
			return auditCSV(ctx, e, s, f)
		}
		f.Limit = *limit
		es, err := s.AuditEntries(ctx, f)
		if err != nil {
			return err
		}
		if len(es) == 0 {
			fmt.Fprintln(e.stderr, "no audit entries match")
			return nil
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "AT (UTC)\tACTOR\tVIA\tIP\tACTION\tOBJECT\tCHANGES")
		for _, en := range es {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", en.At.UTC().Format("2006-01-02 15:04:05"), en.Actor, en.Via,
				orDash(en.IP), en.Action, en.Object, changesLine(en.Changes))
		}
		return tw.Flush()
	})
}

// auditCSV writes every entry f selects, a thousand at a time.
func auditCSV(ctx context.Context, e *env, s *store.Store, f audit.Filter) error {
	w := csv.NewWriter(e.stdout)
	if err := w.Write(audit.CSVHeader); err != nil {
		return err
	}
	f.Limit = 1000
	for {
		es, err := s.AuditEntries(ctx, f)
		if err != nil {
			return err
		}
		for _, en := range es {
			if err := w.Write(en.CSVRecord()); err != nil {
				return err
			}
		}
		if len(es) < f.Limit {
			break
		}
		f.BeforeID = es[len(es)-1].ID
	}
	w.Flush()
	return w.Error()
}

// changesLine is a row's changes on one line: "status: sending → paused".
func changesLine(ch audit.Changes) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(ch)) {
		c := ch[k]
		if c.Before == nil {
			parts = append(parts, k+": "+audit.Show(c.After))
		} else {
			parts = append(parts, k+": "+audit.Show(c.Before)+" → "+audit.Show(c.After))
		}
	}
	return strings.Join(parts, "; ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func runAuditRetention(ctx context.Context, e *env, args []string) error {
	fs := e.flags("audit retention", "[DAYS]")
	pos, err := parse(fs, args, -1)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usageErrorf("audit retention takes at most one number of days")
	}
	return e.withStore(ctx, func(s *store.Store) error {
		if len(pos) == 1 {
			days, err := settings.ParseAuditRetention(pos[0])
			if err == nil {
				err = settings.SaveAuditRetention(ctx, s, days)
			}
			var se *settings.InvalidError
			if errors.As(err, &se) {
				return usageErrorf("%s", strings.TrimSuffix(se.Msg, "."))
			}
			if err != nil {
				return err
			}
		}
		days, err := settings.LoadAuditRetention(ctx, s)
		if err != nil {
			return err
		}
		if days == 0 {
			fmt.Fprintln(e.stdout, "audit rows are kept for ever")
		} else {
			fmt.Fprintf(e.stdout, "audit rows are kept for %d days\n", days)
		}
		return nil
	})
}
