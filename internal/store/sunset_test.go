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
				c := &model.Campaign{Name: "March", EditionID: 1, ListIDs: []int64{l.ID}, From: "a@example.com"}
				if err := s.CreateCampaign(ctx, c); err != nil {
					t.Fatal(err)
				}
				if _, err := s.StartCampaign(ctx, c.ID, frozenCopy); err != nil {
					t.Fatal(err)
				}
				rows, _ := s.ClaimDeliveries(ctx, c.ID, 10, time.Minute)
				ids := map[string]int64{}
				var outs []store.Outcome
				for _, d := range rows {
					ids[strings.Split(d.Email, "@")[0]] = d.SubscriberID
					outs = append(outs, store.Outcome{ID: d.ID, Attempts: d.Attempts, Status: model.DeliverySent, Reply: "250"})
				}
				if err := s.RecordOutcomes(ctx, outs); err != nil {
					t.Fatal(err)
				}
				s.RecordEvents(ctx, []model.Event{
					{Kind: model.EventOpen, CampaignID: c.ID, SubscriberID: ids["r0"], At: now.Add(time.Hour)},
					{Kind: model.EventClick, CampaignID: c.ID, SubscriberID: ids["r1"], URL: "u", At: now.Add(time.Hour)},
					{Kind: model.EventOpen, CampaignID: c.ID, SubscriberID: ids["r2"], At: time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)},
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
