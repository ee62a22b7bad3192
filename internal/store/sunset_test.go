package store_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

func TestSunset(t *testing.T) {
	for _, action := range []string{store.SunsetSegment, store.SunsetSuppress} {
		t.Run(action, func(t *testing.T) {
			storetest.ForEach(t, func(t *testing.T, s *store.Store) {
				ctx := context.Background()
				now := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)
				s.SetClockForTest(func() time.Time { return now })
				// r0 opened lately, r1 clicked lately, r2 only opened long
				// ago, r3 never opened; all four were sent a campaign in
				// March. r4 joined in May (too new to judge).
				l := zonedAudience(t, s, "", "", "", "")
				now = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
				sub4 := &model.Subscriber{Email: "r4@example.com"}
				s.UpsertSubscriber(ctx, sub4)
				s.SetSubscription(ctx, sub4.ID, l.ID, model.SubConfirmed, model.SourceAdmin)
				now = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
				ids := sentTo(t, s, l, "March")
				// r0's open was Apple Mail's privacy preload: it keeps a
				// reader. A gateway clicked r3's links: that keeps nobody.
				s.RecordEvents(ctx, []model.Event{
					{Kind: model.EventOpen, SubscriberID: ids["r0@example.com"], At: now.Add(time.Hour), Class: model.ClassPrivacy, Reason: "ua:apple-mpp"},
					{Kind: model.EventClick, SubscriberID: ids["r1@example.com"], URL: "u", At: now.Add(time.Hour)},
					{Kind: model.EventOpen, SubscriberID: ids["r2@example.com"], At: time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)},
					{Kind: model.EventClick, SubscriberID: ids["r3@example.com"], URL: "u", At: now.Add(time.Hour), Class: model.ClassMachine, Reason: "burst"},
				})
				now = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
				if _, err := s.Sunset(ctx, store.SunsetPolicy{Months: 0, Action: action}); err == nil {
					t.Error("a sunset of 0 months ran")
				}
				if _, err := s.Sunset(ctx, store.SunsetPolicy{Months: 3, Action: "delete"}); err == nil || !strings.Contains(err.Error(), `not "delete"`) {
					t.Errorf("an unknown action: %v", err)
				}
				dry, err := s.Sunset(ctx, store.SunsetPolicy{Months: 6, Action: action, DryRun: true})
				if err != nil || dry.Matched != 2 || !slices.Equal(dry.Sample, []string{"r2@example.com", "r3@example.com"}) {
					t.Fatalf("dry run = %+v, %v", dry, err)
				}
				if n, _ := s.CountSuppressions(ctx); n != 0 {
					t.Fatalf("a dry run suppressed %d", n)
				}
				rep, err := s.Sunset(ctx, store.SunsetPolicy{Months: 6, Action: action})
				if err != nil || rep.Matched != 2 {
					t.Fatalf("Sunset = %+v, %v", rep, err)
				}
				switch action {
				case store.SunsetSuppress:
					sp, err := s.Suppression(ctx, "r3@example.com")
					if err != nil || sp.Reason != model.SuppressManual || !strings.Contains(sp.Detail, "no open or click in 6 months") {
						t.Errorf("r3's suppression: %+v, %v", sp, err)
					}
					if n, _ := s.CountSuppressions(ctx); n != 2 {
						t.Errorf("%d suppressed, want 2", n)
					}
				case store.SunsetSegment:
					sg, err := s.SegmentByName(ctx, store.SunsetSegmentName)
					if err != nil {
						t.Fatal(err)
					}
					members, err := s.SegmentMembers(ctx, sg.Query, 10)
					if err != nil || len(members) != 2 || members[0].Attributes["sunset"] != "2026-06-01" {
						t.Errorf("re-engagement segment: %+v, %v", members, err)
					}
				}
				// Run again: nobody is moved twice.
				if again, err := s.Sunset(ctx, store.SunsetPolicy{Months: 6, Action: action}); err != nil || again.Matched != 0 {
					t.Errorf("second run = %+v, %v", again, err)
				}
			})
		})
	}
}

