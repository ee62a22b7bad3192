package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/herald-news/herald/internal/admin"
	"github.com/herald-news/herald/internal/browsertest"
	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/series"
	"github.com/herald-news/herald/internal/source"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/unfurl"
)

// deskFeeds serves the publication's own feed, another publication's, and
// an article page to paste, over real HTTP.
func deskFeeds(t *testing.T) *httptest.Server {
	t.Helper()
	var base string
	mux := http.NewServeMux()
	mux.HandleFunc("/own.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Courier</title><link>%[1]s/</link>
<item><title>Tide tables and the new pier</title><link>%[1]s/2026/pier</link><guid>pier</guid><dc:creator>Nadia Brook</dc:creator></item>
<item><title>The council's quiet U-turn</title><link>%[1]s/2026/council</link><guid>council</guid><dc:creator>Tom Reyes</dc:creator></item>
</channel></rss>`, base)
	})
	mux.HandleFunc("/other.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/atom+xml")
		fmt.Fprint(w, `<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Review</title><id>urn:r</id><updated>2026-03-02T08:00:00Z</updated>
<entry><title>Why fog horns got quieter</title><id>urn:fog</id><link href="https://coastline-review.example/fog"/><author><name>Eli Strand</name></author><updated>2026-03-02T08:00:00Z</updated>
<summary>Ships rely on radar now, and neighbours complained.</summary></entry>
<entry><title>Counting the harbour seals</title><id>urn:seals</id><link href="https://coastline-review.example/seals"/><author><name>Rae Lind</name></author><updated>2026-03-02T07:00:00Z</updated>
<summary>Volunteers counted 212 seals on the sandbanks this winter, the most in a decade.</summary></entry>
</feed>`)
	})
	mux.HandleFunc("/night-ferry", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html><head><title>Night ferry | Review</title>
<meta property="og:site_name" content="Coastline Review">
<script type="application/ld+json">{"@type":"NewsArticle","headline":"The night ferry returns","author":{"@type":"Person","name":"Alex Moor"},"publisher":{"@type":"Organization","name":"The Coastline Review"}}</script>
</head><body></body></html>`)
	})
	srv := httptest.NewServer(mux)
	base = srv.URL
	t.Cleanup(srv.Close)
	return srv
}

