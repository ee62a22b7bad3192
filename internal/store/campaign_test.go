package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// audience makes a list with n confirmed subscribers and returns it.
func audience(t *testing.T, s *store.Store, slug string, n int) *model.List {
	t.Helper()
	ctx := context.Background()
	l := &model.List{Slug: slug, Name: slug}
	if err := s.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	rows := make([]store.ImportRow, n)
	for i := range rows {
		rows[i] = store.ImportRow{Line: i + 2, Email: fmt.Sprintf("%s%05d@example.com", slug, i)}
	}
	if _, err := s.ImportBatch(ctx, rows, store.ImportOptions{ListID: l.ID, Status: model.SubConfirmed, Mode: store.ImportUpsert}); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestCampaignLedger(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := audience(t, s, "a", 30)
		b := audience(t, s, "b", 5)
		// One address on both lists, one unconfirmed, one suppressed, one blocklisted.
		x, _ := s.SubscriberByEmail(ctx, "a00000@example.com")
		s.SetSubscription(ctx, x.ID, b.ID, model.SubConfirmed, model.SourceAdmin)
		y, _ := s.SubscriberByEmail(ctx, "a00001@example.com")
		s.SetSubscription(ctx, y.ID, a.ID, model.SubUnsubscribed, model.SourceOneClick)
		s.Suppress(ctx, "a00002@example.com", model.SuppressComplaint, "")
		z, _ := s.SubscriberByEmail(ctx, "a00003@example.com")
		s.SetSubscriberStatus(ctx, z.ID, model.SubscriberBlocklisted)

		c := &model.Campaign{Name: "Tuesday", EditionID: 1, ListIDs: []int64{a.ID, b.ID}, From: "News <news@example.com>"}
		if err := s.CreateCampaign(ctx, c); err != nil {
			t.Fatal(err)
		}
		if err := s.SetCampaignStatus(ctx, c.ID, model.CampaignPaused); !errors.Is(err, store.ErrBadTransition) {
			t.Fatalf("pausing a draft: %v", err)
		}
		frozen := model.Frozen{Subject: "Hello", HTML: []byte("<p>hi</p>"), Text: []byte("hi"), Links: []string{"https://example.com/a", "https://example.com/b"}}
		total, err := s.StartCampaign(ctx, c.ID, frozen)
		if err != nil || total != 30+5-3 {
			t.Fatalf("StartCampaign = %d, %v; want 32 (35 less unsubscribed, suppressed, blocklisted; shared address once)", total, err)
		}
		if _, err := s.StartCampaign(ctx, c.ID, frozen); !errors.Is(err, store.ErrBadTransition) {
			t.Fatalf("second start: %v", err)
		}
		got, _ := s.FrozenContent(ctx, c.ID)
		if got.Subject != "Hello" || len(got.Links) != 2 {
			t.Fatalf("frozen = %+v", got)
		}

		claimed, err := s.ClaimDeliveries(ctx, c.ID, 10, time.Minute)
		if err != nil || len(claimed) != 10 || claimed[0].Attempts != 1 {
			t.Fatalf("claim = %d rows, %v", len(claimed), err)
		}
		// A suppression after the start drops the address from the ledger.
		s.Suppress(ctx, "b00004@example.com", model.SuppressManual, "")

		outs := []store.Outcome{}
		for i, d := range claimed {
			switch i {
			case 0:
				outs = append(outs, store.Outcome{ID: d.ID, Attempts: d.Attempts, Status: model.DeliveryDeferred, Reply: "451 4.3.0 try later", RetryAt: time.Now().Add(time.Hour)})
			case 1:
				outs = append(outs, store.Outcome{ID: d.ID, Attempts: d.Attempts, Status: model.DeliveryFailed, Reply: "550 5.1.1 no such user", Email: d.Email, Suppress: model.SuppressHardBounce})
			default:
				outs = append(outs, store.Outcome{ID: d.ID, Attempts: d.Attempts, Status: model.DeliverySent, Reply: "250 OK"})
			}
		}
		if err := s.RecordOutcomes(ctx, outs); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Suppression(ctx, claimed[1].Email); err != nil {
			t.Fatalf("hard bounce not suppressed: %v", err)
		}
		p, _ := s.CampaignProgress(ctx, c.ID)
		want := model.Progress{Total: 32, Pending: 21, Sent: 8, Deferred: 1, Failed: 1, Skipped: 1}
		if p != want {
			t.Fatalf("progress = %+v, want %+v", p, want)
		}

		// Pause stops claiming; resume continues.
		if err := s.SetCampaignStatus(ctx, c.ID, model.CampaignPaused); err != nil {
			t.Fatal(err)
		}
		if rows, _ := s.ClaimDeliveries(ctx, c.ID, 100, time.Minute); len(rows) != 0 {
			t.Fatalf("claimed %d rows of a paused campaign", len(rows))
		}
		if err := s.SetCampaignStatus(ctx, c.ID, model.CampaignSending); err != nil {
			t.Fatal(err)
		}
		// A claim whose lease expires goes back to pending.
		lost, _ := s.ClaimDeliveries(ctx, c.ID, 5, -time.Second)
		if n, _ := s.ReleaseLeases(ctx, false); n != int64(len(lost)) || n != 5 {
			t.Fatalf("released %d expired leases, want 5", n)
		}
		rest, _ := s.ClaimDeliveries(ctx, c.ID, 1000, time.Minute)
		if len(rest) != 21 {
			t.Fatalf("claimed %d, want the 21 pending rows", len(rest))
		}
		outs = outs[:0]
		for _, d := range rest {
			outs = append(outs, store.Outcome{ID: d.ID, Attempts: d.Attempts, Status: model.DeliverySent, Reply: "250 OK"})
		}
		s.RecordOutcomes(ctx, outs)
		if done, _ := s.FinishCampaign(ctx, c.ID); done {
			t.Fatal("finished with a deferred row left")
		}
		if next, _ := s.NextRetry(ctx, c.ID); next.IsZero() {
			t.Fatal("no retry time for the deferred row")
		}
		if err := s.SetCampaignStatus(ctx, c.ID, model.CampaignCancelled); err != nil {
			t.Fatal(err)
		}
		if err := s.SetCampaignStatus(ctx, c.ID, model.CampaignSending); !errors.Is(err, store.ErrBadTransition) {
			t.Fatalf("resuming a cancelled campaign: %v", err)
		}
		// Erasure scrubs the ledger.
		if err := s.EraseSubscriber(ctx, rest[0].Email); err != nil {
			t.Fatal(err)
		}
		if p2, _ := s.CampaignProgress(ctx, c.ID); p2.Sent != p.Sent+21 {
			t.Fatalf("erasure changed the counts: %+v", p2)
		}
	})
}

