package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/edition"
	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

func TestEditions(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		e, err := sample.Edition()
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CreateEdition(ctx, e, ""); err != nil {
			t.Fatal(err)
		}
		if e.ID == 0 || e.Status != model.EditionDraft || e.CreatedAt.IsZero() {
			t.Fatalf("created edition: id %d status %q created %v", e.ID, e.Status, e.CreatedAt)
		}

		// File -> store -> file is byte-identical.
		got, err := s.GetEdition(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		out, err := edition.Format(got)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, sample.Source()) {
			t.Errorf("stored edition formats differently:\n%s", out)
		}

		dup := *e
		if err := s.CreateEdition(ctx, &dup, ""); !errors.Is(err, store.ErrConflict) {
			t.Errorf("same slug twice: %v, want ErrConflict", err)
		}

		got.Subject = "A better subject"
		got.Sections = got.Sections[:2]
		if err := s.UpdateEdition(ctx, got, "ada@example.com"); err != nil {
			t.Fatal(err)
		}
		again, _ := s.EditionBySlug(ctx, e.Slug)
		if again.Subject != "A better subject" || len(again.Sections) != 2 || again.Revision != 2 || got.Revision != 2 {
			t.Errorf("update not saved: %q, %d sections, revision %d (copy says %d)", again.Subject, len(again.Sections), again.Revision, got.Revision)
		}
		// A copy read at revision 1 cannot overwrite revision 2; without a
		// revision there is no check.
		old := *again
		old.Revision, old.Subject = 1, "Stale"
		if err := s.UpdateEdition(ctx, &old, "ada@example.com"); !errors.Is(err, store.ErrStale) {
			t.Errorf("stale update: %v, want ErrStale", err)
		}
		if cur, _ := s.GetEdition(ctx, e.ID); cur.Subject != "A better subject" || cur.Revision != 2 {
			t.Errorf("a stale update changed the edition: %q at %d", cur.Subject, cur.Revision)
		}
		revs, err := s.EditionRevisions(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(revs) != 2 || revs[0].Revision != 2 || revs[1].Revision != 1 ||
			revs[0].Edition.Subject != "A better subject" || revs[1].Edition.Subject != e.Subject ||
			len(revs[1].Edition.Sections) != 4 {
			t.Errorf("revisions: %+v", revs)
		}

		if err := s.SetEditionStatus(ctx, e.ID, model.EditionPublished); err != nil {
			t.Fatal(err)
		}
		pub, _ := s.GetEdition(ctx, e.ID)
		if pub.Status != model.EditionPublished || pub.PublishedAt.IsZero() {
			t.Errorf("published: status %q at %v", pub.Status, pub.PublishedAt)
		}

		other := &model.Edition{Slug: "2025-03-14-morning", Date: "2025-03-14", Slot: model.SlotMorning, Subject: "Next"}
		if err := s.CreateEdition(ctx, other, ""); err != nil {
			t.Fatal(err)
		}
		all, err := s.ListEditions(ctx, store.EditionFilter{})
		if err != nil || len(all) != 2 || all[0].Slug != "2025-03-14-morning" {
			t.Fatalf("list all: %d, %v", len(all), err)
		}
		published, _ := s.ListEditions(ctx, store.EditionFilter{Status: model.EditionPublished, PublicOnly: true})
		if len(published) != 1 || published[0].ID != e.ID {
			t.Errorf("list published and public: %d", len(published))
		}

		if _, err := s.GetEdition(ctx, 9999); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing edition: %v", err)
		}
		if err := s.UpdateEdition(ctx, &model.Edition{ID: 9999}, "ada@example.com"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("update missing edition: %v", err)
		}
		if err := s.SetEditionStatus(ctx, 9999, model.EditionDraft); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("status of missing edition: %v", err)
		}
		if _, err := s.EditionRevisions(ctx, 9999); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("revisions of missing edition: %v", err)
		}
	})
}

func TestPublicationSettings(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if _, err := s.GetPublication(ctx); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("fresh store: %v, want ErrNotFound", err)
		}
		p := sample.Publication()
		if err := s.SavePublication(ctx, p); err != nil {
			t.Fatal(err)
		}
		p.Name = "Renamed"
		if err := s.SavePublication(ctx, p); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetPublication(ctx)
		if err != nil || got.Name != "Renamed" || got.SiteURL != p.SiteURL || len(got.Sections) != 4 {
			t.Errorf("got %+v, %v", got, err)
		}
	})
}

// TestAutosavesFoldIntoOneRevisionPerFewMinutes: saves seconds apart keep
// the first revision, about one per five minutes of editing, and the
// latest, not every pause in typing; the last state before a pause and
// the last state of one author before another saves are never folded.
func TestAutosavesFoldIntoOneRevisionPerFewMinutes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock := time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC)
		s.SetClockForTest(func() time.Time { return clock })
		e := &model.Edition{Slug: "2026-11-27-evening", Date: "2026-11-27", Slot: model.SlotEvening, Subject: "Draft"}
		if err := s.CreateEdition(ctx, e, ""); err != nil {
			t.Fatal(err)
		}
		// Twelve minutes of editing, a save every 20 seconds.
		for i := 1; i <= 36; i++ {
			clock = clock.Add(20 * time.Second)
			e.Subject = fmt.Sprintf("Draft %d", i)
			if err := s.UpdateEdition(ctx, e, "ada@example.com"); err != nil {
				t.Fatal(err)
			}
		}
		revs, err := s.EditionRevisions(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		var kept []int
		for _, r := range revs {
			kept = append(kept, r.Revision)
		}
		// Newest first: the latest (37), one per five minutes (31 at
		// 10:20, 16 at 5:20) and the first.
		if want := []int{37, 31, 16, 1}; !slices.Equal(kept, want) {
			t.Fatalf("kept revisions %v, want %v", kept, want)
		}
		if revs[0].Edition.Subject != "Draft 36" || revs[0].Author != "ada@example.com" {
			t.Fatalf("latest revision holds %q by %q", revs[0].Edition.Subject, revs[0].Author)
		}

		// The next day: the evening's last state stays. Then Bob saves
		// over Ada twice: Ada's last state stays, Bob's passing one folds.
		clock = clock.Add(24 * time.Hour)
		save := func(author string) {
			t.Helper()
			clock = clock.Add(10 * time.Second)
			if err := s.UpdateEdition(ctx, e, author); err != nil {
				t.Fatal(err)
			}
		}
		save("ada@example.com")
		save("bob@example.com")
		save("bob@example.com")
		revs, _ = s.EditionRevisions(ctx, e.ID)
		kept = kept[:0]
		for _, r := range revs {
			kept = append(kept, r.Revision)
		}
		if want := []int{40, 38, 37, 31, 16, 1}; !slices.Equal(kept, want) {
			t.Fatalf("kept revisions %v, want %v", kept, want)
		}
	})
}
