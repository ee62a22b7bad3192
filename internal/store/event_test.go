package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

func TestEvents(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		t0 := time.Date(2026, 11, 27, 18, 5, 0, 0, time.UTC)
		var evs []model.Event
		for i := 0; i < 700; i++ { // more than one statement's worth
			evs = append(evs, model.Event{Kind: model.EventOpen, CampaignID: 1, SubscriberID: int64(i%300 + 1), At: t0.Add(time.Duration(i) * 10 * time.Second)})
		}
		evs = append(evs,
			model.Event{Kind: model.EventClick, CampaignID: 1, SubscriberID: 1, URL: "https://a.example/1", At: t0},
			model.Event{Kind: model.EventClick, CampaignID: 1, SubscriberID: 1, URL: "https://a.example/1", At: t0},
			model.Event{Kind: model.EventClick, CampaignID: 1, SubscriberID: 2, URL: "https://a.example/2", At: t0},
			model.Event{Kind: model.EventClick, CampaignID: 1, URL: "https://a.example/2", At: t0}, // anonymous
			model.Event{Kind: model.EventOpen, CampaignID: 2, SubscriberID: 1, At: t0},
		)
		if err := s.RecordEvents(ctx, evs); err != nil {
			t.Fatal(err)
		}
		c, err := s.CampaignEventCounts(ctx, 1)
		if err != nil || c.Total[model.EventOpen] != 700 || c.Unique[model.EventOpen] != 300 || c.Total[model.EventClick] != 4 || c.Unique[model.EventClick] != 2 {
			t.Fatalf("counts = %+v, %v", c, err)
		}
		series, err := s.EventSeries(ctx, 1, false)
		if err != nil {
			t.Fatal(err)
		}
		// 700 opens 10 s apart from 18:05: 330 in the 18:00 hour, 360 at 19:00, 10 at 20:00.
		var opens []store.SeriesPoint
		for _, p := range series {
			if p.Kind == model.EventOpen {
				opens = append(opens, p)
			}
		}
		if len(opens) != 3 || !opens[0].At.Equal(time.Date(2026, 11, 27, 18, 0, 0, 0, time.UTC)) || opens[0].Count != 330 || opens[1].Count != 360 {
			t.Fatalf("hourly opens = %+v", opens)
		}
		links, err := s.TopLinks(ctx, 1, 10)
		if err != nil || len(links) != 2 || links[0].Clicks != 2 {
			t.Fatalf("top links = %+v, %v", links, err)
		}
	})
}

// TestReclassifyMigration: migration 0020 turns the clicks of a recipient
// who clicked most of a message's links within seconds into a machine's
// (all the stored data allows for events recorded before classification),
// and leaves a reader's clicks alone.
func TestReclassifyMigration(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		l := &model.List{Slug: "daily", Name: "Daily", OptIn: model.OptInSingle}
		if err := s.CreateList(ctx, l); err != nil {
			t.Fatal(err)
		}
		c := &model.Campaign{Name: "Evening", EditionID: 1, ListIDs: []int64{l.ID}, From: "Desk <desk@example.com>", Tracking: true}
		if err := s.CreateCampaign(ctx, c); err != nil {
			t.Fatal(err)
		}
		links := []string{"https://a.example/1", "https://a.example/2", "https://a.example/3", "https://a.example/4"}
		if _, err := s.StartCampaign(ctx, c.ID, model.Frozen{Subject: "s", Prefix: "x", HTML: []byte("h"), Text: []byte("t"), Links: links}); err != nil {
			t.Fatal(err)
		}
		var subs []int64
		for _, email := range []string{"scanned@example.com", "reader@example.com"} {
			sub := &model.Subscriber{Email: email}
			if _, err := s.UpsertSubscriber(ctx, sub); err != nil {
				t.Fatal(err)
			}
			subs = append(subs, sub.ID)
		}
		t0 := time.Date(2026, 11, 27, 18, 5, 0, 0, time.UTC)
		var evs []model.Event
		for i, u := range links { // every link in 1.5 s
			evs = append(evs, model.Event{Kind: model.EventClick, CampaignID: c.ID, SubscriberID: subs[0], URL: u, At: t0.Add(time.Duration(i) * 500 * time.Millisecond)})
		}
		for i, u := range links { // every link, a minute apart
			evs = append(evs, model.Event{Kind: model.EventClick, CampaignID: c.ID, SubscriberID: subs[1], URL: u, At: t0.Add(time.Duration(i) * time.Minute)})
		}
		if err := s.RecordEvents(ctx, evs); err != nil {
			t.Fatal(err)
		}
		if err := s.RerunMigrationUpdatesForTest(ctx, 20); err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		err := s.CampaignEvents(ctx, c.ID, func(e store.CampaignEvent) error {
			got[e.Email+" "+string(e.Class)+" "+e.Reason]++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got["scanned@example.com machine burst"] != 4 || got["reader@example.com human "] != 4 || len(got) != 2 {
			t.Fatalf("after the migration: %v", got)
		}
		n, err := s.CampaignEventCounts(ctx, c.ID)
		if err != nil || n.Human(model.EventClick) != 1 || n.UniqueBy[model.ClassMachine][model.EventClick] != 1 || n.Total[model.EventClick] != 8 {
			t.Fatalf("counts %+v, %v", n, err)
		}
	})
}
