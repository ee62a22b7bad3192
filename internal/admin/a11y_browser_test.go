package admin_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/herald-news/herald/internal/admin"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/bounce"
	"github.com/herald-news/herald/internal/browsertest"
	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/precheck"
	"github.com/herald-news/herald/internal/precheck/prechecktest"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/store"
)

// a11yEnv is an env with something on every admin page: a campaign that
// went out with opens, clicks and a bounce (its chart and tables), a draft
// campaign, a segment, a series, a source, a webhook, a finished import,
// a message in the outbox and a dashboard with growth and ratings.
func a11yEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, func(d *admin.Deps) {
		d.Precheck = &precheck.Editions{Checker: precheck.New(precheck.Options{Allow: prechecktest.Loopback}),
			Email: delivery.EditionEmail(d.Store, model.Publication{}, render.Options{}), BaseURL: d.BaseURL}
	})
	ctx := context.Background()
	st := e.st
	campID := mustID(t, e.ids["campaign"])
	subID := mustID(t, e.ids["subscriber"])
	if _, err := st.StartCampaign(ctx, campID, model.Frozen{Subject: "Evening", HTML: []byte("<p>Hello</p>"), Text: []byte("Hello")}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := st.RecordEvents(ctx, []model.Event{
		{Kind: model.EventOpen, CampaignID: campID, SubscriberID: subID, At: now.Add(-2 * time.Hour)},
		{Kind: model.EventClick, CampaignID: campID, SubscriberID: subID, URL: "https://northgate-courier.example/harbour-deal", At: now.Add(-time.Hour)},
	}); err != nil {
		t.Fatal(err)
	}
	rec := &bounce.Recorder{Store: st}
	if err := rec.Record(ctx, []bounce.Report{{Kind: model.EventSoftBounce, Email: "reader@example.org", SubscriberID: subID, CampaignID: campID, Detail: "4.2.2 mailbox full"}}); err != nil {
		t.Fatal(err)
	}
	draft := &model.Campaign{Name: "Morning draft", EditionID: mustID(t, e.ids["edition"]), ListIDs: []int64{e.list.ID}, From: "Courier <news@example.com>"}
	if err := st.CreateCampaign(ctx, draft); err != nil {
		t.Fatal(err)
	}
	e.ids["draft"] = itoa(draft.ID)
	sg := &model.Segment{Name: "Readers who click", Query: `list = evening`}
	if err := st.SaveSegment(ctx, sg); err != nil {
		t.Fatal(err)
	}
	e.ids["segment"] = itoa(sg.ID)
	sr := &model.Series{Name: "Evening briefing", Weekdays: []time.Weekday{time.Monday, time.Thursday}, SlotTime: "18:00",
		ListIDs: []int64{e.list.ID}, Active: true, RemindBefore: 30 * time.Minute,
		Template: model.Edition{Subject: "Evening {date}", Sections: []model.Section{{Kind: model.KindBriefs, Title: "Also"}}}}
	if err := st.CreateSeries(ctx, sr); err != nil {
		t.Fatal(err)
	}
	e.ids["series"] = itoa(sr.ID)
	src := &model.Feed{Name: "Courier wire", URL: "https://wire.northgate-courier.example/feed.xml"}
	if err := st.CreateSource(ctx, src); err != nil {
		t.Fatal(err)
	}
	wh := &model.WebhookEndpoint{URL: "https://hooks.northgate-courier.example/herald", Secret: "a-secret-of-the-right-length-000", Events: model.WebhookEvents(), Active: true, Description: "Newsroom bot"}
	if err := st.CreateWebhookEndpoint(ctx, wh); err != nil {
		t.Fatal(err)
	}
	e.ids["webhook"] = itoa(wh.ID)
	j := &store.ImportJob{File: "readers.csv", ListID: e.list.ID, ListName: e.list.Name, Mode: store.ImportUpsert, SubStatus: model.SubConfirmed, Size: 64}
	if err := st.CreateImportJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	if err := st.FinishImportJob(ctx, j.ID, "done", store.ImportCounts{Read: 64, Rows: 3, Imported: 2, Rejected: 1}, "", []byte("line,reason\n4,not an address\n"), false); err != nil {
		t.Fatal(err)
	}
	e.ids["import"] = itoa(j.ID)
	msg := "From: Courier <news@example.com>\r\nTo: reader@example.org\r\nSubject: Evening\r\nDate: " + now.Format(time.RFC1123Z) +
		"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello, reader.\r\n"
	if err := e.outbox.Send(ctx, mailer.Envelope{From: "news@example.com", To: "reader@example.org"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	items, err := e.outbox.List(0, 1)
	if err != nil || len(items) != 1 {
		t.Fatalf("outbox: %v %v", items, err)
	}
	e.ids["outbox"] = items[0].ID
	return e
}

// a11yPages lists every page of the admin a signed-in owner can open, from
// the admin's own route table (a page added later is checked too), with
// real IDs filled in. Left out: files, event streams, the email itself
// (previews, the outbox's copy, the click map: a sandboxed page of the
// reader's email), and sign-in steps that need a pending sign-in or token.
func (e *env) a11yPages(t *testing.T) []string {
	t.Helper()
	skip := []string{"/admin/static/", "/events", ".csv", "/preview/", "/admin/sso/", "/admin/reset/", "/admin/login", "/admin/forgot", "/html", "/raw", "/clickmap"}
	var pages []string
	for _, rt := range e.admin.Routes() {
		if rt.Method != "GET" || rt.Public && !strings.HasPrefix(rt.Path, "/admin/login") {
			continue
		}
		if func() bool {
			for _, s := range skip {
				if strings.Contains(rt.Path, s) {
					return true
				}
			}
			return false
		}() {
			continue
		}
		p := e.fill(rt)
		for prefix, id := range map[string]string{"/admin/segments/": e.ids["segment"], "/admin/series/": e.ids["series"],
			"/admin/webhooks/": e.ids["webhook"], "/admin/imports/": e.ids["import"], "/admin/outbox/": e.ids["outbox"]} {
			if strings.HasPrefix(rt.Path, prefix) {
				p = strings.ReplaceAll(rt.Path, "{id}", id)
			}
		}
		pages = append(pages, p)
	}
	return append(pages, "/admin/campaigns/"+e.ids["draft"], "/admin/campaigns/999999")
}

// TestBrowserAccessibility runs axe-core over every admin page, signed out
// (sign-in, forgotten password) and signed in as the owner, in light and
// dark mode: any serious or critical WCAG 2.2 A/AA violation fails it.
func TestBrowserAccessibility(t *testing.T) {
	browsertest.RequireAxe(t)
	e := a11yEnv(t)
	pages := e.a11yPages(t)
	c := e.login(auth.Owner)
	for _, p := range pages {
		req, _ := http.NewRequest("GET", e.srv.URL+p, nil)
		res := c.do(req)
		res.Body.Close()
		if want := http.StatusOK; res.StatusCode != want && p != "/admin/campaigns/999999" {
			t.Errorf("GET %s: %d, want %d (seed what the page needs)", p, res.StatusCode, want)
		}
	}
	b := browsertest.New(t)
	u := e.srv.URL
	for _, scheme := range []string{"light", "dark"} {
		b.Do(browsertest.ColorScheme(scheme))
		for _, p := range []string{"/admin/login", "/admin/forgot"} {
			b.Do(chromedp.Navigate(u+p), chromedp.WaitVisible(css("h1")))
			browsertest.Axe(t, b, scheme+p)
		}
		signInBrowser(b, t, u, "owner@example.com")
		for _, p := range pages {
			b.Do(chromedp.Navigate(u+p), chromedp.WaitReady(css("body")))
			// The composer is checked once its script has drawn it.
			waitJS(b, t, `document.readyState === "complete" && (!document.querySelector("#composer") || !!document.querySelector("#composer[data-ready]"))`)
			browsertest.Axe(t, b, scheme+p)
		}
		signOutBrowser(b, t)
	}
}
