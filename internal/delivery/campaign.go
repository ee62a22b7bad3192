package delivery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/herald-news/herald/internal/edition"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/settings"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/validator"
)

// Campaigns is the part of the store that creating a campaign and
// changing its status use.
type Campaigns interface {
	Halter
	GetEdition(ctx context.Context, id int64) (*model.Edition, error)
	ListByID(ctx context.Context, id int64) (*model.List, error)
	Segment(ctx context.Context, id int64) (*model.Segment, error)
	CreateCampaign(ctx context.Context, c *model.Campaign) error
	ScheduleCampaign(ctx context.Context, id int64, at time.Time) error
	settings.PublicationReader
}

// CheckCampaign fills in c's sender where it is empty (settings.FillSender:
// its first list's brand, the publication's sender, else from, the
// configured From) and runs every check a campaign passes before it is
// stored: validator.Campaign, then that its edition exists and is ready to
// send and that its lists and segments exist. The problems with the input
// are *validator.Error naming the field, every one at once
// (validator.Errors); other errors are the store's.
func CheckCampaign(ctx context.Context, st Campaigns, c *model.Campaign, from string) error {
	e, err := st.GetEdition(ctx, c.EditionID)
	if errors.Is(err, store.ErrNotFound) {
		e = nil
	} else if err != nil {
		return fmt.Errorf("check campaign: read edition %d: %w", c.EditionID, err)
	}
	return CheckCampaignOf(ctx, st, c, e, from)
}

// CheckCampaignOf is CheckCampaign for a campaign of the edition e, which
// need not be stored yet (a series' automatic edition is stored in the
// same transaction as its campaign); a nil e is a missing edition.
func CheckCampaignOf(ctx context.Context, st Campaigns, c *model.Campaign, e *model.Edition, from string) error {
	if err := settings.FillSender(ctx, st, c, from); err != nil {
		return err
	}
	es := validator.Errors(validator.All(validator.Campaign(c)))
	for _, id := range c.ListIDs {
		if _, err := st.ListByID(ctx, id); errors.Is(err, store.ErrNotFound) {
			es = append(es, validator.New("list_ids", "admin.validator.no_list", "ID", id))
			break
		} else if err != nil {
			return err
		}
	}
	for _, id := range c.SegmentIDs {
		if _, err := st.Segment(ctx, id); errors.Is(err, store.ErrNotFound) {
			es = append(es, validator.New("segment_ids", "admin.validator.no_segment", "ID", id))
			break
		} else if err != nil {
			return err
		}
	}
	if e == nil {
		es = append(es, validator.New("edition_id", "admin.validator.edition"))
	} else if ps := edition.Validate(e); len(ps) > 0 {
		es = append(es, validator.New("edition_id", "admin.validator.edition_not_ready", "Problem", ps.Error()))
	}
	return es.Err()
}

// SeriesCheck is the series scheduler's campaign check (series.Scheduler
// Check): CheckCampaignOf against st, with from for series that set no
// sender of their own.
func SeriesCheck(st Campaigns, from string) func(context.Context, *model.Campaign, *model.Edition) error {
	return func(ctx context.Context, c *model.Campaign, e *model.Edition) error {
		return CheckCampaignOf(ctx, st, c, e, from)
	}
}

// CreateCampaign checks c with CheckCampaign and stores it: a draft, or
// scheduled when SendAt is set. Every front door creates campaigns here.
func CreateCampaign(ctx context.Context, st Campaigns, c *model.Campaign, from string) error {
	if err := CheckCampaign(ctx, st, c, from); err != nil {
		return err
	}
	return st.CreateCampaign(ctx, c)
}

// ErrNotSending is a start asked of a process that runs no delivery engine.
var ErrNotSending = errors.New("sending is not running on this server")

// Action is a status change a person asks of a campaign.
type Action string

// The status changes. Start freezes a draft or scheduled campaign and
// writes its ledger; Pause and Cancel return once nothing of it is in
// flight (see Halt); Resume continues a paused one; Schedule sets the send
// time of a draft or scheduled one (a zero time makes it a draft again).
const (
	Start    Action = "start"
	Pause    Action = "pause"
	Resume   Action = "resume"
	Cancel   Action = "cancel"
	Schedule Action = "schedule"
)

// Changed is what a status change did.
type Changed struct {
	// Recipients is how many the campaign goes to (Start).
	Recipients int64
	// InFlight is how many messages a node that did not answer in time
	// still held when Pause or Cancel returned (they go back unsent when
	// their claim runs out).
	InFlight int64
}

// ChangeStatus makes a status change of campaign id, for every front door.
// eng is this process's engine, or nil in a process that does not send:
// then Start fails with ErrNotSending and the other changes reach the
// senders through the store. A change the campaign's status does not
// allow fails with store.ErrBadTransition. at is Schedule's send time.
func ChangeStatus(ctx context.Context, st Campaigns, eng *Engine, id int64, act Action, at time.Time) (Changed, error) {
	var wake func()
	if eng != nil {
		wake = eng.Wake
	}
	switch act {
	case Start:
		if eng == nil {
			return Changed{}, ErrNotSending
		}
		n, err := eng.Start(ctx, id)
		return Changed{Recipients: n}, err
	case Pause, Cancel:
		to := model.CampaignPaused
		if act == Cancel {
			to = model.CampaignCancelled
		}
		left, err := Halt(ctx, st, id, to, wake)
		return Changed{InFlight: left}, err
	case Resume:
		if err := st.SetCampaignStatus(ctx, id, model.CampaignSending); err != nil {
			return Changed{}, err
		}
		if wake != nil {
			wake()
		}
		return Changed{}, nil
	case Schedule:
		if !at.IsZero() {
			// A campaign that could not start when its time comes is
			// refused now, as Start would refuse it.
			if eng != nil {
				if err := eng.CheckLinks(); err != nil {
					return Changed{}, err
				}
			}
			at = at.UTC()
		}
		return Changed{}, st.ScheduleCampaign(ctx, id, at)
	}
	return Changed{}, fmt.Errorf("campaign %d: unknown action %q", id, act)
}
