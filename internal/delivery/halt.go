package delivery

import (
	"context"
	"fmt"
	"time"

	"github.com/herald-news/herald/internal/model"
)

// Halter is the part of the store that pausing and cancelling use.
type Halter interface {
	SetCampaignStatus(ctx context.Context, id int64, to model.CampaignStatus) error
	InFlight(ctx context.Context, campaignID int64) (int64, error)
}

// HaltWait is the longest Halt waits for mail in flight to settle.
const HaltWait = 15 * time.Second

// Halt pauses or cancels a campaign and returns once no message of it is in
// flight on any node, so that nothing of it goes out after Halt returns.
// Workers see the new status within Config.StateEvery (at once on this node
// when wake is the local engine's Wake; other nodes hear a notice) and give
// back the rows they claimed but have not begun to send; a message already
// in its SMTP transaction finishes. It waits at most HaltWait (less if ctx
// ends sooner) and returns how many rows were still in flight then: rows
// held by a node that stopped answering, which are given back unsent when
// their lease ends.
func Halt(ctx context.Context, h Halter, id int64, to model.CampaignStatus, wake func()) (int64, error) {
	if to != model.CampaignPaused && to != model.CampaignCancelled {
		return 0, fmt.Errorf("delivery: halt to %s: only paused or cancelled", to)
	}
	if err := h.SetCampaignStatus(ctx, id, to); err != nil {
		return 0, err
	}
	if wake != nil {
		wake()
	}
	deadline := time.Now().Add(HaltWait)
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		n, err := h.InFlight(ctx, id)
		if err != nil || n == 0 || time.Now().After(deadline) {
			return n, err
		}
		select {
		case <-ctx.Done():
			return n, nil
		case <-time.After(wait):
		}
	}
}
