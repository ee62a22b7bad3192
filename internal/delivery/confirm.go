package delivery

import (
	"context"
	"fmt"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

// Confirmation is what a person confirms before a campaign starts: where
// it goes, to how many readers, and the earlier sends of the same edition
// to the same lists (a second send of an edition is most often a mistake).
type Confirmation struct {
	Campaign *model.Campaign
	// Audience names the campaign's lists, then its segments.
	Lists    []string
	Segments []string
	// Readers is how many it goes to if it starts now.
	Readers int64
	// Already are the campaigns that sent the same edition to one of the
	// same lists, newest first.
	Already []store.PriorSend
}

// Confirmer is the part of the store a start confirmation reads.
type Confirmer interface {
	Campaign(ctx context.Context, id int64) (*model.Campaign, error)
	ListByID(ctx context.Context, id int64) (*model.List, error)
	Segment(ctx context.Context, id int64) (*model.Segment, error)
	AudienceCount(ctx context.Context, id int64) (int64, error)
	PriorSends(ctx context.Context, id int64) ([]store.PriorSend, error)
}

// ConfirmStart reads what starting campaign id would do, for every front
// door that asks before it starts.
func ConfirmStart(ctx context.Context, st Confirmer, id int64) (*Confirmation, error) {
	c, err := st.Campaign(ctx, id)
	if err != nil {
		return nil, err
	}
	cf := &Confirmation{Campaign: c}
	for _, lid := range c.ListIDs {
		l, err := st.ListByID(ctx, lid)
		if err != nil {
			return nil, fmt.Errorf("confirm campaign %d: %w", id, err)
		}
		cf.Lists = append(cf.Lists, l.Name)
	}
	for _, sid := range c.SegmentIDs {
		sg, err := st.Segment(ctx, sid)
		if err != nil {
			return nil, fmt.Errorf("confirm campaign %d: %w", id, err)
		}
		cf.Segments = append(cf.Segments, sg.Name)
	}
	if cf.Readers, err = st.AudienceCount(ctx, id); err != nil {
		return nil, err
	}
	if cf.Already, err = st.PriorSends(ctx, id); err != nil {
		return nil, err
	}
	return cf, nil
}
