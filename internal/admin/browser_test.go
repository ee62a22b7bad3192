package admin_test

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/herald-news/herald/internal/admin"
	"github.com/herald-news/herald/internal/browsertest"
	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/delivery/deliverytest"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store"
)

// sendingEnv is an env whose admin starts campaigns on a running delivery
// engine that sends to an in-process SMTP server.
func sendingEnv(t *testing.T, readers int) (*env, *smtpsink.Sink) {
	t.Helper()
	sink, m, rc := deliverytest.Relay(t, smtpsink.Options{})
	var eng *delivery.Engine
	e := newEnv(t, func(d *admin.Deps) {
		var err error
		eng, err = delivery.New(d.Store, delivery.Config{
			Sender: m, Signer: deliverytest.Signer(t), BaseURL: d.BaseURL, FlushAfter: 20 * time.Millisecond, Poll: 50 * time.Millisecond,
			Freeze: delivery.EditionFreezer(d.Store, model.Publication{}, render.Options{}),
		})
		if err != nil {
			t.Fatal(err)
		}
		d.Engine, d.Sender, d.Relays = eng, m, []mailer.RelayConfig{rc}
	})
	deliverytest.Run(t, eng)
	rows := make([]store.ImportRow, readers)
	for i := range rows {
		rows[i] = store.ImportRow{Line: i + 2, Email: fmt.Sprintf("reader%03d@example.net", i), Name: fmt.Sprintf("Reader %d", i)}
	}
	if _, err := e.st.ImportBatch(context.Background(), rows, store.ImportOptions{ListID: e.list.ID, Status: model.SubConfirmed, Mode: store.ImportUpsert}); err != nil {
		t.Fatal(err)
	}
	return e, sink
}

func writePNG(t *testing.T) string {
	img := image.NewRGBA(image.Rect(0, 0, 600, 300))
	for y := range 300 {
		for x := range 600 {
			img.Set(x, y, color.RGBA{uint8(30 + x/5), uint8(60 + y/4), 140, 255})
		}
	}
	p := filepath.Join(t.TempDir(), "harbour.png")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	return p
}

func css(s string) chromedp.CSS { return chromedp.CSS(s) }

