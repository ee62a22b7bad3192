package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/herald-news/herald/internal/importer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

func runExport(ctx context.Context, e *env, args []string) error {
	fs := e.flags("export", "--list SLUG [--status confirmed|unconfirmed|unsubscribed] [--attr NAME=VALUE] [--output FILE]")
	list := fs.String("list", "", "the list to export (required)")
	status := fs.String("status", "", "only subscriptions with this status (default: all)")
	attr := fs.String("attr", "", "only subscribers whose attribute NAME is VALUE, e.g. city=Leeds")
	output := fs.String("output", "-", "write the CSV to this file instead of standard output")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	if *list == "" {
		return usageErrorf("--list is required")
	}
	if st := model.SubscriptionStatus(*status); st != "" && !st.Valid() {
		return usageErrorf("--status must be confirmed, unconfirmed or unsubscribed")
	}
	filter, err := importer.ExportFilterFor(0, *status, *attr)
	if err != nil {
		return usageErrorf("--attr: %v", err)
	}
	return e.withStore(ctx, func(s *store.Store) error {
		l, err := listBySlug(ctx, s, *list)
		if err != nil {
			return err
		}

		var w io.Writer = e.stdout
		var f *os.File
		if *output != "-" {
			if f, err = os.Create(*output); err != nil {
				return fmt.Errorf("create the export file: %w", err)
			}
			defer f.Close()
			w = f
		}
		filter.ListID = l.ID
		n, err := importer.Export(ctx, w, s, filter)
		if err != nil {
			return err
		}
		if f != nil {
			if err := f.Close(); err != nil {
				return fmt.Errorf("write the export file: %w", err)
			}
		}
		fmt.Fprintf(e.stderr, "exported %d subscribers of %s\n", n, l.Slug)
		return nil
	})
}
