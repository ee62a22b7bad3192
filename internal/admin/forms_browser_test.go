package admin_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/herald-news/herald/internal/admin"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/browsertest"
	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/delivery/deliverytest"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/smtpsink"
)

// formState is what a form that came back shows: the summary above it
// (focused, one link per problem) and each field's value, state and
// message.
type formState struct {
	Focused string   // the id of the focused element
	Title   string   // the summary's heading
	Links   []string // the summary's links, href
	Role    string   // the summary's role
	Fields  map[string]fieldState
}

type fieldState struct {
	Value, Message    string
	Invalid, Selected bool
}

// readForm reads the summary and the fields with the given ids.
func readForm(b *browsertest.Browser, ids ...string) formState {
	js := `((ids) => {
		const s = document.getElementById("error-summary");
		const out = {Focused: document.activeElement ? document.activeElement.id : "", Title: "", Links: [], Role: "", Fields: {}};
		if (s) {
			out.Title = s.querySelector("h2").textContent;
			out.Links = [...s.querySelectorAll("a")].map(a => a.getAttribute("href"));
			out.Role = s.getAttribute("role");
		}
		for (const id of ids) {
			const f = document.getElementById(id);
			if (!f) continue;
			const d = f.getAttribute("aria-describedby");
			const m = d ? document.getElementById(d) : null;
			out.Fields[id] = {Value: f.value === undefined ? "" : f.value, Message: m ? m.textContent : "",
				Invalid: f.getAttribute("aria-invalid") === "true", Selected: false};
		}
		return out;
	})(` + jsList(ids) + `)`
	return browsertest.Run(b, chromedp.Evaluate[formState](js))
}

func jsList(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = `"` + id + `"`
	}
	return "[" + strings.Join(q, ",") + "]"
}

// submitUnchecked submits a form as typed, past the browser's own checks
// (required, pattern, type=email), so the server's rules are what answer.
func submitUnchecked(b *browsertest.Browser, t *testing.T, form string) {
	t.Helper()
	browsertest.Run(b, chromedp.Evaluate[bool](`document.querySelector('`+form+`').noValidate = true, true`))
	clickNav(b, t, form+` button[type=submit]`)
}