// waitJS waits until a JavaScript expression is true, across page loads
// (a poll that a navigation interrupts is started again on the new page).
func waitJS(b *browsertest.Browser, t *testing.T, expr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.Context(), 10*time.Second)
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(10*time.Second)))
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			b.Screenshot("failure")
			t.Fatalf("waiting for %s: %v", expr, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// clickNav clicks something that loads a new page and waits for it.
func clickNav(b *browsertest.Browser, t *testing.T, sel string) {
	t.Helper()
	browsertest.Run(b, chromedp.Evaluate[bool](`window.__old = true`))
	b.Do(chromedp.Click(css(sel)))
	waitJS(b, t, `!window.__old && document.readyState === "complete"`)
}

// TestBrowserComposeSendAndWatch is the newsroom's evening in a real
// browser: sign in, compose an edition with every section kind, look at
// the three previews, send it to a list through an SMTP server, watch the
// progress reach 100% and read the statistics and their chart.
func TestBrowserComposeSendAndWatch(t *testing.T) {
	e, sink := sendingEnv(t, 40)
	b := browsertest.New(t)
	u := e.srv.URL

	// Sign in.
	b.Do(chromedp.Navigate(u+"/admin/"), chromedp.WaitVisible(css("#email")))
	b.Screenshot("login")
	b.Do(chromedp.SendKeys(css("#email"), "editor@example.com"), chromedp.SendKeys(css("#password"), password))
	clickNav(b, t, ".login-card button")
	b.Do(chromedp.WaitVisible(css(".chart")))
	b.Screenshot("dashboard")

	// Compose: a new draft starts with the publication's sections (lead,
	// cards, briefs, picks); a text section is added.
	b.Do(chromedp.Navigate(u+"/admin/editions"), chromedp.WaitVisible(css("h1")))
	clickNav(b, t, ".page-head button")
	b.Do(chromedp.WaitVisible(css("#composer[data-ready]")))
	set := func(sel, v string) chromedp.Action[chromedp.Void] { return chromedp.SetValue(css(sel), v) }
	b.Do(
		set("#subject", "Harbour deal signed; the ferry strike ends"),
		set("#preheader", "Also: the budget vote, and five things worth reading tonight"),
		set("input[name=hero_alt]", "Cranes over Port Alder harbour at dusk"),
		set("input[name=hero_credit]", "Mira Holt / Courier Pictures"),
		set("input[name=s0_headline]", "How the harbour deal came together"),
		set("textarea[name=s0_body]", "After nine days, the **ferry strike is over**. The council and the union agreed terms at 6pm, "+
			"and the first sailing leaves at dawn.\n\n> We got what we came for.\n\nThe full agreement is [on our site](https://northgate-courier.example/harbour-deal)."),
		set("input[name=s0_byline_name]", "Ines Carver"),
		set("input[name=s0_byline_role]", "Politics Editor"),
		set("input[name=s1_0_headline]", "The council blinked first"),
		set("input[name=s1_0_author]", "Tom Reyes"),
		set("input[name=s1_0_cta]", "Read the column"),
		set("input[name=s1_0_url]", "https://northgate-courier.example/comment/council-blinked"),
		set("input[name=s2_0_headline]", "Budget vote moved to Thursday"),
		set("textarea[name=s2_0_body]", "The finance committee needs two more days to cost the harbour settlement."),
		set("input[name=s3_0_title]", "The quiet return of the night ferry"),
		set("input[name=s3_0_author]", "Alex Moor"),
		set("input[name=s3_0_publication]", "The Coastline Review"),
		set("input[name=s3_0_url]", "https://coastline-review.example/night-ferry"),
		// Last: choosing a file fires "change", which autosaves the form
		// as it stands; by now it stands complete.
		chromedp.SetUploadFiles(css("input[name=hero_file]"), []string{writePNG(t)}),
	)
	// A second card: the form is saved with everything above, then reloads.
	clickNav(b, t, `button[value="add-item:1"]`)
	b.Do(set("input[name=s1_1_headline]", "What the union really won"),
		set("input[name=s1_1_author]", "Sam Okafor"),
		set("input[name=s1_1_url]", "https://northgate-courier.example/comment/union-won"))
	// Reorder: the second card moves above the first.
	clickNav(b, t, `button[value="up-item:1:1"]`)
	clickNav(b, t, `button[value="add-section:text"]`)
	b.Do(set("input[name=s4_title]", "From the editor"),
		set("textarea[name=s4_body]", "Thank you for reading. Reply to this email to tell us what you think."))
	clickNav(b, t, "#save-button")
	if got := browsertest.Run(b, chromedp.Value(css("input[name=s1_0_headline]"))); got != "What the union really won" {
		t.Errorf("after moving the second card up, the first is %q", got)
	}
	// Autosave: typing saves without a submit.
	b.Do(chromedp.SendKeys(css("input[name=s1_0_cta]"), "Read Sam's column"))
	waitJS(b, t, `document.getElementById("save-state").textContent.startsWith("Saved at")`)
	if p := browsertest.Run(b, chromedp.Text(css("#problems"))); strings.TrimSpace(p) != "" {
		t.Fatalf("the composed edition has problems: %s", p)
	}
	// The three previews, each in its tab.
	for _, tab := range []string{"email", "text", "web"} {
		b.Do(chromedp.Click(css(`label[for="tab-`+tab+`"]`)), chromedp.WaitVisible(css("#preview-"+tab)), chromedp.Sleep(700*time.Millisecond))
		b.Screenshot("composer-preview-" + tab)
	}
	loc := browsertest.Run(b, chromedp.Location())
	edPath := strings.TrimPrefix(strings.SplitN(loc, "#", 2)[0], u)
	for format, want := range map[string]string{"email": "How the harbour deal came together", "text": "Budget vote moved to Thursday", "web": "The council blinked first"} {
		b.Do(chromedp.Navigate(u + edPath + "/preview/" + format))
		body := browsertest.Run(b, chromedp.Evaluate[string](`document.body.innerText`))
		if !strings.Contains(body, want) {
			t.Errorf("%s preview lacks %q", format, want)
		}
		if format == "text" && !strings.Contains(body, "https://northgate-courier.example/harbour-deal") {
			t.Errorf("text preview lacks the lead's link target")
		}
	}
	// The history: the saves of this session, by this editor.
	b.Do(chromedp.Navigate(u+edPath+"/history"), chromedp.WaitVisible(css("main table")))
	if txt := browsertest.Run(b, chromedp.Text(css("main table"))); !strings.Contains(txt, "editor@example.com") || !strings.Contains(strings.ToLower(txt), "current") {
		t.Errorf("the history shows %q", txt)
	}
	b.Screenshot("edition-history")
	eds, err := e.st.ListEditions(context.Background(), store.EditionFilter{Limit: 1})
	if err != nil || len(eds) == 0 || len(eds[0].Sections) != 5 || eds[0].Sections[1].Cards[0].CTA != "Read Sam's column" {
		t.Errorf("the autosaved edition: %+v, %v", eds, err)
	}

	// Publish and send it as a campaign.
	b.Do(chromedp.Navigate(u+edPath), chromedp.WaitVisible(css("#composer")))
	clickNav(b, t, `form[action$="/publish"] button`)
	clickNav(b, t, `a[href^="/admin/campaigns/new"]`)
	b.Do(chromedp.Click(css(`input[name=lists]`)))
	clickNav(b, t, `form[action="/admin/campaigns"] button[type=submit]`)
	b.Do(chromedp.SendKeys(css(`input[name=to]`), "desk@example.com"))
	clickNav(b, t, `form[action$="/test"] button`)
	if msg := browsertest.Run(b, chromedp.Text(css(".flash-ok"))); !strings.Contains(msg, "Test copy sent") {
		t.Fatalf("after the test send: %q", msg)
	}
	b.Screenshot("campaign-draft")
	b.Do(chromedp.Click(css(`#start-form button`)), chromedp.WaitVisible(css(`#start-confirm`)))
	clickNav(b, t, `#start-confirm button[type=submit]`)
	b.Screenshot("campaign-sending")
	waitJS(b, t, `(document.querySelector("[data-field=percent-text]")||{}).textContent === "100%" && document.getElementById("status-badge").textContent === "sent"`)
	b.Screenshot("campaign-sent")
	// The finished page reloads itself to show its statistics: let it,
	// before going elsewhere (a navigation it cuts short fails).
	waitJS(b, t, `document.readyState === "complete" && !document.querySelector("#progress[data-events]")`)
	if n := sink.Count(); n != 42 {
		t.Errorf("the SMTP server received %d messages, want 41 readers and the test copy", n)
	}

	// Readers open, click and one unsubscribes; the stats page charts it.
	camps, _ := e.st.Campaigns(context.Background(), 1)
	c := camps[0]
	var evs []model.Event
	base := c.StartedAt
	for i := range 30 {
		evs = append(evs, model.Event{Kind: model.EventOpen, CampaignID: c.ID, SubscriberID: int64(i%25 + 2), At: base.Add(time.Duration(i*9) * time.Minute)})
		if i%3 == 0 {
			evs = append(evs, model.Event{Kind: model.EventClick, CampaignID: c.ID, SubscriberID: int64(i + 2), URL: "https://northgate-courier.example/harbour-deal", At: base.Add(time.Duration(i*10) * time.Minute)})
		}
	}
	evs = append(evs, model.Event{Kind: model.EventUnsubscribe, CampaignID: c.ID, SubscriberID: 3, At: base.Add(2 * time.Hour)},
		model.Event{Kind: model.EventClick, CampaignID: c.ID, SubscriberID: 4, URL: "https://coastline-review.example/night-ferry", At: base.Add(3 * time.Hour)},
		// A gateway's clicks count for no reader in the click map.
		model.Event{Kind: model.EventClick, CampaignID: c.ID, SubscriberID: 40, URL: "https://coastline-review.example/night-ferry", At: base, Class: model.ClassMachine, Reason: "burst"},
		model.Event{Kind: model.EventClick, CampaignID: c.ID, SubscriberID: 40, URL: "https://northgate-courier.example/harbour-deal", At: base, Class: model.ClassMachine, Reason: "burst"})
	if err := e.st.RecordEvents(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	b.Do(chromedp.Navigate(fmt.Sprintf("%s/admin/campaigns/%d", u, c.ID)), chromedp.WaitVisible(css("#engagement svg.chart polyline")))
	page := browsertest.Run(b, chromedp.Text(css("main")))
	for _, want := range []string{"Readers who opened", "privacy-protected", "Readers who clicked", "https://northgate-courier.example/harbour-deal", "Unsubscribes"} {
		if !strings.Contains(strings.ToLower(page), strings.ToLower(want)) { // labels are drawn in capitals
			t.Errorf("stats page lacks %q", want)
		}
	}
	b.Screenshot("campaign-stats")

	// The click map: 10 of the 11 readers who clicked took the lead's
	// link, 1 a pick; the sections' table says the same.
	b.Do(chromedp.ScrollIntoView(css("#clickmap")))
	sections := browsertest.Run(b, chromedp.Text(css("#clickmap table")))
	if !strings.Contains(sections, "Lead\t1\t10\t90.9%") || !strings.Contains(sections, "9.1%") {
		t.Errorf("click map sections:\n%s", sections)
	}
	b.Screenshot("campaign-clickmap")
	b.Do(chromedp.Navigate(fmt.Sprintf("%s/admin/campaigns/%d/clickmap", u, c.ID)), chromedp.WaitVisible(css(".hm-badge")))
	lead := browsertest.Run(b, chromedp.Text(css(`a.hm-link[href="https://northgate-courier.example/harbour-deal"] + .hm-badge`)))
	pick := browsertest.Run(b, chromedp.Text(css(`a.hm-link[href="https://coastline-review.example/night-ferry"] + .hm-badge`)))
	if lead != "91%" || pick != "9%" {
		t.Errorf("click map badges: lead %q, pick %q; want 91%% and 9%%", lead, pick)
	}
	b.Screenshot("clickmap-email")

	// Readers' feedback on the campaign page and, over time, the dashboard.
	for i, f := range []model.Feedback{
		{Kind: model.FeedbackBriefing, Rating: 3, Comment: "The harbour piece was just what I needed."},
		{Kind: model.FeedbackBriefing, Rating: 2},
		{Kind: model.FeedbackSection, Section: "picks", Rating: 3},
	} {
		f.CampaignID, f.SubscriberID = c.ID, int64(i%2+2)
		if err := e.st.SaveFeedback(context.Background(), f); err != nil {
			t.Fatal(err)
		}
	}
	b.Do(chromedp.Navigate(fmt.Sprintf("%s/admin/campaigns/%d", u, c.ID)), chromedp.WaitVisible(css("#feedback")))
	said := browsertest.Run(b, chromedp.Text(css("#feedback")))
	for _, want := range []string{"2 readers rated this edition", "average 2.5 of 3", "The harbour piece was just what I needed.", "picks"} {
		if !strings.Contains(said, want) {
			t.Errorf("feedback card lacks %q:\n%s", want, said)
		}
	}
	b.Do(chromedp.ScrollIntoView(css("#feedback")))
	b.Screenshot("campaign-feedback")
	b.Do(chromedp.Navigate(u+"/admin/"), chromedp.WaitVisible(css("#ratings")))
	if got := browsertest.Run(b, chromedp.Text(css("#ratings .card-body > table"))); !strings.Contains(got, "2.5") {
		t.Errorf("dashboard ratings:\n%s", got)
	}
	b.Do(chromedp.ScrollIntoView(css("#ratings")))
	b.Screenshot("dashboard-ratings")

	// The rest of the product, for the record.
	for _, p := range []string{"/admin/", "/admin/campaigns", "/admin/subscribers", "/admin/lists", "/admin/outbox", "/admin/editions"} {
		b.Do(chromedp.Navigate(u+p), chromedp.WaitVisible(css("h1")))
		b.Screenshot(strings.Trim(strings.ReplaceAll(p, "/", "-"), "-"))
	}
	b.AssertNoProblems()
}

// TestBrowserImportAndSettings uploads a CSV with a bad row, watches the
// import finish, and looks at the owner's settings pages.
func TestBrowserImportAndSettings(t *testing.T) {
	e, _ := sendingEnv(t, 0)
	b := browsertest.New(t)
	u := e.srv.URL
	csv := filepath.Join(t.TempDir(), "readers.csv")
	os.WriteFile(csv, []byte("email,name,city\nann@example.com,Ann,Leeds\nnot-an-address,Bob,York\ncat@example.com,Cat,Hull\n"), 0o644)
	b.Do(chromedp.Navigate(u+"/admin/login"), chromedp.WaitVisible(css("#email")),
		chromedp.SendKeys(css("#email"), "owner@example.com"), chromedp.SendKeys(css("#password"), password))
	clickNav(b, t, ".login-card button")
	b.Do(chromedp.Navigate(u+"/admin/imports"), chromedp.WaitVisible(css("h1")), chromedp.SetUploadFiles(css("#file"), []string{csv}))
	clickNav(b, t, `form[action="/admin/imports"] button`)
	waitJS(b, t, `(document.querySelector("[data-field=rejected]")||{}).textContent === "1" && document.querySelector("[data-field=percent-text]").textContent === "100%"`)
	b.Screenshot("import-done")
	if n, _ := e.st.CountSubscribers(context.Background(), store.SubscriberFilter{ListID: e.list.ID}); n != 3 {
		t.Errorf("list has %d subscribers after the import, want 3 (1 before, 2 imported)", n)
	}
	b.Do(chromedp.Navigate(u+"/admin/subscribers?attr=city%3DLeeds"), chromedp.WaitVisible(css("h1")))
	if txt := browsertest.Run(b, chromedp.Text(css("main table"))); !strings.Contains(txt, "ann@example.com") || strings.Contains(txt, "cat@example.com") {
		t.Errorf("attribute filter shows %q", txt)
	}
	b.Screenshot("subscribers-filtered")
	b.Do(chromedp.Navigate(u+"/admin/settings"), chromedp.WaitVisible(css("#dkim")),
		chromedp.SetValue(css("#domain"), "news.example.com"))
	clickNav(b, t, `form[action="/admin/settings/dkim"] button`)
	b.Do(chromedp.WaitVisible(css("#dkim .secret")))
	clickNav(b, t, `#relays form.inline button`)
	if msg := browsertest.Run(b, chromedp.Text(css(".flash"))); !strings.Contains(msg, "Ready to send") {
		t.Errorf("relay test: %q", msg)
	}
	b.Screenshot("settings")
	for _, p := range []string{"/admin/users", "/admin/tokens", "/admin/suppressions"} {
		b.Do(chromedp.Navigate(u+p), chromedp.WaitVisible(css("h1")))
		b.Screenshot(strings.Trim(strings.ReplaceAll(p, "/", "-"), "-"))
	}
	b.AssertNoProblems()
}
