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

// tabTo presses Tab until the focused element matches the JavaScript
// condition cond (on document.activeElement, named el), failing after
// max presses.
func tabTo(b *browsertest.Browser, t *testing.T, cond string, max int) {
	t.Helper()
	for range max {
		b.Do(browsertest.Tab())
		if browsertest.Run(b, chromedp.Evaluate[bool](`(el => !!el && !!(`+cond+`))(document.activeElement)`)) {
			return
		}
	}
	b.Screenshot("failure")
	t.Fatalf("no focusable element with %s within %d presses of Tab", cond, max)
}

// TestBrowserAdminKeyboardAndSmallScreens is what axe-core cannot see:
// the skip link is the first Tab stop and moves focus to the page; a
// checkbox and the composer's preview tabs show focus at 3:1; the
// dashboard's chart is told in words with its figures in a table; every
// "Remove" button names what it removes; the sign-in card fits a 390 px
// phone screen.
func TestBrowserAdminKeyboardAndSmallScreens(t *testing.T) {
	e := a11yEnv(t)
	ctx := context.Background()
	src2 := &model.Feed{Name: "Harbour desk", URL: "https://harbour.northgate-courier.example/feed.xml"}
	if err := e.st.CreateSource(ctx, src2); err != nil {
		t.Fatal(err)
	}
	b := browsertest.New(t)
	u := e.srv.URL

	// The sign-in card on a phone: all of it on the screen, no sideways
	// scrolling.
	b.Do(chromedp.EmulateViewport(390, 844), chromedp.Navigate(u+"/admin/login"), chromedp.WaitVisible(css(".login-card")))
	type box struct{ Left, Right, Page float64 }
	got := browsertest.Run(b, chromedp.Evaluate[box](`(() => { const r = document.querySelector(".login-card").getBoundingClientRect();
		return {Left: r.left, Right: r.right, Page: document.documentElement.scrollWidth}; })()`))
	if got.Left < 0 || got.Right > 390 || got.Page > 390 {
		t.Errorf("sign-in card at 390 px: %+v, want it within 0..390 and no wider page", got)
	}
	b.Screenshot("signin-390")
	b.Do(chromedp.EmulateViewport(1280, 900))
	signInBrowser(b, t, u, "owner@example.com")

	// The skip link: the first Tab stop, visible when focused, and it
	// takes focus past the sidebar into the page.
	b.Do(chromedp.Navigate(u+"/admin/"), chromedp.WaitVisible(css(".chart")), browsertest.Tab())
	f := browsertest.FocusOf(b, "")
	if !strings.HasPrefix(f.Element, "a.skip-link") || !f.Visible() {
		t.Errorf("first Tab stop: %s, want the skip link with a focus ring of 3:1", f)
	}
	if top := browsertest.Run(b, chromedp.Evaluate[float64](`document.activeElement.getBoundingClientRect().top`)); top < 0 {
		t.Errorf("the focused skip link is off screen (top %.0f)", top)
	}
	b.Screenshot("skip-link")
	b.Do(chromedp.KeyEvent("\r"))
	if id := browsertest.Run(b, chromedp.Evaluate[string](`document.activeElement.id`)); id != "main" {
		t.Errorf("after the skip link, focus is on #%s, want #main", id)
	}

	// The dashboard's chart in words: its name sums up each line, and a
	// table holds every figure.
	label := browsertest.Run(b, chromedp.Evaluate[string](`document.querySelector("svg.chart").getAttribute("aria-label")`))
	if !strings.HasPrefix(label, "Subscriber growth. Subscribers: from ") || !strings.Contains(label, "New per day: from ") {
		t.Errorf("the growth chart's text alternative: %q", label)
	}
	rows := browsertest.Run(b, chromedp.Evaluate[int](`document.querySelectorAll("figure.chart-figure")[0].querySelectorAll("details.chart-data tbody tr").length`))
	points := browsertest.Run(b, chromedp.Evaluate[int](`document.querySelector("svg.chart polyline").getAttribute("points").trim().split(/\s+/).length`))
	if rows == 0 || rows != points {
		t.Errorf("the chart's table has %d rows for %d points", rows, points)
	}
	b.Do(chromedp.Click(css("details.chart-data summary")))
	b.Screenshot("chart-table")

	// A checkbox shows keyboard focus at 3:1.
	b.Do(chromedp.Navigate(u+"/admin/settings"), chromedp.WaitVisible(css("#ask_feedback")))
	tabTo(b, t, `el.type === "checkbox"`, 80)
	if f := browsertest.FocusOf(b, ""); !f.Visible() {
		t.Errorf("checkbox focus: %s, want an outline of 3:1", f)
	}
	b.Screenshot("checkbox-focus")

	// The composer's preview tabs show keyboard focus at 3:1 on their label.
	b.Do(chromedp.Navigate(u+"/admin/editions/"+e.ids["edition"]), chromedp.WaitVisible(css("#composer[data-ready]")))
	browsertest.Run(b, chromedp.Evaluate[bool](`document.querySelector(".tabs").scrollIntoView(), document.querySelector(".tabs").previousElementSibling?.focus?.(), true`))
	tabTo(b, t, `el.id && el.id.startsWith("tab-")`, 400)
	id := browsertest.Run(b, chromedp.Evaluate[string](`document.activeElement.id`))
	if f := browsertest.FocusOf(b, "label[for="+id+"]"); !f.Visible() {
		t.Errorf("preview tab focus: %s, want an outline of 3:1", f)
	}
	b.Screenshot("preview-tab-focus")

	// Every "Remove" button names what it removes: no two alike, and none
	// that says only "Remove".
	for _, p := range []string{"/admin/sources", "/admin/users", "/admin/account", "/admin/editions/" + e.ids["edition"]} {
		b.Do(chromedp.Navigate(u+p), chromedp.WaitReady(css("main")))
		names := browsertest.Run(b, chromedp.Evaluate[[]string](`[...document.querySelectorAll("button")].map(b => {
				const by = b.getAttribute("aria-labelledby");
				const name = by ? by.split(/\s+/).map(id => { const n = document.getElementById(id);
					return n === b ? (b.getAttribute("aria-label") || b.textContent) : n ? n.textContent : ""; }).join(" ")
					: (b.getAttribute("aria-label") || b.textContent);
				return name.replace(/\s+/g, " ").trim();
			}).filter(n => /^(remove|✕)/i.test(n))`))
		seen := map[string]bool{}
		for _, n := range names {
			if seen[n] || len(strings.Fields(n)) < 2 {
				t.Errorf("%s: a Remove button named %q does not say what it removes (all: %q)", p, n, names)
				break
			}
			seen[n] = true
		}
	}
	for _, p := range b.Problems() {
		// The sample edition's hero picture lives on the publication's
		// (made-up) server; tests reach no network.
		if !strings.Contains(p, "media.northgate-courier.example") {
			t.Errorf("browser problem: %s", p)
		}
	}
}