// TestBrowserFormsKeepWhatWasTyped (issue 23, item 1): a refused form on
// Lists, Settings and New campaign comes back with every value as typed,
// each problem beside its field (aria-invalid, aria-describedby) and all
// of them in a summary at the top, announced (role alert) and focused,
// each a link to its field.
func TestBrowserFormsKeepWhatWasTyped(t *testing.T) {
	e := newEnv(t, nil)
	b := browsertest.New(t)
	u := e.srv.URL
	signInBrowser(b, t, u, "owner@example.com")

	// Lists: a slug the rule refuses and an opt-in chosen.
	b.Do(chromedp.Navigate(u+"/admin/lists"), chromedp.WaitVisible(css("#new-list")),
		chromedp.SendKeys(css("#name"), "Morning Notes"), chromedp.SendKeys(css("#slug"), "Morning Notes"),
		chromedp.SendKeys(css("#description"), "Seven o'clock, before the school run"), chromedp.SetValue(css("#opt_in"), "double"))
	submitUnchecked(b, t, "#new-list")
	b.Screenshot("forms-list-refused")
	got := readForm(b, "name", "slug", "description", "opt_in")
	if got.Focused != "error-summary" || got.Role != "alert" || len(got.Links) != 1 || got.Links[0] != "#slug" {
		t.Errorf("lists: the summary is not focused, announced and linked to the slug: %+v", got)
	}
	// The slug comes back as it was checked: lower-cased, the space kept.
	if s := got.Fields["slug"]; !s.Invalid || !strings.HasPrefix(s.Message, "A list's slug is lower-case letters") || s.Value != "morning notes" {
		t.Errorf("lists: the slug field = %+v", s)
	}
	if got.Fields["name"].Value != "Morning Notes" || got.Fields["description"].Value != "Seven o'clock, before the school run" ||
		got.Fields["opt_in"].Value != "double" || got.Fields["name"].Invalid {
		t.Errorf("lists: what was typed is lost: %+v", got.Fields)
	}

	// Settings: three problems at once, the other fields kept.
	b.Do(chromedp.Navigate(u+"/admin/settings"), chromedp.WaitVisible(css("#publication")))
	b.Do(chromedp.SetValue(css("#from"), "The Courier"), chromedp.SetValue(css("#reply_to"), "letters at courier"),
		chromedp.SetValue(css("#accent"), "#f5c518"), chromedp.SetValue(css("#postal_address"), "1 Quay Street, Northgate"))
	submitUnchecked(b, t, "#publication")
	b.Screenshot("forms-settings-refused")
	got = readForm(b, "from", "reply_to", "accent", "postal_address")
	if got.Focused != "error-summary" || got.Title != "This form has 3 problems:" || strings.Join(got.Links, " ") != "#from #reply_to #accent" {
		t.Errorf("settings: summary %+v", got)
	}
	for id, want := range map[string]string{"from": "The From address should look like", "reply_to": "The reply-to address is not an email address",
		"accent": "The accent colour #f5c518 has a contrast of only 1.63:1"} {
		if f := got.Fields[id]; !f.Invalid || !strings.HasPrefix(f.Message, want) {
			t.Errorf("settings: %s = %+v, want %q beside it", id, f, want)
		}
	}
	if got.Fields["from"].Value != "The Courier" || got.Fields["reply_to"].Value != "letters at courier" || got.Fields["postal_address"].Value != "1 Quay Street, Northgate" {
		t.Errorf("settings: what was typed is lost: %+v", got.Fields)
	}
	if p, err := e.st.GetPublication(context.Background()); err != nil || p.From != "" || p.PostalAddress == "1 Quay Street, Northgate" {
		t.Errorf("a refused form saved the publication: %+v, %v", p, err)
	}
	// A summary link takes the editor to its field.
	b.Do(chromedp.Click(css(`#error-summary a[href="#reply_to"]`)))
	waitJS(b, t, `location.hash === "#reply_to"`)

	// New campaign: no name and no list, the From typed kept.
	b.Do(chromedp.Navigate(u+"/admin/campaigns/new"), chromedp.WaitVisible(css("#new-campaign")))
	browsertest.Run(b, chromedp.Evaluate[bool](`document.getElementById("name").value = "";
		document.getElementById("from").value = "Night Desk <night@courier.example>";
		document.getElementById("local_time").value = "7am"; true`))
	submitUnchecked(b, t, "#new-campaign")
	b.Screenshot("forms-campaign-refused")
	got = readForm(b, "name", "list_ids", "from", "local_time")
	if got.Focused != "error-summary" || strings.Join(got.Links, " ") != "#name #list_ids #local_time" {
		t.Errorf("new campaign: summary %+v", got)
	}
	if !got.Fields["name"].Invalid || !got.Fields["list_ids"].Invalid || got.Fields["from"].Value != "Night Desk <night@courier.example>" ||
		got.Fields["local_time"].Value != "7am" || got.Fields["from"].Invalid {
		t.Errorf("new campaign: fields %+v", got.Fields)
	}
	// The refused forms answer 422, which the console reports; nothing else.
	for _, p := range b.Problems() {
		if !strings.Contains(p, "status of 422") {
			t.Errorf("browser problem: %s", p)
		}
	}
}

