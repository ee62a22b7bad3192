package delivery

import (
	"context"
	"errors"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/store"
)

// EditionSource is where a campaign's edition and the publication's look
// are read from when the campaign starts (the store).
type EditionSource interface {
	GetEdition(ctx context.Context, id int64) (*model.Edition, error)
	GetPublication(ctx context.Context) (model.Publication, error)
}

// EditionFreezer returns a Config.Freeze that renders a campaign's edition
// with the stored publication settings, or with fallback until any are
// saved.
func EditionFreezer(src EditionSource, fallback model.Publication, opts render.Options) func(ctx context.Context, c *model.Campaign) (model.Frozen, error) {
	return func(ctx context.Context, c *model.Campaign) (model.Frozen, error) {
		ed, err := src.GetEdition(ctx, c.EditionID)
		if err != nil {
			return model.Frozen{}, err
		}
		pub, err := src.GetPublication(ctx)
		if errors.Is(err, store.ErrNotFound) {
			pub, err = fallback, nil
		}
		if err != nil {
			return model.Frozen{}, err
		}
		r, err := render.New(pub, opts)
		if err != nil {
			return model.Frozen{}, err
		}
		em, err := r.Email(ed)
		if err != nil {
			return model.Frozen{}, err
		}
		return em.Freeze(), nil
	}
}
