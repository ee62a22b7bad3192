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
	fs := e.flags("export", "--list SLUG [--status confirmed|unconfirmed|unsubscribed] [--output FILE]")
	list := fs.String("list", "", "the list to export (required)")
	status := fs.String("status", "", "only subscriptions with this status (default: all)")
	output := fs.String("output", "-", "write the CSV to this file instead of standard output")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	if *list == "" {
		return usageErrorf("--list is required")
	}
	st := model.SubscriptionStatus(*status)
	if st != "" && !st.Valid() {
		return usageErrorf("--status must be confirmed, unconfirmed or unsubscribed")
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
		n, err := importer.Export(ctx, w, s, store.ExportFilter{ListID: l.ID, Status: st})
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
