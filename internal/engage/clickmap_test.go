package engage_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/engage"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestClickMap: the sample edition's links are attributed to their
// sections (the lead, each card, the briefs, each pick) and marked with
// their share of the readers who clicked; a machine's clicks count for no
// one.
func TestClickMap(t *testing.T) {
	s := storetest.SQLite(t)
	ctx := context.Background()
	ed, err := sample.Edition()
	if err != nil {
		t.Fatal(err)
	}
	pub := sample.Publication()
	pub.LogoURL = ""
	r, err := render.New(pub, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	em, err := r.Email(ed)
	if err != nil {
		t.Fatal(err)
	}
	l := &model.List{Slug: "daily", Name: "Daily"}
	if err := s.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	c := &model.Campaign{Name: "Evening", EditionID: 1, ListIDs: []int64{l.ID}, From: "Desk <desk@example.com>", Tracking: true}
	if err := s.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartCampaign(ctx, c.ID, em.Freeze()); err != nil {
		t.Fatal(err)
	}
	card, pick := ed.Sections[1].Cards[0].URL, ed.Sections[3].Picks[1].URL
	now := time.Now().UTC()
	var evs []model.Event
	for i := range 4 {
		evs = append(evs, model.Event{Kind: model.EventClick, CampaignID: c.ID, SubscriberID: int64(i + 1), URL: card, At: now})
	}
	evs = append(evs, model.Event{Kind: model.EventClick, CampaignID: c.ID, SubscriberID: 1, URL: pick, At: now},
		model.Event{Kind: model.EventClick, CampaignID: c.ID, SubscriberID: 9, URL: pick, At: now, Class: model.ClassMachine, Reason: "burst"})
	if err := s.RecordEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	m, err := engage.BuildClickMap(ctx, s, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	var names []string
	for _, sec := range m.Sections {
		got[sec.Name] = sec.Readers
		names = append(names, sec.Name)
	}
	t.Logf("sections: %q", names)
	if m.Readers != 4 {
		t.Errorf("readers = %d, want 4", m.Readers)
	}
	var cardName, pickName string
	for _, n := range names {
		if strings.HasPrefix(n, "Card 1: ") {
			cardName = n
		}
		if strings.HasPrefix(n, "Pick 2: ") {
			pickName = n
		}
	}
	if got[cardName] != 4 || got[pickName] != 1 || got["Lead"] != 0 || got["Briefs"] != 0 && !strings.Contains(strings.Join(names, "|"), "Briefs") {
		t.Errorf("sections %v", got)
	}
	page := string(m.HTML)
	if !strings.Contains(page, `data-share="100">100%</span>`) || !strings.Contains(page, `data-share="25">25%</span>`) || !strings.Contains(page, "hm-link") {
		t.Errorf("the marks are missing from the email")
	}
}
