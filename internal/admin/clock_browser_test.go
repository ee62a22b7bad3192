package admin_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/herald-news/herald/internal/browsertest"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

// TestBrowserOneClock: in a Paris newsroom every time the admin shows is
// Paris time, labelled with it: the campaigns list, a series and its days,
// the audit log, the outbox, the imports and an edition's history.
func TestBrowserOneClock(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	if err := e.st.PutSettings(ctx, map[string]string{store.NewsroomZoneSetting: "Europe/Paris"}); err != nil {
		t.Fatal(err)
	}
	owner := e.login("owner")
	// Something on every page: a scheduled campaign, a series, a test
	// copy in the outbox, an import, audit rows, a revision.
	winter := time.Date(2027, 1, 15, 17, 0, 0, 0, time.UTC) // 18:00 in Paris
	if err := e.st.ScheduleCampaign(ctx, mustID(t, e.ids["campaign"]), winter); err != nil {
		t.Fatal(err)
	}
	sr := &model.Series{Name: "Evening briefing", SlotTime: "18:00", Active: true, Weekdays: []time.Weekday{1, 2, 3, 4, 5},
		ListIDs: []int64{e.list.ID}, Template: model.Edition{Subject: "Evening: {date}"}}
	if err := e.st.CreateSeries(ctx, sr); err != nil {
		t.Fatal(err)
	}
	owner.post("/admin/campaigns/"+e.ids["campaign"]+"/test", url.Values{"csrf": {owner.csrf}, "to": {"desk@example.com"}})
	_, id := upload(t, e, owner, "email,name\nann@example.com,Ann\n")
	waitImport(t, e.st, id)

	b := browsertest.New(t)
	signIn(b, t, e.srv.URL, "owner")
	for _, p := range []struct{ name, path, sel string }{
		{"campaigns", "/admin/campaigns", "main"},
		{"campaign", "/admin/campaigns/" + e.ids["campaign"], "#schedule"},
		{"series-list", "/admin/series", "main"},
		{"series", "/admin/series/" + itoa(sr.ID), "main"},
		{"audit", "/admin/audit", "table.audit"},
		{"outbox", "/admin/outbox", "main table"},
		{"imports", "/admin/imports", "#import-history"},
		{"history", "/admin/editions/" + e.ids["edition"] + "/history", "main table"},
	} {
		b.Do(chromedp.Navigate(e.srv.URL+p.path), chromedp.WaitVisible(css(p.sel)))
		text := browsertest.Run(b, chromedp.Evaluate[string](`document.querySelector("main").innerText`))
		if !strings.Contains(text, "CET") && !strings.Contains(text, "Europe/Paris") {
			t.Errorf("%s shows no newsroom time:\n%s", p.name, text)
		}
		if strings.Contains(text, "UTC") {
			t.Errorf("%s still shows UTC:\n%s", p.name, text)
		}
		b.Screenshot("clock-" + p.name)
	}
	b.Do(chromedp.Navigate(e.srv.URL+"/admin/campaigns"), chromedp.WaitVisible(css("main table")))
	if text := browsertest.Run(b, chromedp.Text(css("main table"))); !strings.Contains(text, "2027-01-15 18:00 CET") {
		t.Errorf("the campaigns list does not show the schedule at 18:00 Paris time:\n%s", text)
	}
	b.AssertNoProblems()
}
