package engage_test

import (
	"context"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/engage"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestSourceFigures: a publication's picks in two campaigns get their
// share of the readers' clicks; a scanner's clicks on them count for
// nothing, and links from no source are no source's.
func TestSourceFigures(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		atlas := &model.Feed{Name: "Atlas Review", URL: "https://atlas.example/feed.xml", Publication: "Atlas Review", Interval: 15 * time.Minute}
		if err := s.CreateSource(ctx, atlas); err != nil {
			t.Fatal(err)
		}
		pick1, pick2, own := "https://atlas.example/rivers", "https://atlas.example/bridges", "https://courier.example/lead"
		if _, err := s.RecordPoll(ctx, store.Poll{SourceID: atlas.ID, Items: []model.FeedItem{
			{GUID: "1", URL: pick1, Title: "Rivers"}, {GUID: "2", URL: pick2, Title: "Bridges"}}}); err != nil {
			t.Fatal(err)
		}
		l := &model.List{Slug: "daily", Name: "Daily"}
		if err := s.CreateList(ctx, l); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		var camps []int64
		for _, links := range [][]string{{own, pick1}, {own, pick2}} {
			c := &model.Campaign{Name: "Evening", EditionID: 1, ListIDs: []int64{l.ID}, From: "Desk <desk@example.com>", Tracking: true}
			if err := s.CreateCampaign(ctx, c); err != nil {
				t.Fatal(err)
			}
			if _, err := s.StartCampaign(ctx, c.ID, model.Frozen{Subject: "s", HTML: []byte("h"), Text: []byte("t"), Links: links}); err != nil {
				t.Fatal(err)
			}
			camps = append(camps, c.ID)
		}
		click := func(camp int64, sub int64, url string, class model.EventClass) model.Event {
			return model.Event{Kind: model.EventClick, CampaignID: camp, SubscriberID: sub, URL: url, At: now, Class: class}
		}
		// Campaign 1: 3 readers on the lead, 1 on the pick; campaign 2: 1
		// on the lead, 1 on the pick, and a scanner on the pick.
		err := s.RecordEvents(ctx, []model.Event{
			click(camps[0], 1, own, model.ClassHuman), click(camps[0], 2, own, model.ClassHuman), click(camps[0], 3, own, model.ClassHuman),
			click(camps[0], 1, pick1, model.ClassHuman), click(camps[0], 1, pick1, model.ClassHuman),
			click(camps[1], 4, own, model.ClassHuman), click(camps[1], 5, pick2, model.ClassHuman),
			click(camps[1], 9, pick2, model.ClassMachine),
		})
		if err != nil {
			t.Fatal(err)
		}
		figs, err := engage.SourceFigures(ctx, s, now.AddDate(0, 0, -56))
		if err != nil {
			t.Fatal(err)
		}
		tr := figs[atlas.ID]
		if len(figs) != 1 || tr == nil {
			t.Fatalf("figures for %d sources: %v", len(figs), figs)
		}
		// 2 of the 6 readers' clicks (unique per link) were on its picks.
		if tr.Total.Campaigns != 2 || tr.Total.Links != 2 || tr.Total.Readers != 2 || tr.Total.Share < 0.333 || tr.Total.Share > 0.334 {
			t.Errorf("total %+v", tr.Total)
		}
		if len(tr.Weeks) == 0 || tr.Weeks[len(tr.Weeks)-1].Week.Weekday() != time.Monday {
			t.Errorf("weeks %+v", tr.Weeks)
		}
	})
}
