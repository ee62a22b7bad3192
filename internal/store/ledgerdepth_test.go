package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestLedgerDepths: live campaigns (sending or paused) are counted by
// state, with zeros; drafts and finished campaigns are not.
func TestLedgerDepths(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if got, err := s.LedgerDepths(ctx); err != nil || len(got) != 0 {
			t.Fatalf("no campaigns: %v, %v", got, err)
		}
		l := audience(t, s, "d", 5)
		start := func(name string) int64 {
			c := &model.Campaign{Name: name, EditionID: 1, ListIDs: []int64{l.ID}, From: "News <news@example.com>"}
			if err := s.CreateCampaign(ctx, c); err != nil {
				t.Fatal(err)
			}
			if _, err := s.StartCampaign(ctx, c.ID, model.Frozen{Subject: "x", HTML: []byte("h"), Text: []byte("t")}); err != nil {
				t.Fatal(err)
			}
			return c.ID
		}
		a, b := start("a"), start("b")
		draft := &model.Campaign{Name: "draft", EditionID: 1, ListIDs: []int64{l.ID}, From: "News <news@example.com>"}
		if err := s.CreateCampaign(ctx, draft); err != nil {
			t.Fatal(err)
		}
		rows, err := s.ClaimDeliveries(ctx, a, 3, time.Minute)
		if err != nil || len(rows) != 3 {
			t.Fatalf("claim = %v, %v", rows, err)
		}
		if err := s.RecordOutcomes(ctx, []store.Outcome{
			{ID: rows[0].ID, Attempts: rows[0].Attempts, Status: model.DeliverySent, Reply: "250"},
			{ID: rows[1].ID, Attempts: rows[1].Attempts, Status: model.DeliveryDeferred, Reply: "451", RetryAt: time.Now().Add(time.Hour)},
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetCampaignStatus(ctx, b, model.CampaignPaused); err != nil {
			t.Fatal(err)
		}
		got, err := s.LedgerDepths(ctx)
		want := []store.LedgerDepth{{CampaignID: a, Pending: 2, Sending: 1, Deferred: 1}, {CampaignID: b, Pending: 5}}
		if err != nil || len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Fatalf("depths = %+v, %v; want %+v", got, err, want)
		}
		if err := s.SetCampaignStatus(ctx, b, model.CampaignCancelled); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.LedgerDepths(ctx); len(got) != 1 || got[0].CampaignID != a {
			t.Fatalf("after cancelling b: %+v", got)
		}
	})
}