func TestLateOutcomeOfAnExpiredClaimChangesNothing(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := audience(t, s, "late", 1)
		c := &model.Campaign{Name: "c", EditionID: 1, ListIDs: []int64{a.ID}, From: "a@example.com"}
		s.CreateCampaign(ctx, c)
		s.StartCampaign(ctx, c.ID, model.Frozen{Subject: "s", HTML: []byte("h"), Text: []byte("t")})
		first, _ := s.ClaimDeliveries(ctx, c.ID, 1, -time.Second) // expired at once
		s.ReleaseLeases(ctx, false)
		second, _ := s.ClaimDeliveries(ctx, c.ID, 1, time.Minute)
		if len(first) != 1 || len(second) != 1 || second[0].Attempts != first[0].Attempts+1 {
			t.Fatalf("claims: %+v then %+v", first, second)
		}
		// The first claim's worker reports late; the second's reports sent.
		s.RecordOutcomes(ctx, []store.Outcome{{ID: first[0].ID, Attempts: first[0].Attempts, Status: model.DeliveryDeferred, Reply: "451 late", RetryAt: time.Now()}})
		if p, _ := s.CampaignProgress(ctx, c.ID); p.Sending != 1 {
			t.Fatalf("a stale outcome changed the row: %+v", p)
		}
		s.RecordOutcomes(ctx, []store.Outcome{{ID: second[0].ID, Attempts: second[0].Attempts, Status: model.DeliverySent, Reply: "250 ok"}})
		if p, _ := s.CampaignProgress(ctx, c.ID); p.Sent != 1 {
			t.Fatalf("the live claim's outcome was not recorded: %+v", p)
		}
		// Giving a row back unsent returns its attempt.
		c2 := &model.Campaign{Name: "c2", EditionID: 1, ListIDs: []int64{a.ID}, From: "a@example.com"}
		s.CreateCampaign(ctx, c2)
		s.StartCampaign(ctx, c2.ID, model.Frozen{Subject: "s", HTML: []byte("h"), Text: []byte("t")})
		d, _ := s.ClaimDeliveries(ctx, c2.ID, 1, time.Minute)
		s.RecordOutcomes(ctx, []store.Outcome{{ID: d[0].ID, Attempts: d[0].Attempts, Status: model.DeliveryPending, Uncount: true}})
		again, _ := s.ClaimDeliveries(ctx, c2.ID, 1, time.Minute)
		if len(again) != 1 || again[0].Attempts != 1 {
			t.Fatalf("row given back: %+v, want claimable with attempt 1", again)
		}
	})
}
