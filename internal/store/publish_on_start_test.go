package store_test

import (
	"context"
	"testing"

	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// A campaign asked to publish its edition does so as it starts, in the
// start's own transaction; one not asked leaves the edition as it is.
func TestStartCampaignPublishesItsEdition(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		l := audience(t, s, "evening", 3)
		edition := func(slug string) *model.Edition {
			e, err := sample.Edition()
			if err != nil {
				t.Fatal(err)
			}
			e.Slug, e.Public = slug, true
			if err := s.CreateEdition(ctx, e, ""); err != nil {
				t.Fatal(err)
			}
			return e
		}
		kept, published := edition("kept-draft"), edition("published-on-start")
		for _, tc := range []struct {
			e       *model.Edition
			publish bool
		}{{kept, false}, {published, true}} {
			c := &model.Campaign{Name: tc.e.Slug, EditionID: tc.e.ID, ListIDs: []int64{l.ID}, From: "News <news@example.com>", PublishOnStart: tc.publish}
			if err := s.CreateCampaign(ctx, c); err != nil {
				t.Fatal(err)
			}
			got, err := s.Campaign(ctx, c.ID)
			if err != nil || got.PublishOnStart != tc.publish {
				t.Fatalf("campaign read back: publish on start %v, %v; want %v", got.PublishOnStart, err, tc.publish)
			}
			if e, _ := s.GetEdition(ctx, tc.e.ID); e.Status != model.EditionDraft {
				t.Fatalf("%s is %s before its campaign starts", tc.e.Slug, e.Status)
			}
			if _, err := s.StartCampaign(ctx, c.ID, model.Frozen{Subject: "s", HTML: []byte("h"), Text: []byte("t")}); err != nil {
				t.Fatal(err)
			}
		}
		if e, _ := s.GetEdition(ctx, kept.ID); e.Status != model.EditionDraft || !e.PublishedAt.IsZero() {
			t.Errorf("an edition whose campaign was not asked to publish it is %s (published at %v)", e.Status, e.PublishedAt)
		}
		e, err := s.GetEdition(ctx, published.ID)
		if err != nil || e.Status != model.EditionPublished || e.PublishedAt.IsZero() {
			t.Fatalf("after its campaign started, the edition is %s, published at %v (%v)", e.Status, e.PublishedAt, err)
		}
		arch, err := s.ListEditions(ctx, store.EditionFilter{Status: model.EditionPublished, PublicOnly: true})
		if err != nil || len(arch) != 1 || arch[0].ID != published.ID {
			t.Fatalf("the archive lists %d editions (%v), want the one published on start", len(arch), err)
		}
		// Published once: a second campaign of it keeps the first time.
		first := e.PublishedAt
		c := &model.Campaign{Name: "again", EditionID: published.ID, ListIDs: []int64{l.ID}, From: "News <news@example.com>", PublishOnStart: true}
		if err := s.CreateCampaign(ctx, c); err != nil {
			t.Fatal(err)
		}
		if _, err := s.StartCampaign(ctx, c.ID, model.Frozen{Subject: "s", HTML: []byte("h"), Text: []byte("t")}); err != nil {
			t.Fatal(err)
		}
		if e, _ := s.GetEdition(ctx, published.ID); !e.PublishedAt.Equal(first) || e.Status != model.EditionPublished {
			t.Errorf("a second start moved the publishing time from %v to %v", first, e.PublishedAt)
		}
	})
}
