package delivery

import (
	"bytes"
	"context"
	"fmt"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/settings"
)

// EditionSource is where a campaign's edition, the publication's look and
// its lists' brands are read from when the campaign starts (the store).
type EditionSource interface {
	GetEdition(ctx context.Context, id int64) (*model.Edition, error)
	GetPublication(ctx context.Context) (model.Publication, error)
	ListByID(ctx context.Context, id int64) (*model.List, error)
}

// BrandOf returns the list whose brand and language a campaign's mail
// takes: the first of its lists, nil when it goes to segments only. A
// campaign is frozen once, so a campaign to several lists wears the first
// one's brand.
func BrandOf(ctx context.Context, src interface {
	ListByID(ctx context.Context, id int64) (*model.List, error)
}, c *model.Campaign) (*model.List, error) {
	if len(c.ListIDs) == 0 {
		return nil, nil
	}
	l, err := src.ListByID(ctx, c.ListIDs[0])
	if err != nil {
		return nil, fmt.Errorf("campaign %d brand: %w", c.ID, err)
	}
	return l, nil
}

// EditionFreezer returns a Config.Freeze that renders a campaign's edition
// with the stored publication settings (or fallback until any are saved)
// under the brand and in the language of the campaign's list (BrandOf).
func EditionFreezer(src EditionSource, fallback model.Publication, opts render.Options) func(ctx context.Context, c *model.Campaign) (model.Frozen, error) {
	return func(ctx context.Context, c *model.Campaign) (model.Frozen, error) {
		ed, err := src.GetEdition(ctx, c.EditionID)
		if err != nil {
			return model.Frozen{}, err
		}
		pub, err := settings.LoadPublication(ctx, src, fallback)
		if err != nil {
			return model.Frozen{}, err
		}
		l, err := BrandOf(ctx, src, c)
		if err != nil {
			return model.Frozen{}, err
		}
		pub, opts := render.Branded(l, pub, opts)
		r, err := render.New(pub, opts)
		if err != nil {
			return model.Frozen{}, err
		}
		em, err := r.Email(ed)
		if err != nil {
			return model.Frozen{}, err
		}
		frozen := em.Freeze()
		if c.AB != nil {
			for i, v := range c.AB.Variants {
				ve := *ed
				ve.Subject = v.Subject
				if v.Preheader != "" {
					ve.Preheader = v.Preheader
				}
				vm, err := r.Email(&ve)
				if err != nil {
					return model.Frozen{}, fmt.Errorf("A/B variant %d: %w", i+1, err)
				}
				vf := vm.Freeze()
				// Each render marks its placeholders with its own random
				// prefix; the variants take the campaign's, so one thaw
				// rule serves every copy.
				old, now := []byte(vf.Prefix), []byte(frozen.Prefix)
				frozen.Variants = append(frozen.Variants, model.VariantCopy{Subject: vf.Subject, Preheader: ve.Preheader,
					HTML: bytes.ReplaceAll(vf.HTML, old, now), Text: bytes.ReplaceAll(vf.Text, old, now)})
			}
		}
		return frozen, nil
	}
}

// EditionEmail returns a function that renders a stored edition's email as
// a campaign of it would go out (the stored publication settings, or
// fallback until any are saved), with the renderer and the edition read.
// The pre-send checks read editions through it.
func EditionEmail(src EditionSource, fallback model.Publication, opts render.Options) func(ctx context.Context, editionID int64) (*render.Email, *render.Renderer, *model.Edition, error) {
	return func(ctx context.Context, editionID int64) (*render.Email, *render.Renderer, *model.Edition, error) {
		ed, err := src.GetEdition(ctx, editionID)
		if err != nil {
			return nil, nil, nil, err
		}
		pub, err := settings.LoadPublication(ctx, src, fallback)
		if err != nil {
			return nil, nil, nil, err
		}
		r, err := render.New(pub, opts)
		if err != nil {
			return nil, nil, nil, err
		}
		em, err := r.Email(ed)
		if err != nil {
			return nil, nil, nil, err
		}
		return em, r, ed, nil
	}
}
