package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// segmentFixture is a small audience with every kind of fact a segment
// can test: lists, attributes, domains, signup dates and engagement.
func segmentFixture(t *testing.T, s *store.Store) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s.SetClockForTest(func() time.Time { return clock })
	news := &model.List{Slug: "news", Name: "News"}
	sport := &model.List{Slug: "sport", Name: "Sport"}
	for _, l := range []*model.List{news, sport} {
		if err := s.CreateList(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	ids := map[string]int64{}
	add := func(email string, signup time.Time, attrs map[string]any, lists ...*model.List) {
		clock = signup
		sub := &model.Subscriber{Email: email, Attributes: attrs}
		if _, err := s.UpsertSubscriber(ctx, sub); err != nil {
			t.Fatal(err)
		}
		for _, l := range lists {
			if err := s.SetSubscription(ctx, sub.ID, l.ID, model.SubConfirmed, model.SourceAdmin); err != nil {
				t.Fatal(err)
			}
		}
		ids[strings.Split(email, "@")[0]] = sub.ID
	}
	jan := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	feb := time.Date(2026, 2, 20, 9, 0, 0, 0, time.UTC)
	add("ann@leeds.example", jan, map[string]any{"city": "Leeds", "plan": "pro"}, news)
	add("bob@york.example", jan, map[string]any{"city": "York", "age": 41}, news, sport)
	add("cat@leeds.example", feb, map[string]any{"city": "Leeds"}, sport)
	add("dan@york.example", feb, nil, news)
	add("eve@leeds.example", feb, map[string]any{"city": "Leeds"}) // on no list: never in a segment
	add("fay@york.example", feb, map[string]any{"city": "Leeds"}, news)
	if err := s.Suppress(ctx, "fay@york.example", model.SuppressComplaint, ""); err != nil {
		t.Fatal(err)
	}
	clock = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	err := s.RecordEvents(ctx, []model.Event{
		{Kind: model.EventOpen, CampaignID: 1, SubscriberID: ids["ann"], At: clock.AddDate(0, 0, -3)},
		{Kind: model.EventClick, CampaignID: 1, SubscriberID: ids["ann"], URL: "https://example.com/a", At: clock.AddDate(0, 0, -3)},
		{Kind: model.EventOpen, CampaignID: 1, SubscriberID: ids["bob"], At: clock.AddDate(0, 0, -40)},
		{Kind: model.EventOpen, CampaignID: 1, SubscriberID: 0, At: clock.AddDate(0, 0, -1)}, // anonymous
		// A gateway clicked dan's links and loaded his images; Apple Mail
		// preloaded cat's: neither is a reader's open or click.
		{Kind: model.EventClick, CampaignID: 1, SubscriberID: ids["dan"], URL: "https://example.com/a", At: clock.AddDate(0, 0, -2), Class: model.ClassMachine, Reason: "burst"},
		{Kind: model.EventOpen, CampaignID: 1, SubscriberID: ids["dan"], At: clock.AddDate(0, 0, -2), Class: model.ClassMachine, Reason: "ip:mimecast"},
		{Kind: model.EventOpen, CampaignID: 1, SubscriberID: ids["cat"], At: clock.AddDate(0, 0, -1), Class: model.ClassPrivacy, Reason: "ua:apple-mpp"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestSegmentQueries(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		segmentFixture(t, s)
		for query, want := range map[string]string{
			`list = news`:                            "ann bob dan",
			`list != news`:                           "cat",
			`list = news and list = sport`:           "bob",
			`attr.city = Leeds`:                      "ann cat",
			`attr.city != Leeds`:                     "bob dan",
			`attr.age = 41`:                          "bob",
			`attr.plan exists`:                       "ann",
			`domain = york.example`:                  "bob dan",
			`domain != LEEDS.example`:                "bob dan",
			`signup before 2026-02-01`:               "ann bob",
			`signup after 2026-02-19`:                "cat dan",
			`signup after 2026-02-20`:                "",
			`signup within 30 days`:                  "cat dan",
			`opened within 7 days`:                   "ann",
			`opened within 60 days`:                  "ann bob",
			`clicked within 60 days`:                 "ann",
			`clicked within 7 days`:                  "ann", // not dan: a machine clicked
			`never opened`:                           "cat dan",
			`never clicked and list = news`:          "bob dan",
			`not (attr.city = Leeds or list = news)`: "",
			`(attr.city = Leeds or attr.city = York) and not opened within 30 days`: "bob cat",
			`attr.city = "Leeds' OR 1=1 --"`:                                        "",
		} {
			n, err := s.CountSegmentQuery(ctx, query)
			if err != nil {
				t.Errorf("%s: %v", query, err)
				continue
			}
			members, err := s.SegmentMembers(ctx, query, 100)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range members {
				got = append(got, strings.Split(m.Email, "@")[0])
			}
			slices.Sort(got)
			if strings.Join(got, " ") != want || n != int64(len(got)) {
				t.Errorf("%s: count %d, members %q; want %q", query, n, strings.Join(got, " "), want)
			}
		}
		if _, err := s.CountSegmentQuery(ctx, `list = nope`); err == nil || !strings.Contains(err.Error(), `there is no list "nope"`) || strings.Contains(err.Error(), "character 0") {
			t.Errorf("unknown list: %v", err)
		}
		if _, err := s.CountSegmentQuery(ctx, `list =`); err == nil || !strings.Contains(err.Error(), "character 7: expected a list slug") {
			t.Errorf("bad query: %v", err)
		}
	})
}

func TestSegmentSaveAndCampaign(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ids := segmentFixture(t, s)
		sg := &model.Segment{Name: "Leeds readers", Query: `ATTR.city = Leeds`}
		if err := s.SaveSegment(ctx, sg); err != nil {
			t.Fatal(err)
		}
		if sg.Query != `attr.city = "Leeds"` {
			t.Errorf("saved query %q, want the canonical form", sg.Query)
		}
		if err := s.SaveSegment(ctx, &model.Segment{Name: "Leeds readers", Query: `list = news`}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("same name: %v", err)
		}
		if err := s.SaveSegment(ctx, &model.Segment{Name: "bad", Query: `list = news or`}); err == nil {
			t.Error("a bad query was saved")
		}
		all, err := s.Segments(ctx)
		if err != nil || len(all) != 1 || all[0].ID != sg.ID {
			t.Fatalf("Segments = %v, %v", all, err)
		}
		if got, err := s.SegmentByName(ctx, "Leeds readers"); err != nil || got.ID != sg.ID {
			t.Fatalf("SegmentByName = %v, %v", got, err)
		}
		if _, err := s.SegmentByName(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing segment: %v", err)
		}

		if err := s.CreateCampaign(ctx, &model.Campaign{Name: "none", EditionID: 1, From: "a@example.com"}); err == nil {
			t.Error("a campaign without lists or segments was created")
		}
		sport, err := s.ListBySlug(ctx, "sport")
		if err != nil {
			t.Fatal(err)
		}
		// Sport (bob, cat) plus Leeds readers (ann, cat): cat once; eve
		// (no list) and fay (suppressed) never.
		c := &model.Campaign{Name: "mixed", EditionID: 1, ListIDs: []int64{sport.ID}, SegmentIDs: []int64{sg.ID}, From: "a@example.com"}
		if err := s.CreateCampaign(ctx, c); err != nil {
			t.Fatal(err)
		}
		got, err := s.Campaign(ctx, c.ID)
		if err != nil || !slices.Equal(got.SegmentIDs, []int64{sg.ID}) {
			t.Fatalf("Campaign = %+v, %v", got, err)
		}
		total, err := s.StartCampaign(ctx, c.ID, model.Frozen{Subject: "s", HTML: []byte("h"), Text: []byte("t")})
		if err != nil || total != 3 {
			t.Fatalf("StartCampaign = %d, %v; want 3", total, err)
		}
		rows, err := s.ClaimDeliveries(ctx, c.ID, 10, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		var who []int64
		for _, d := range rows {
			who = append(who, d.SubscriberID)
		}
		slices.Sort(who)
		if want := []int64{ids["ann"], ids["bob"], ids["cat"]}; !slices.Equal(who, want) {
			t.Errorf("recipients %v, want %v", who, want)
		}

		// A segment-only campaign.
		c2 := &model.Campaign{Name: "segment only", EditionID: 1, SegmentIDs: []int64{sg.ID}, From: "a@example.com"}
		if err := s.CreateCampaign(ctx, c2); err != nil {
			t.Fatal(err)
		}
		if total, err := s.StartCampaign(ctx, c2.ID, model.Frozen{Subject: "s", HTML: []byte("h"), Text: []byte("t")}); err != nil || total != 2 {
			t.Fatalf("segment-only StartCampaign = %d, %v; want 2", total, err)
		}
	})
}