// TestBrowserValidatorSpeaksFrench (issue 19, item 5): a French editor
// sees the domain's check in French beside its field, and the summary in
// French; the API and the CLI keep the English sentence.
func TestBrowserValidatorSpeaksFrench(t *testing.T) {
	e := newEnv(t, nil)
	if err := e.st.SetUserLanguage(context.Background(), e.users[auth.Owner].ID, "fr"); err != nil {
		t.Fatal(err)
	}
	b := browsertest.New(t)
	u := e.srv.URL
	signInBrowser(b, t, u, "owner@example.com")
	b.Do(chromedp.Navigate(u+"/admin/lists"), chromedp.WaitVisible(css("#new-list")),
		chromedp.SendKeys(css("#name"), "Le Matin"), chromedp.SendKeys(css("#slug"), "Le Matin"))
	submitUnchecked(b, t, "#new-list")
	b.Screenshot("forms-french-validator")
	got := readForm(b, "slug")
	want := "L’identifiant d’une liste se compose de minuscules, de chiffres et de tirets (63 au plus) et commence par une lettre ou un chiffre ; \"le matin\" ne convient pas."
	if f := got.Fields["slug"]; f.Message != want || f.Value != "le matin" {
		t.Errorf("the slug's problem in French = %+v, want %q", f, want)
	}
	if got.Title != "Ce formulaire contient une erreur :" {
		t.Errorf("summary title = %q", got.Title)
	}
	if lang := browsertest.Run(b, chromedp.Evaluate[string](`document.documentElement.lang`)); lang != "fr" {
		t.Errorf("page language = %q", lang)
	}
}

