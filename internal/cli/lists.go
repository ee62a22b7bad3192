package cli

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/validator"
)

func runListsCreate(ctx context.Context, e *env, args []string) error {
	fs := e.flags("lists create", "SLUG --name NAME [--description TEXT] [--double-opt-in] [--public] [--language TAG]")
	lang := fs.String("language", "", "the language of the list's briefing and of Herald's words to its readers (fr, de, ar, ...); default: the publication's")
	name := fs.String("name", "", "the list's name, as readers see it (required)")
	desc := fs.String("description", "", "a sentence about the list")
	double := fs.Bool("double-opt-in", false, "new subscribers confirm by email before they receive mail")
	public := fs.Bool("public", false, "show the list on the public subscribe page")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	slug := pos[0]
	l := &model.List{Slug: slug, Name: *name, Description: *desc, OptIn: model.OptInSingle, Public: *public, Language: *lang}
	if *double {
		l.OptIn = model.OptInDouble
	}
	// Checked before the store opens, by the rule the store keeps.
	if err := validator.List(l); err != nil {
		return err
	}
	return e.withStore(ctx, func(s *store.Store) error {
		if err := s.CreateList(ctx, l); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("a list with the slug %q exists already", slug)
			}
			return err
		}
		fmt.Fprintf(e.stdout, "created list %s (%s, %s opt-in)\n", l.Slug, l.Name, l.OptIn)
		return nil
	})
}

func runListsLs(ctx context.Context, e *env, args []string) error {
	fs := e.flags("lists ls", "")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	return e.withStore(ctx, func(s *store.Store) error {
		lists, err := s.Lists(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SLUG\tNAME\tOPT-IN\tPUBLIC\tCONFIRMED\tUNCONFIRMED\tUNSUBSCRIBED")
		for _, l := range lists {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%d\t%d\t%d\n", l.Slug, l.Name, l.OptIn, l.Public, l.Confirmed, l.Unconfirmed, l.Unsubscribed)
		}
		return tw.Flush()
	})
}

// listBySlug looks a list up for a command, with a message naming the slug.
func listBySlug(ctx context.Context, s *store.Store, slug string) (*model.List, error) {
	l, err := s.ListBySlug(ctx, slug)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("there is no list %q (see 'herald lists ls')", slug)
	}
	return l, err
}