// sentTo starts a campaign to list l now and records it sent to everyone;
// it returns the subscriber IDs by address.
func sentTo(t *testing.T, s *store.Store, l *model.List, name string) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	c := &model.Campaign{Name: name, EditionID: 1, ListIDs: []int64{l.ID}, From: "a@example.com"}
	if err := s.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartCampaign(ctx, c.ID, frozenCopy); err != nil {
		t.Fatal(err)
	}
	rows, err := s.ClaimDeliveries(ctx, c.ID, 100, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	var outs []store.Outcome
	for _, d := range rows {
		ids[d.Email] = d.SubscriberID
		outs = append(outs, store.Outcome{ID: d.ID, Attempts: d.Attempts, Status: model.DeliverySent, Reply: "250"})
	}
	if err := s.RecordOutcomes(ctx, outs); err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestSunsetWinBackThenSuppress: readers in the re-engagement segment who
// open again leave it; those who were sent mail there and stayed silent
// for SuppressAfter days are suppressed; a suppress policy does not spare
// readers in the segment; the last report is kept.
func TestSunsetWinBackThenSuppress(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)
		s.SetClockForTest(func() time.Time { return now })
		l := zonedAudience(t, s, "", "", "")
		now = time.Date(2025, 9, 1, 9, 0, 0, 0, time.UTC)
		ids := sentTo(t, s, l, "September")
		now = time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
		policy := store.SunsetPolicy{Months: 6, Action: store.SunsetSegment, SuppressAfter: 30}
		if rep, err := s.Sunset(ctx, policy); err != nil || rep.Matched != 3 {
			t.Fatalf("first sunset = %+v, %v", rep, err)
		}
		// The segment does not shield anyone from a suppress policy.
		if rep, err := s.Sunset(ctx, store.SunsetPolicy{Months: 6, Action: store.SunsetSuppress, DryRun: true}); err != nil || rep.Matched != 3 {
			t.Fatalf("a suppress policy over the segment = %+v, %v; want all 3", rep, err)
		}
		// The win-back campaign; r0 opens it.
		now = time.Date(2026, 2, 10, 9, 0, 0, 0, time.UTC)
		sentTo(t, s, l, "We miss you")
		if err := s.RecordEvents(ctx, []model.Event{{Kind: model.EventOpen, SubscriberID: ids["r0@example.com"], At: now.Add(time.Hour)}}); err != nil {
			t.Fatal(err)
		}
		// Within the grace period nobody is suppressed, but r0 is back.
		now = time.Date(2026, 2, 20, 9, 0, 0, 0, time.UTC)
		rep, err := s.Sunset(ctx, policy)
		if err != nil || rep.Returned != 1 || rep.Suppressed != 0 || rep.Matched != 0 {
			t.Fatalf("sunset in the grace period = %+v, %v; want r0 returned", rep, err)
		}
		if sub, _ := s.SubscriberByID(ctx, ids["r0@example.com"]); sub.Attributes["sunset"] != nil {
			t.Errorf("r0 opened and is still stamped: %v", sub.Attributes)
		}
		now = time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC)
		next, err := s.Sunset(ctx, store.SunsetPolicy{Months: 6, Action: store.SunsetSegment, SuppressAfter: 30, DryRun: true})
		if err != nil || next.Suppressed != 2 || !slices.Equal(next.SuppressSample, []string{"r1@example.com", "r2@example.com"}) {
			t.Fatalf("dry run after the grace period = %+v, %v", next, err)
		}
		if n, _ := s.CountSuppressions(ctx); n != 0 {
			t.Fatalf("a dry run suppressed %d", n)
		}
		rep, err = s.Sunset(ctx, policy)
		if err != nil || rep.Suppressed != 2 {
			t.Fatalf("sunset after the grace period = %+v, %v; want r1 and r2 suppressed", rep, err)
		}
		for _, email := range []string{"r1@example.com", "r2@example.com"} {
			if sp, err := s.Suppression(ctx, email); err != nil || !strings.Contains(sp.Detail, "re-engagement") {
				t.Errorf("%s: %+v, %v", email, sp, err)
			}
		}
		if _, err := s.Suppression(ctx, "r0@example.com"); err == nil {
			t.Error("r0, who came back, was suppressed")
		}
		last, ok, err := s.LastSunset(ctx)
		if err != nil || !ok || last.Suppressed != 2 || !last.At.Equal(now) || last.Policy.SuppressAfter != 30 {
			t.Fatalf("last sunset = %+v, %v, %v", last, ok, err)
		}
	})
}
