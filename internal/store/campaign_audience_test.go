package store_test

import (
	"context"
	"testing"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// AudienceCount is the number StartCampaign then writes into the ledger,
// and PriorSends finds an earlier start of the same edition to a shared
// list, but not one to another list or of another edition.
func TestAudienceCountAndPriorSends(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := audience(t, s, "a", 12)
		b := audience(t, s, "b", 3)
		y, _ := s.SubscriberByEmail(ctx, "a00001@example.com")
		s.SetSubscription(ctx, y.ID, a.ID, model.SubUnsubscribed, model.SourceOneClick)
		s.Suppress(ctx, "a00002@example.com", model.SuppressComplaint, "")

		first := &model.Campaign{Name: "Tuesday", EditionID: 7, ListIDs: []int64{a.ID}, From: "News <news@example.com>"}
		again := &model.Campaign{Name: "Tuesday again", EditionID: 7, ListIDs: []int64{b.ID, a.ID}, From: "News <news@example.com>"}
		other := &model.Campaign{Name: "Other list", EditionID: 7, ListIDs: []int64{b.ID}, From: "News <news@example.com>"}
		for _, c := range []*model.Campaign{first, again, other} {
			if err := s.CreateCampaign(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		n, err := s.AudienceCount(ctx, first.ID)
		if err != nil || n != 10 {
			t.Fatalf("AudienceCount = %d, %v; want 10 (12 less one unsubscribed, one suppressed)", n, err)
		}
		if prior, err := s.PriorSends(ctx, again.ID); err != nil || len(prior) != 0 {
			t.Fatalf("before any start, PriorSends = %+v, %v", prior, err)
		}
		total, err := s.StartCampaign(ctx, first.ID, frozenCopy)
		if err != nil || total != n {
			t.Fatalf("StartCampaign = %d, %v; AudienceCount said %d", total, err, n)
		}
		prior, err := s.PriorSends(ctx, again.ID)
		if err != nil || len(prior) != 1 || prior[0].ID != first.ID || prior[0].List != "a" || prior[0].StartedAt.IsZero() {
			t.Fatalf("PriorSends(again) = %+v, %v; want the first campaign, on list a", prior, err)
		}
		if prior, err := s.PriorSends(ctx, other.ID); err != nil || len(prior) != 0 {
			t.Fatalf("PriorSends(other list) = %+v, %v; want none", prior, err)
		}
		// Cancelled halfway, the first campaign still reached readers.
		if err := s.SetCampaignStatus(ctx, first.ID, model.CampaignCancelled); err != nil {
			t.Fatal(err)
		}
		if prior, err := s.PriorSends(ctx, again.ID); err != nil || len(prior) != 1 || prior[0].Status != model.CampaignCancelled {
			t.Fatalf("PriorSends(again) after the first was cancelled = %+v, %v; want it still", prior, err)
		}
		if n, err := s.AudienceCount(ctx, again.ID); err != nil || n != 13 {
			t.Fatalf("AudienceCount(two lists) = %d, %v; want 13", n, err)
		}
	})
}

// BenchmarkAudienceCount measures what a draft campaign's page pays to
// name its readers in the start dialog, over benchRows confirmed
// subscribers on SQLite, against the PriorSends query beside it.
func BenchmarkAudienceCount(b *testing.B) {
	s := storetest.SQLite(b)
	ctx := context.Background()
	c, ledger := sentCampaign(b, s, benchRows(b))
	b.Logf("the ledger of %d readers took %v to write (the start the count is confirmed for)", benchRows(b), ledger)
	again := &model.Campaign{Name: "Again", EditionID: c.EditionID, ListIDs: c.ListIDs, From: c.From}
	if err := s.CreateCampaign(ctx, again); err != nil {
		b.Fatal(err)
	}
	b.Run("count", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.AudienceCount(ctx, again.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("prior", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.PriorSends(ctx, again.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
}
