package api_test

import (
	"context"
	"testing"

	"github.com/herald-news/herald/internal/api"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/edition"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/precheck"
	"github.com/herald-news/herald/internal/precheck/prechecktest"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestStartWithPrecheck: a start that asks for the checks is refused with
// precheck_warnings until acknowledged; a start without the body starts at
// once, as scripts written before the checks expect.
func TestStartWithPrecheck(t *testing.T) {
	site := prechecktest.Site(t)
	st := storetest.SQLite(t)
	e := newEnv(t, st, true, func(d *api.Deps) {
		d.Precheck = &precheck.Editions{Checker: precheck.New(precheck.Options{Allow: prechecktest.Loopback}),
			Email: delivery.EditionEmail(st, model.Publication{}, render.Options{}), BaseURL: "https://news.example.com"}
	})
	ctx := context.Background()
	ed, err := edition.Parse([]byte(prechecktest.Edition(site)))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateEdition(ctx, ed, ""); err != nil {
		t.Fatal(err)
	}
	l := &model.List{Slug: "ferry", Name: "Ferry news"}
	if err := st.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for range 2 {
		c := &model.Campaign{Name: "Ferry", EditionID: ed.ID, ListIDs: []int64{l.ID}, From: "Courier <news@example.com>"}
		if err := st.CreateCampaign(ctx, c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	c := e.client(auth.Editor)
	rep, err := c.PrecheckCampaign(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	gone := false
	for _, f := range rep.Findings {
		gone = gone || f.URL == site+"/gone" && f.Check == "links"
	}
	if !gone || len(rep.Images) != 1 || rep.HTMLBytes == 0 {
		t.Fatalf("precheck = %+v", rep)
	}
	if _, err := c.StartCampaignChecked(ctx, ids[0], false); apiCode(err) != "precheck_warnings" {
		t.Fatalf("checked start with a warning: %v", err)
	}
	if got, _ := st.Campaign(ctx, ids[0]); got.Status != model.CampaignDraft {
		t.Fatalf("refused start left the campaign %s", got.Status)
	}
	if camp, err := c.StartCampaignChecked(ctx, ids[0], true); err != nil || camp.Status != string(model.CampaignSending) && camp.Status != string(model.CampaignSent) {
		t.Fatalf("acknowledged start = %+v, %v", camp, err)
	}
	if camp, err := c.StartCampaign(ctx, ids[1]); err != nil || camp.Status == string(model.CampaignDraft) {
		t.Fatalf("start without a body = %+v, %v", camp, err)
	}
}
