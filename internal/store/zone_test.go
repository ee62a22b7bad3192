package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestOneTimeZone: the publication's time zone and the newsroom's are one
// setting. Migration 0023 merges what an older binary stored in two
// places (the publication's where it was set, else the newsroom's), and
// after it the publication's TimeZone and the newsroom's setting read and
// write the same value.
func TestOneTimeZone(t *testing.T) {
	pub := func(zone string) string {
		doc := `{"name":"Courier","site_url":"https://courier.example","colors":{},"postal_address":""`
		if zone != "-" {
			doc += `,"time_zone":"` + zone + `"`
		}
		return `INSERT INTO publication (id, settings, updated_at) VALUES (1, '` + doc + `}', '2026-01-01T00:00:00Z')
			ON CONFLICT (id) DO UPDATE SET settings = excluded.settings`
	}
	newsroom := func(zone string) string {
		if zone == "" {
			return `DELETE FROM settings WHERE key = '` + store.NewsroomZoneSetting + `'`
		}
		return `INSERT INTO settings (key, value, updated_at) VALUES ('` + store.NewsroomZoneSetting + `', '` + zone + `', '2026-01-01T00:00:00Z')
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`
	}
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for _, tc := range []struct {
			what, pub, newsroom, want string
		}{
			{"both set: the publication's wins", "Europe/Berlin", "America/New_York", "Europe/Berlin"},
			{"only the newsroom's", "-", "America/New_York", "America/New_York"},
			{"an empty publication zone", "", "America/New_York", "America/New_York"},
			{"only the publication's", "Asia/Tokyo", "", "Asia/Tokyo"},
			{"neither", "-", "", ""},
		} {
			if err := s.RunMigrationForTest(ctx, 23, newsroom(tc.newsroom), pub(tc.pub)); err != nil {
				t.Fatalf("%s: %v", tc.what, err)
			}
			got, err := s.TimeZone(ctx)
			if err != nil || got != tc.want {
				t.Errorf("%s: the zone is %q (%v), want %q", tc.what, got, err, tc.want)
			}
			if p, err := s.GetPublication(ctx); err != nil || p.TimeZone != tc.want || p.Name != "Courier" {
				t.Errorf("%s: the publication reads %+v (%v), zone want %q", tc.what, p, err, tc.want)
			}
			if doc, err := s.PublicationDocForTest(ctx); err != nil || strings.Contains(doc, "time_zone") {
				t.Errorf("%s: the publication still holds a zone of its own: %s (%v)", tc.what, doc, err)
			}
		}

		// After: one value, whichever way it is written.
		p, err := s.GetPublication(ctx)
		if err != nil {
			t.Fatal(err)
		}
		p.TimeZone = "Europe/Lisbon"
		if err := s.SavePublication(ctx, p); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Setting(ctx, store.NewsroomZoneSetting); err != nil || got != "Europe/Lisbon" {
			t.Fatalf("saved with the publication, the newsroom's zone is %q, %v", got, err)
		}
		if err := s.PutSetting(ctx, store.NewsroomZoneSetting, "Pacific/Auckland"); err != nil {
			t.Fatal(err)
		}
		if p, err := s.GetPublication(ctx); err != nil || p.TimeZone != "Pacific/Auckland" {
			t.Fatalf("set for the newsroom, the publication's zone is %q, %v", p.TimeZone, err)
		}
		p.TimeZone = ""
		if err := s.SavePublication(ctx, p); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.TimeZone(ctx); got != "Pacific/Auckland" {
			t.Fatalf("a publication saved without a zone changed it to %q", got)
		}
	})
}
