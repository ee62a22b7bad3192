package retention_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/retention"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// stats is everything a campaign's stats page, the API's campaign stats
// and the dashboard show of one campaign.
type stats struct {
	Counts   store.EventCounts
	Daily    map[string]int64 // "day kind" -> events
	Hourly   int64            // the hourly series, added up
	Links    []store.LinkCount
	Progress model.Progress
	Summary  store.CampaignSummary
	// Readers who clicked (the click map's figures): any link, each link,
	// and each link as the per-source figures read them.
	Clickers int64
	PerLink  map[string]int64
	BySource map[string]int64
}

func readStats(t *testing.T, s *store.Store, id int64) stats {
	t.Helper()
	ctx := context.Background()
	var st stats
	var err error
	if st.Counts, err = s.CampaignEventCounts(ctx, id); err != nil {
		t.Fatal(err)
	}
	daily, err := s.EventSeries(ctx, id, true)
	if err != nil {
		t.Fatal(err)
	}
	st.Daily = map[string]int64{}
	for _, p := range daily {
		st.Daily[p.At.Format(time.DateOnly)+" "+string(p.Kind)] += p.Count
	}
	hourly, err := s.EventSeries(ctx, id, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range hourly {
		st.Hourly += p.Count
	}
	if st.Links, err = s.TopLinks(ctx, id, 10); err != nil {
		t.Fatal(err)
	}
	if st.Progress, err = s.CampaignProgress(ctx, id); err != nil {
		t.Fatal(err)
	}
	if st.Clickers, err = s.UniqueClickers(ctx, id, nil); err != nil {
		t.Fatal(err)
	}
	st.PerLink = map[string]int64{}
	for i := range 4 {
		u := fmt.Sprintf("https://news.example/%d", i)
		if st.PerLink[u], err = s.UniqueClickers(ctx, id, []string{u}); err != nil {
			t.Fatal(err)
		}
	}
	byLink, err := s.ReadersByLinkSince(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	st.BySource = map[string]int64{}
	for _, l := range byLink {
		if l.CampaignID == id {
			st.BySource[l.URL] = l.Readers
		}
	}
	sums, err := s.CampaignSummaries(ctx, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range sums {
		if c.ID == id {
			st.Summary = c
			st.Summary.Campaign = model.Campaign{} // its updated_at is not a total
		}
	}
	return st
}

// sentCampaign sends a campaign to n new subscribers at the store's clock:
// every fifth row fails, the rest are sent; the campaign is finished.
func sentCampaign(t *testing.T, s *store.Store, name string, n int) (*model.Campaign, []int64) {
	t.Helper()
	ctx := context.Background()
	l := &model.List{Slug: name, Name: name}
	if err := s.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		sub := &model.Subscriber{Email: fmt.Sprintf("%s%d@example.com", name, i)}
		if _, err := s.UpsertSubscriber(ctx, sub); err != nil {
			t.Fatal(err)
		}
		if err := s.SetSubscription(ctx, sub.ID, l.ID, model.SubConfirmed, model.SourceAdmin); err != nil {
			t.Fatal(err)
		}
	}
	c := &model.Campaign{Name: name, EditionID: 1, ListIDs: []int64{l.ID}, From: "a@example.com"}
	if err := s.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartCampaign(ctx, c.ID, model.Frozen{Subject: "s", HTML: []byte("<p>h</p>"), Text: []byte("t")}); err != nil {
		t.Fatal(err)
	}
	rows, err := s.ClaimDeliveries(ctx, c.ID, n, time.Minute)
	if err != nil || len(rows) != n {
		t.Fatalf("claimed %d of %d: %v", len(rows), n, err)
	}
	var outs []store.Outcome
	var subs []int64
	for i, d := range rows {
		st := model.DeliverySent
		if i%5 == 4 {
			st = model.DeliveryFailed
		}
		outs = append(outs, store.Outcome{ID: d.ID, Attempts: d.Attempts, Status: st, Reply: "250"})
		subs = append(subs, d.SubscriberID)
	}
	if err := s.RecordOutcomes(ctx, outs); err != nil {
		t.Fatal(err)
	}
	if done, err := s.FinishCampaign(ctx, c.ID); err != nil || !done {
		t.Fatalf("FinishCampaign = %v, %v", done, err)
	}
	return c, subs
}

func TestRetentionKeepsTotals(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		s.SetClockForTest(func() time.Time { return now })
		old, subs := sentCampaign(t, s, "old", 23)
		now = time.Date(2026, 5, 20, 9, 0, 0, 0, time.UTC)
		recent, _ := sentCampaign(t, s, "recent", 7)

		// Old campaign: opens over many days, some readers opening again
		// recently (their uniques must not count twice), clicks on three
		// links, an anonymous click, and a bounce (never folded).
		var evs []model.Event
		t0 := time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC)
		for i := range 400 {
			sub := subs[i%len(subs)]
			at := t0.Add(time.Duration(i) * 97 * time.Minute)
			evs = append(evs, model.Event{Kind: model.EventOpen, CampaignID: old.ID, SubscriberID: sub, At: at})
			if i%3 == 0 {
				evs = append(evs, model.Event{Kind: model.EventClick, CampaignID: old.ID, SubscriberID: sub, URL: fmt.Sprintf("https://news.example/%d", i%4), At: at.Add(time.Minute)})
			}
		}
		evs = append(evs,
			model.Event{Kind: model.EventClick, CampaignID: old.ID, URL: "https://news.example/1", At: t0},
			// A link scanner's clicks, and a privacy proxy's open.
			model.Event{Kind: model.EventClick, CampaignID: old.ID, SubscriberID: subs[1], URL: "https://news.example/2", Class: model.ClassMachine, At: t0},
			model.Event{Kind: model.EventClick, CampaignID: old.ID, SubscriberID: subs[1], URL: "https://news.example/3", Class: model.ClassMachine, At: t0.Add(time.Second)},
			model.Event{Kind: model.EventOpen, CampaignID: old.ID, SubscriberID: subs[2], Class: model.ClassPrivacy, At: t0},
			model.Event{Kind: model.EventBounce, CampaignID: old.ID, SubscriberID: subs[4], Detail: "5.1.1", At: t0},
			model.Event{Kind: model.EventOpen, CampaignID: old.ID, SubscriberID: subs[0], At: now.Add(-time.Hour)},
			model.Event{Kind: model.EventClick, CampaignID: old.ID, SubscriberID: subs[3], URL: "https://news.example/0", At: now.Add(-time.Hour)},
			model.Event{Kind: model.EventOpen, CampaignID: recent.ID, SubscriberID: 1, At: now.Add(-2 * time.Hour)},
		)
		if err := s.RecordEvents(ctx, evs); err != nil {
			t.Fatal(err)
		}
		want := map[int64]stats{old.ID: readStats(t, s, old.ID), recent.ID: readStats(t, s, recent.ID)}
		if want[old.ID].Clickers == 0 || want[old.ID].BySource["https://news.example/0"] == 0 {
			t.Fatalf("setup: no readers' clicks: %+v", want[old.ID])
		}
		if want[old.ID].Counts.Total[model.EventOpen] != 402 || want[old.ID].Counts.TotalBy[model.ClassMachine][model.EventClick] != 2 || want[old.ID].Progress.Total != 23 {
			t.Fatalf("setup: %+v", want[old.ID])
		}

		policy := retention.Policy{EventsDays: 30, LedgerDays: 30, Batch: 7}
		dry := policy
		dry.DryRun = true
		rep, err := retention.Run(ctx, s, dry, now, nil)
		if err != nil {
			t.Fatal(err)
		}
		// Events before April 20: the opens of the first 50 days or so.
		toFold, _ := s.EventsToFold(ctx, now.AddDate(0, 0, -30))
		if rep.Events != toFold || toFold == 0 || rep.Ledger != 23 {
			t.Fatalf("dry run = %+v (to fold: %d)", rep, toFold)
		}
		if got := readStats(t, s, old.ID); !reflect.DeepEqual(got, want[old.ID]) {
			t.Fatal("a dry run changed the stats")
		}

		var stages []string
		rep, err = retention.Run(ctx, s, policy, now, func(stage string, done, total int64) {
			if stage != "space" && (len(stages) == 0 || stages[len(stages)-1] != stage) {
				stages = append(stages, stage)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Events != toFold || rep.Ledger != 23 || !reflect.DeepEqual(stages, []string{"events", "ledger"}) {
			t.Fatalf("run = %+v, stages %v", rep, stages)
		}
		if left, _ := s.EventsToFold(ctx, now.AddDate(0, 0, -30)); left != 0 {
			t.Fatalf("%d events left to fold", left)
		}
		if left, _ := s.LedgerToFold(ctx, now.AddDate(0, 0, -30)); left != 0 {
			t.Fatalf("%d ledger rows left to fold", left)
		}
		for id, w := range want {
			if got := readStats(t, s, id); !reflect.DeepEqual(got, w) {
				t.Errorf("campaign %d after folding:\n got %+v\nwant %+v", id, got, w)
			}
		}
		// The recent campaign's ledger is kept: it finished 0 days ago.
		if left, _ := s.LedgerToFold(ctx, now.Add(time.Second)); left != 7 {
			t.Errorf("recent ledger rows = %d, want 7 kept", left)
		}
		// A second run finds nothing more.
		if rep, err := retention.Run(ctx, s, policy, now, nil); err != nil || rep.Events != 0 || rep.Ledger != 0 {
			t.Fatalf("second run = %+v, %v", rep, err)
		}
		if s.Kind() == "sqlite" {
			sp, err := s.Space(ctx)
			if err != nil || sp.AutoVacuum != "incremental" || sp.FreePages != 0 {
				t.Errorf("SQLite space after the run = %+v, %v (want incremental, no free pages left)", sp, err)
			}
		}
	})
}

func TestRetentionStopsBetweenBatches(t *testing.T) {
	s := storetest.SQLite(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var evs []model.Event
	for i := range 50 {
		evs = append(evs, model.Event{Kind: model.EventOpen, CampaignID: 1, SubscriberID: int64(i + 1), At: at})
	}
	if err := s.RecordEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	rep, err := retention.Run(ctx, s, retention.Policy{EventsDays: 1, Batch: 10}, at.AddDate(0, 0, 5), func(stage string, done, total int64) {
		if done >= 20 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || rep.Events != 20 {
		t.Fatalf("Run = %+v, %v; want 20 folded, then stopped", rep, err)
	}
	c, err := s.CampaignEventCounts(context.Background(), 1)
	if err != nil || c.Total[model.EventOpen] != 50 || c.Unique[model.EventOpen] != 50 {
		t.Fatalf("counts after a stopped run = %+v, %v", c, err)
	}
}

func TestPolicyCheck(t *testing.T) {
	for _, tc := range []struct {
		p      retention.Policy
		months int
		ok     bool
	}{
		{retention.Policy{}, 6, true},
		{retention.Policy{EventsDays: 90}, 0, true},
		{retention.Policy{EventsDays: 186}, 6, true},
		{retention.Policy{EventsDays: 90}, 6, false},
		{retention.Policy{EventsDays: 400, LedgerDays: 30}, 6, false},
	} {
		err := tc.p.Check(tc.months)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, retention.ErrTooShort)) {
			t.Errorf("%+v with sunset %d months: %v", tc.p, tc.months, err)
		}
	}
}
