package store_test

import (
	"testing"
	"time"

	"github.com/herald-news/herald/internal/store"
)

// TestProgressCountsAreSpacedByTheirCost: a live progress display counts
// the ledger once a second while a count is quick, and spaces slow counts
// (a campaign to millions) to at most a tenth of the time.
func TestProgressCountsAreSpacedByTheirCost(t *testing.T) {
	for d, want := range map[time.Duration]time.Duration{
		5 * time.Millisecond:   time.Second,
		100 * time.Millisecond: time.Second,
		500 * time.Millisecond: 4500 * time.Millisecond,
		3 * time.Second:        27 * time.Second,
	} {
		if got := store.ProgressPause(d); got != want {
			t.Errorf("ProgressPause(%s) = %s, want %s", d, got, want)
		}
	}
}