// TestBrowserSlugFollowsSlot: a draft begun as a morning edition and
// turned into the evening briefing gets an address ending in "-evening",
// saved with the button or by autosave (whose form still shows the old
// slug); a slug the editor wrote stays.
func TestBrowserSlugFollowsSlot(t *testing.T) {
	e := newEnv(t, nil)
	b := browsertest.New(t)
	signInBrowser(b, t, e.srv.URL, "editor@example.com")
	b.Do(chromedp.Navigate(e.srv.URL+"/admin/editions"), chromedp.WaitVisible(css(".page-head button")))
	clickNav(b, t, ".page-head button")
	b.Do(chromedp.WaitVisible(css("#composer[data-ready]")))
	slug := func() string { return browsertest.Run(b, chromedp.Value(css("#slug"))) }
	date := browsertest.Run(b, chromedp.Value(css("#date")))
	setSlot := func(slot string) {
		browsertest.Run(b, chromedp.Evaluate[bool](`(s => { const el = document.getElementById("slot"); el.value = s;
			el.dispatchEvent(new Event("input", {bubbles: true})); el.dispatchEvent(new Event("change", {bubbles: true})); return true; })("`+slot+`")`))
	}
	setSlot("morning")
	clickNav(b, t, "#save-button")
	if got, want := slug(), date+"-morning"; got != want {
		t.Fatalf("morning draft's slug %q, want %q", got, want)
	}
	setSlot("evening")
	clickNav(b, t, "#save-button")
	if got, want := slug(), date+"-evening"; got != want {
		t.Errorf("after choosing the evening slot, the slug is %q, want %q", got, want)
	}
	b.Screenshot("evening-slug")

	// Autosave, from a form that still shows the slug it opened with.
	setSlot("morning")
	waitJS(b, t, `document.getElementById("save-state").textContent.startsWith("Saved at")`)
	setSlot("evening")
	waitJS(b, t, `document.getElementById("save-state").textContent.startsWith("Saved at")`)
	b.Do(chromedp.Reload(), chromedp.WaitVisible(css("#composer[data-ready]")))
	if got, want := slug(), date+"-evening"; got != want {
		t.Errorf("after autosaves, the slug is %q, want %q", got, want)
	}

	// A slug someone wrote stays whatever the slot.
	b.Do(chromedp.SetValue(css("#slug"), "harbour-vote-special"))
	clickNav(b, t, "#save-button")
	setSlot("morning")
	clickNav(b, t, "#save-button")
	if got := slug(); got != "harbour-vote-special" {
		t.Errorf("a written slug became %q", got)
	}
}