// TestBrowserDeskComposesAnEdition is tonight's briefing made from the
// desk in a real browser: the editor adds two feeds as sources and a
// weekday series; Herald reads the feeds and makes the day's draft; in the
// composer the editor adds an own article as a card, a searched-for piece
// from another publication as a pick and another as a brief, pastes a link
// that Herald unfurls into a pick, sees the item already used last week
// marked, writes the lead and marks the draft ready; at 18:00 newsroom
// time its campaign is scheduled.
func TestBrowserDeskComposesAnEdition(t *testing.T) {
	feeds := deskFeeds(t)
	allow := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	e := newEnv(t, func(d *admin.Deps) { d.Unfurl = unfurl.New(unfurl.Options{Allow: allow}) })
	ctx := context.Background()
	if err := e.st.PutSetting(ctx, series.ZoneSetting, "Europe/London"); err != nil {
		t.Fatal(err)
	}
	// Last week's edition already ran the council piece.
	used := &model.Edition{Slug: "2026-02-24-evening", Date: "2026-02-24", Subject: "Last week", Sections: []model.Section{
		{Kind: model.KindCards, Cards: []model.Card{{Headline: "The council's quiet U-turn", URL: feeds.URL + "/2026/council"}}}}}
	if err := e.st.CreateEdition(ctx, used, ""); err != nil {
		t.Fatal(err)
	}
	b := browsertest.New(t)
	u := e.srv.URL
	set := func(sel, v string) chromedp.Action[chromedp.Void] { return chromedp.SetValue(css(sel), v) }

	b.Do(chromedp.Navigate(u+"/admin/"), chromedp.WaitVisible(css("#email")))
	b.Do(chromedp.SendKeys(css("#email"), "editor@example.com"), chromedp.SendKeys(css("#password"), password))
	clickNav(b, t, ".login-card button")

	// Sources, added in the admin.
	b.Do(chromedp.Navigate(u+"/admin/sources"), chromedp.WaitVisible(css("#src-name")))
	b.Do(set("#src-name", "Courier site"), set("#src-url", feeds.URL+"/own.xml"), chromedp.Click(css("input[name=own]")))
	clickNav(b, t, `form[action="/admin/sources"] button`)
	b.Do(set("#src-name", "Coastline Review"), set("#src-url", feeds.URL+"/other.xml"))
	clickNav(b, t, `form[action="/admin/sources"] button`)
	poller := &source.Poller{Store: e.st, Client: unfurl.NewClient(unfurl.Options{Allow: allow})}
	if n, err := poller.PollDue(ctx); err != nil || n != 2 {
		t.Fatalf("polled %d sources, %v", n, err)
	}
	b.Do(chromedp.Navigate(u+"/admin/sources"), chromedp.WaitVisible(css("#sources")))
	if txt := browsertest.Run(b, chromedp.Text(css("#sources"))); strings.Count(strings.ToLower(txt), "ok") != 2 {
		t.Errorf("sources page after polling: %s", txt)
	}
	b.Screenshot("desk-sources")

	// A weekday series at 18:00, made in the admin.
	b.Do(chromedp.Navigate(u+"/admin/series"), chromedp.WaitVisible(css("#sr-name")))
	b.Do(set("#sr-name", "Evening briefing"), set("#sr-time", "18:00"), set("#sr-subject", "Evening briefing: {date}"),
		set("#sr-skel", "lead: Tonight\ncards: Comment\nbriefs: Also know\npicks: Five things"),
		chromedp.Click(css(`input[name=list][value="`+fmt.Sprint(e.list.ID)+`"]`)))
	clickNav(b, t, `form[action="/admin/series"] button[type=submit]`)
	all, err := e.st.AllSeries(ctx)
	if err != nil || len(all) != 1 {
		t.Fatalf("series = %+v, %v", all, err)
	}
	sr := all[0]
	var now time.Time
	london, _ := time.LoadLocation("Europe/London")
	sched := &series.Scheduler{Store: e.st, Now: func() time.Time { return now }, Check: delivery.SeriesCheck(e.st, "Courier <news@example.com>")}
	now = time.Date(2026, 3, 2, 9, 0, 0, 0, london) // a Monday morning
	if err := sched.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	b.Do(chromedp.Navigate(fmt.Sprintf("%s/admin/series/%d", u, sr.ID)), chromedp.WaitVisible(css("#runs")))
	if txt := browsertest.Run(b, chromedp.Text(css("#runs"))); !strings.Contains(txt, "2026-03-02") || !strings.Contains(txt, "18:00 GMT") {
		t.Errorf("series days: %s", txt)
	}
	b.Screenshot("desk-series")
	clickNav(b, t, `#runs a[href^="/admin/editions/"]`)
	b.Do(chromedp.WaitVisible(css("#desk")), chromedp.WaitVisible(css("#composer[data-ready]")))
	b.Screenshot("desk-composer")
	if n := browsertest.Run(b, chromedp.Evaluate[int](`document.querySelectorAll(".desk-item").length`)); n != 4 {
		t.Errorf("desk shows %d items, want 4", n)
	}
	item := func(title string) int64 {
		t.Helper()
		its, err := e.st.SourceItems(ctx, store.ItemFilter{Query: title})
		if err != nil || len(its) != 1 {
			t.Fatalf("item %q: %v, %v", title, its, err)
		}
		return its[0].ID
	}
	council := item("quiet U-turn")
	if txt := browsertest.Run(b, chromedp.Text(css(fmt.Sprintf(`.desk-item.used[data-item="%d"] .used-badge`, council)))); !strings.Contains(txt, "2026-02-24") {
		t.Errorf("the used item is marked %q", txt)
	}

	// One click: the own article becomes a card.
	clickNav(b, t, fmt.Sprintf(`button[value="desk-card:%d"]`, item("new pier")))
	if got := browsertest.Run(b, chromedp.Value(css("input[name=s1_0_headline]"))); got != "Tide tables and the new pier" {
		t.Errorf("card headline %q", got)
	}
	// Search, then a pick and a brief from the other publication.
	b.Do(set("#desk_q", "fog"), chromedp.SendKeys(css("#desk_q"), kb.Enter))
	waitJS(b, t, `location.search.includes("q=fog") && document.readyState === "complete"`)
	if n := browsertest.Run(b, chromedp.Evaluate[int](`document.querySelectorAll(".desk-item").length`)); n != 1 {
		t.Errorf("searching fog shows %d items", n)
	}
	clickNav(b, t, fmt.Sprintf(`button[value="desk-pick:%d"]`, item("fog horns")))
	b.Do(set("#desk_q", "seals"))
	clickNav(b, t, "#desk-search")
	clickNav(b, t, fmt.Sprintf(`button[value="desk-brief:%d"]`, item("harbour seals")))
	// A pasted link, unfurled into a pick.
	b.Do(set("#desk_url", feeds.URL+"/night-ferry"))
	clickNav(b, t, "#unfurl-pick")
	// A link to a private address is refused with a plain message.
	b.Do(set("#desk_url", "http://10.0.0.8/admin"))
	clickNav(b, t, "#unfurl-pick")
	if msg := browsertest.Run(b, chromedp.Text(css(".flash-err"))); !strings.Contains(msg, "private address") {
		t.Errorf("refusal message %q", msg)
	}
	b.Do(set("textarea[name=s0_body]", "The harbour board met late and agreed to reopen the pier on Friday."),
		set("input[name=s0_byline_name]", "Ines Carver"))
	clickNav(b, t, "#save-button")
	if p := browsertest.Run(b, chromedp.Text(css("#problems"))); strings.TrimSpace(p) != "" {
		t.Fatalf("the desk-made edition has problems: %s", p)
	}
	b.Screenshot("desk-composed")
	clickNav(b, t, "#mark-ready")
	if st := browsertest.Run(b, chromedp.Text(css("#run-status"))); !strings.EqualFold(st, "ready") {
		t.Errorf("run status after Mark ready: %q", st)
	}

	run, err := e.st.SeriesRun(ctx, sr.ID, "2026-03-02")
	if err != nil {
		t.Fatal(err)
	}
	ed, err := e.st.GetEdition(ctx, run.EditionID)
	if err != nil {
		t.Fatal(err)
	}
	if ed.Slot != model.SlotEvening {
		t.Errorf("an 18:00 series' edition has slot %q", ed.Slot)
	}
	s := ed.Sections
	if len(s) != 4 || s[1].Cards[0].URL != feeds.URL+"/2026/pier" || s[1].Cards[0].Author != "Nadia Brook" ||
		len(s[2].Briefs) != 1 || s[2].Briefs[0].Headline != "Counting the harbour seals" || !strings.Contains(s[2].Briefs[0].Body, "212 seals") ||
		len(s[3].Picks) != 2 || s[3].Picks[0].Publication != "Coastline Review" || s[3].Picks[0].Author != "Eli Strand" {
		t.Fatalf("the edition: %+v", s)
	}
	if p := s[3].Picks[1]; p.Title != "The night ferry returns" || p.Author != "Alex Moor" || p.Publication != "The Coastline Review" || p.URL != feeds.URL+"/night-ferry" {
		t.Errorf("the unfurled pick: %+v", p)
	}
	// At the slot the campaign is scheduled.
	now = time.Date(2026, 3, 2, 18, 0, 0, 0, london)
	if err := sched.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	run, _ = e.st.SeriesRun(ctx, sr.ID, "2026-03-02")
	c, err := e.st.Campaign(ctx, run.CampaignID)
	if err != nil || c.Status != model.CampaignScheduled || c.EditionID != ed.ID {
		t.Fatalf("campaign at the slot: %+v, %v", c, err)
	}
}
