package engage

import (
	"sort"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

// The rules that look at a recipient's clicks on one message together.
const (
	// BurstWindow: clicks within this long before or after a click are
	// counted with it. Readers take longer than this to come back from
	// one story and choose another; gateways click every link at once.
	BurstWindow = 5 * time.Second
	// HiddenLinkWindow: a recipient's clicks this close to a click on the
	// hidden link (which no person can see or reach) are the same
	// machine's.
	HiddenLinkWindow = time.Minute
)

// BurstLinks is how many distinct links within BurstWindow of a click make
// it a burst, for a message with links links: more than half of them, and
// at least 3 (so a reader opening two stories in tabs stays human). The
// migration that reclassified older events (0020) applies the same rule.
func BurstLinks(links int) int { return max(3, links/2+1) }

// Settle applies the burst and hidden-link rules to one recipient's clicks
// on one message (in any order) and returns the clicks whose class must
// change. It only ever turns human clicks into machine ones: a verdict
// from a signature stands.
func Settle(clicks []store.RecipientClick, links int) []store.Reclass {
	sort.Slice(clicks, func(i, j int) bool { return clicks[i].At.Before(clicks[j].At) })
	var hidden []time.Time
	for _, c := range clicks {
		if c.Reason == ReasonHiddenLink && c.URL == "" {
			hidden = append(hidden, c.At)
		}
	}
	need := BurstLinks(links)
	var out []store.Reclass
	for i, c := range clicks {
		if c.Class != model.ClassHuman {
			continue
		}
		if near(hidden, c.At, HiddenLinkWindow) {
			out = append(out, store.Reclass{ID: c.ID, Class: model.ClassMachine, Reason: ReasonHiddenLink})
			continue
		}
		// Distinct links among the clicks within BurstWindow either side.
		seen := map[string]struct{}{}
		for j := i; j >= 0 && c.At.Sub(clicks[j].At) <= BurstWindow; j-- {
			if clicks[j].URL != "" {
				seen[clicks[j].URL] = struct{}{}
			}
		}
		for j := i + 1; j < len(clicks) && clicks[j].At.Sub(c.At) <= BurstWindow; j++ {
			if clicks[j].URL != "" {
				seen[clicks[j].URL] = struct{}{}
			}
		}
		if len(seen) >= need {
			out = append(out, store.Reclass{ID: c.ID, Class: model.ClassMachine, Reason: ReasonBurst})
		}
	}
	return out
}

func near(times []time.Time, at time.Time, d time.Duration) bool {
	for _, t := range times {
		if diff := at.Sub(t); diff <= d && diff >= -d {
			return true
		}
	}
	return false
}