// TestBrowserSenderIdentity (issue 23, item 4): the dashboard's checklist
// asks for the publication's From and a test copy; Settings takes the From
// and Reply-To, refuses them when they are not addresses, and sends a test
// copy from them through the transport; the checklist then counts them
// done, and a campaign left without a From takes the publication's.
func TestBrowserSenderIdentity(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	b := browsertest.New(t)
	u := e.srv.URL
	signInBrowser(b, t, u, "owner@example.com")
	b.Do(chromedp.Navigate(u+"/admin/"), chromedp.WaitVisible(css("#checklist")))
	b.Screenshot("sender-checklist-before")
	done := func() map[string]bool {
		return browsertest.Run(b, chromedp.Evaluate[map[string]bool](`Object.fromEntries([...document.querySelectorAll("#checklist li")].map(li => [li.id, li.dataset.done === "true"]))`))
	}
	if got := done(); got["check-from"] || got["check-test"] || got["check-relay"] || !got["check-list"] || !got["check-base_url"] {
		t.Fatalf("checklist before = %v", got)
	}
	clickNav(b, t, `#check-from a`)
	b.Do(chromedp.WaitVisible(css("#from")))
	b.Do(chromedp.SetValue(css("#from"), "The Northgate Courier <news@courier.example>"), chromedp.SetValue(css("#reply_to"), "letters@courier.example"))
	clickNav(b, t, `#publication button[type=submit]`)
	if p, err := e.st.GetPublication(ctx); err != nil || p.From != "The Northgate Courier <news@courier.example>" || p.ReplyTo != "letters@courier.example" {
		t.Fatalf("publication sender = %q, %q, %v", p.From, p.ReplyTo, err)
	}
	b.Do(chromedp.WaitVisible(css("#test_to")), chromedp.SetValue(css("#test_to"), "desk@courier.example"))
	clickNav(b, t, `#sender-test button[type=submit]`)
	b.Screenshot("sender-test-sent")
	items, err := e.outbox.List(0, 10)
	if err != nil || len(items) == 0 {
		t.Fatalf("outbox = %+v, %v", items, err)
	}
	_, raw, err := e.outbox.Get(items[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	msg := string(raw)
	for _, want := range []string{"From: \"The Northgate Courier\" <news@courier.example>", "Reply-To: <letters@courier.example>", "To: <desk@courier.example>"} {
		if !strings.Contains(msg, want) && !strings.Contains(msg, strings.ReplaceAll(want, `"`, "")) {
			t.Errorf("the test copy lacks %q:\n%s", want, msg[:min(len(msg), 800)])
		}
	}
	b.Do(chromedp.Navigate(u+"/admin/"), chromedp.WaitVisible(css("#checklist")))
	b.Screenshot("sender-checklist-after")
	if got := done(); !got["check-from"] || !got["check-test"] || got["check-relay"] {
		t.Errorf("checklist after = %v", got)
	}

	// A campaign with no From of its own goes out from the publication's.
	b.Do(chromedp.Navigate(u+"/admin/campaigns/new"), chromedp.WaitVisible(css("#new-campaign")))
	if ph := browsertest.Run(b, chromedp.Evaluate[string](`document.getElementById("from").placeholder`)); ph != "The Northgate Courier <news@courier.example>" {
		t.Errorf("the From placeholder = %q", ph)
	}
	b.Do(chromedp.SetValue(css("#name"), "Sender check"), chromedp.Click(css(`input[name=lists]`)))
	clickNav(b, t, `#new-campaign button[type=submit]`)
	cs, err := e.st.CampaignSummaries(ctx, 1, 0)
	if err != nil || len(cs) == 0 {
		t.Fatal(err)
	}
	c, err := e.st.Campaign(ctx, cs[0].ID)
	if err != nil || c.Name != "Sender check" || c.From != "The Northgate Courier <news@courier.example>" || c.ReplyTo != "letters@courier.example" {
		t.Errorf("the new campaign = %q from %q reply %q, %v", c.Name, c.From, c.ReplyTo, err)
	}
	b.AssertNoProblems()
}

// TestBrowserNoBaseURLNoRelaySend (issue 23, item 12): with no base_url in
// the configuration and a relay to send through, the checklist asks for
// base_url, Settings says why, and starting a campaign is refused with a
// message naming the setting: no reader gets a dead link.
func TestBrowserNoBaseURLNoRelaySend(t *testing.T) {
	sink, m, rc := deliverytest.Relay(t, smtpsink.Options{})
	e := newEnv(t, func(d *admin.Deps) {
		eng, err := delivery.New(d.Store, delivery.Config{
			Sender: m, Signer: deliverytest.Signer(t), BaseURL: "http://127.0.0.1:8080", BaseURLGuessed: true,
			FlushAfter: 20 * time.Millisecond, Poll: 50 * time.Millisecond,
			Freeze: delivery.EditionFreezer(d.Store, model.Publication{}, render.Options{}),
		})
		if err != nil {
			t.Fatal(err)
		}
		deliverytest.Run(t, eng)
		d.Engine, d.Sender, d.Relays, d.Outbox, d.BaseURLGuessed = eng, m, []mailer.RelayConfig{rc}, nil, true
	})
	b := browsertest.New(t)
	u := e.srv.URL
	signInBrowser(b, t, u, "owner@example.com")
	b.Do(chromedp.Navigate(u+"/admin/"), chromedp.WaitVisible(css("#check-base_url")))
	if d := browsertest.Run(b, chromedp.Evaluate[string](`document.getElementById("check-base_url").dataset.done`)); d != "false" {
		t.Errorf("the checklist counts base_url done")
	}
	b.Screenshot("base-url-checklist")
	b.Do(chromedp.Navigate(u+"/admin/settings"), chromedp.WaitVisible(css("#base-url-warning")))

	id := e.ids["campaign"]
	b.Do(chromedp.Navigate(u+"/admin/campaigns/"+id), chromedp.WaitVisible(css(`form[action$="/start"]`)))
	browsertest.Run(b, chromedp.Evaluate[bool](`window.__old = true`))
	browsertest.Run(b, chromedp.Evaluate[bool](`(() => { const f = document.querySelector('form[action$="/start"]');
		const c = document.createElement("input"); c.type = "hidden"; c.name = "confirmed"; c.value = "1"; f.appendChild(c); f.submit(); return true; })()`))
	waitJS(b, t, `!window.__old && document.readyState === "complete"`)
	b.Screenshot("base-url-refused")
	text := browsertest.Run(b, chromedp.Evaluate[string](`document.querySelector(".flash-err, .flash-error") ? document.querySelector(".flash-err, .flash-error").textContent : document.body.innerText`))
	if !strings.Contains(text, "needs base_url") || !strings.Contains(text, "http://127.0.0.1:8080") {
		t.Errorf("the refusal does not name base_url: %q", text)
	}
	c, err := e.st.Campaign(context.Background(), atoi(t, id))
	if err != nil || c.Status != model.CampaignDraft {
		t.Errorf("the campaign is %q (%v), want still a draft", c.Status, err)
	}
	time.Sleep(200 * time.Millisecond)
	if n := sink.Count(); n != 0 {
		t.Errorf("%d messages reached the relay", n)
	}
}

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
