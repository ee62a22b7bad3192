package render_test

import (
	"testing"
	"time"
)

// An item's date is the edition's date, whenever it was published: an
// edition dated 13 March published a week later (a backfill, a late
// import) is still the 13 March edition in every feed reader.
func TestFeedEntryDatesAreTheEditionsDate(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		name               string
		published, updated string // the edition's PublishedAt and UpdatedAt
		wantPub, wantUpd   string
	}{
		{"published a week later", "2025-03-20T14:00:00Z", "2025-03-20T14:00:00Z", "2025-03-13T00:00:00Z", "2025-03-13T00:00:00Z"},
		{"published the evening before", "2025-03-12T22:00:00Z", "2025-03-12T22:00:00Z", "2025-03-13T00:00:00Z", "2025-03-13T00:00:00Z"},
		// Published on its own day: the time of day orders a day's slots.
		{"published on its day", "2025-03-13T17:30:00Z", "2025-03-13T17:30:00Z", "2025-03-13T17:30:00Z", "2025-03-13T17:30:00Z"},
		// Corrected after it was published: the correction is the update.
		{"corrected later", "2025-03-20T14:00:00Z", "2025-03-21T09:15:00Z", "2025-03-13T00:00:00Z", "2025-03-21T09:15:00Z"},
		{"never published", "", "2025-03-21T09:15:00Z", "2025-03-13T00:00:00Z", "2025-03-13T00:00:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, e := setup(t)
			e.Date = "2025-03-13"
			if tc.published != "" {
				e.PublishedAt = at(tc.published)
			}
			e.UpdatedAt = at(tc.updated)
			fe, err := r.FeedEntry(e)
			if err != nil {
				t.Fatal(err)
			}
			if !fe.Published.Equal(at(tc.wantPub)) || !fe.Updated.Equal(at(tc.wantUpd)) {
				t.Errorf("published %s, updated %s; want %s and %s", fe.Published.Format(time.RFC3339), fe.Updated.Format(time.RFC3339), tc.wantPub, tc.wantUpd)
			}
		})
	}
}
