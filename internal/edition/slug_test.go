package edition_test

import (
	"testing"

	"github.com/herald-news/herald/internal/edition"
	"github.com/herald-news/herald/internal/model"
)

// A slug Herald made follows the edition's date and slot; one an editor
// wrote stays.
func TestFollowSlot(t *testing.T) {
	for _, c := range []struct {
		slug, prevDate string
		prevSlot       model.Slot
		date           string
		slot           model.Slot
		want           string
	}{
		{"2026-03-02-morning", "2026-03-02", "morning", "2026-03-02", "evening", "2026-03-02-evening"},
		{"2026-03-02-morning-2", "2026-03-02", "morning", "2026-03-02", "evening", "2026-03-02-evening-2"},
		{"2026-03-02-morning", "2026-03-02", "morning", "2026-03-03", "morning", "2026-03-03-morning"},
		// A form opened before the last save still shows the old slug.
		{"2026-03-02-morning", "2026-03-02", "evening", "2026-03-02", "evening", "2026-03-02-evening"},
		{"2026-03-02", "2026-03-02", "", "2026-03-02", "evening", "2026-03-02-evening"},
		{"2026-03-02-late", "2026-03-02", "late", "2026-03-02", "evening", "2026-03-02-evening"},
		{"2026-03-02-evening", "2026-03-02", "evening", "2026-03-02", "evening", "2026-03-02-evening"},
		// Written by someone: kept.
		{"harbour-deal", "2026-03-02", "morning", "2026-03-02", "evening", "harbour-deal"},
		{"2026-03-02-harbour-deal", "2026-03-02", "morning", "2026-03-02", "evening", "2026-03-02-harbour-deal"},
		{"2026-03-02-morning-special", "2026-03-02", "morning", "2026-03-02", "evening", "2026-03-02-morning-special"},
		{"2026-01-01-morning", "2026-03-02", "morning", "2026-03-02", "evening", "2026-01-01-morning"},
	} {
		if got := edition.FollowSlot(c.slug, c.prevDate, c.prevSlot, c.date, c.slot); got != c.want {
			t.Errorf("FollowSlot(%q, %s %s -> %s %s) = %q, want %q", c.slug, c.prevDate, c.prevSlot, c.date, c.slot, got, c.want)
		}
	}
}
