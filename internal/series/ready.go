package series

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/herald-news/herald/internal/edition"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

// Errors of MarkReady, for each front door to word its own way.
var (
	// ErrNotADraft: the edition is not a series' draft.
	ErrNotADraft = errors.New("this edition is not the draft of a series")
	// ErrSent: the day's edition has gone out already.
	ErrSent = errors.New("this day's edition has already been sent")
)

// NotReadyError lists what keeps a draft from being marked ready.
type NotReadyError struct {
	Problems []edition.Problem
}

func (e *NotReadyError) Error() string {
	return "the edition is not ready to send: " + e.Problems[0].String()
}

// MarkReady marks the series draft editionID ready to go at its slot (or,
// with ready false, back to draft). Placeholders the template left empty
// (a card, brief or pick with nothing written in it) are dropped first
// and the draft saved without them, so they never block an edition whose
// real items the desk added after them; what is left must pass the
// edition's check. author is who marks it, for the revision.
func MarkReady(ctx context.Context, s *store.Store, editionID int64, ready bool, author string) (*model.SeriesRun, error) {
	run, err := s.RunOfEdition(ctx, editionID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotADraft
	}
	if err != nil {
		return nil, err
	}
	if ready {
		e, err := s.GetEdition(ctx, editionID)
		if err != nil {
			return nil, err
		}
		if DropPlaceholders(e) {
			if err := s.UpdateEdition(ctx, e, author); err != nil {
				return nil, fmt.Errorf("save the draft without its empty placeholders: %w", err)
			}
		}
		if ps := edition.Validate(e); len(ps) > 0 {
			return nil, &NotReadyError{Problems: ps}
		}
	}
	if err := s.MarkRunReady(ctx, run.ID, ready); err != nil {
		if errors.Is(err, store.ErrBadTransition) {
			return nil, ErrSent
		}
		return nil, err
	}
	return s.RunOfEdition(ctx, editionID)
}

// DropPlaceholders removes the cards, briefs and picks nobody wrote in
// (no headline or title and no link or text), and sections of those kinds
// left with none, and reports whether it removed anything.
func DropPlaceholders(e *model.Edition) bool {
	blank := func(ss ...string) bool {
		for _, s := range ss {
			if strings.TrimSpace(s) != "" {
				return false
			}
		}
		return true
	}
	changed := false
	kept := e.Sections[:0]
	for _, s := range e.Sections {
		n := len(s.Cards) + len(s.Briefs) + len(s.Picks)
		s.Cards = dropWhere(s.Cards, func(c model.Card) bool { return blank(c.Headline, c.URL, c.Author) })
		s.Briefs = dropWhere(s.Briefs, func(b model.Brief) bool { return blank(b.Headline, b.Body) })
		s.Picks = dropWhere(s.Picks, func(p model.Pick) bool { return blank(p.Title, p.URL, p.Author) })
		if m := len(s.Cards) + len(s.Briefs) + len(s.Picks); m != n {
			changed = true
			if m == 0 {
				continue // a section of placeholders only
			}
		}
		kept = append(kept, s)
	}
	e.Sections = kept
	return changed
}

func dropWhere[T any](items []T, empty func(T) bool) []T {
	out := items[:0]
	for _, it := range items {
		if !empty(it) {
			out = append(out, it)
		}
	}
	return out
}
