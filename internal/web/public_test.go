package web_test

import (
	"bytes"
	"context"
	"errors"
	"image/gif"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/settings"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/token"
	"github.com/herald-news/herald/internal/web"
)

func TestOneClickUnsubscribe(t *testing.T) {
	t.Parallel()
	st := newSite(t, sqlite(t), nil)
	id := st.subscriber("ada@example.com", st.daily, st.weekly)
	c := st.campaign(true, nil, st.daily)
	tok := st.signer.Sign(token.Claims{Purpose: token.Unsubscribe, SubscriberID: id, CampaignID: c.ID})

	// A GET (what link scanners do) shows the page and changes nothing.
	for range 3 {
		resp, body := st.get(http.DefaultClient, "/unsubscribe/"+tok)
		if resp.StatusCode != 200 || !strings.Contains(body, "The Daily Briefing") {
			t.Fatalf("GET unsubscribe = %d\n%s", resp.StatusCode, body)
		}
	}
	if st.status(id, st.daily.ID) != model.SubConfirmed {
		t.Fatal("a GET unsubscribed")
	}
	// RFC 8058: a POST with List-Unsubscribe=One-Click, no cookie, no form token.
	resp, err := http.Post(st.ts.URL+"/unsubscribe/"+tok, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("one-click POST = %d", resp.StatusCode)
	}
	if st.status(id, st.daily.ID) != model.SubUnsubscribed || st.status(id, st.weekly.ID) != model.SubConfirmed {
		t.Fatalf("after one-click: daily %s, weekly %s (want only the campaign's list left)", st.status(id, st.daily.ID), st.status(id, st.weekly.ID))
	}
	// The same from multipart/form-data, which RFC 8058 also allows, on the other list.
	tok2 := st.signer.Sign(token.Claims{Purpose: token.Unsubscribe, SubscriberID: id, ListID: st.weekly.ID})
	var buf bytes.Buffer
	buf.WriteString("--b\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--b--\r\n")
	resp, err = http.Post(st.ts.URL+"/unsubscribe/"+tok2, "multipart/form-data; boundary=b", &buf)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || st.status(id, st.weekly.ID) != model.SubUnsubscribed {
		t.Fatalf("multipart one-click = %d, weekly %s", resp.StatusCode, st.status(id, st.weekly.ID))
	}
	// A POST without one-click body needs the page's form token.
	id2 := st.subscriber("bob@example.com", st.daily)
	tok3 := st.signer.Sign(token.Claims{Purpose: token.Unsubscribe, SubscriberID: id2, CampaignID: c.ID})
	resp, _ = st.post(http.DefaultClient, "/unsubscribe/"+tok3, url.Values{"scope": {"all"}})
	if resp.StatusCode != http.StatusForbidden || st.status(id2, st.daily.ID) != model.SubConfirmed {
		t.Fatalf("forged form POST = %d, status %s", resp.StatusCode, st.status(id2, st.daily.ID))
	}
	st.flush()
	if n := storedEvents(t, st.store, c.ID).Total[model.EventUnsubscribe]; n != 1 {
		t.Fatalf("unsubscribe events for the campaign = %d, want 1", n)
	}
}

func TestForgedTokensRefused(t *testing.T) {
	t.Parallel()
	st := newSite(t, sqlite(t), nil)
	id := st.subscriber("ada@example.com", st.daily)
	good := st.signer.Sign(token.Claims{Purpose: token.Unsubscribe, SubscriberID: id})
	other, _ := token.NewSigner([]byte(strings.Repeat("x", 32)))
	altered := []byte(good)
	altered[5] ^= 1
	expired := st.signer.Sign(token.Claims{Purpose: token.Confirm, SubscriberID: id, ListID: st.daily.ID, Expires: time.Now().Add(-time.Minute)})
	cases := map[string]string{
		"altered unsubscribe":        "/unsubscribe/" + string(altered),
		"foreign key":                "/unsubscribe/" + other.Sign(token.Claims{Purpose: token.Unsubscribe, SubscriberID: id}),
		"preferences token as unsub": "/unsubscribe/" + st.signer.Sign(token.Claims{Purpose: token.Preferences, SubscriberID: id}),
		"unsubscribe token as prefs": "/preferences/" + good,
		"expired confirm":            "/confirm/" + expired,
		"garbage":                    "/preferences/%3Cscript%3E",
		"click with unsubscribe tok": "/c/" + good + "?u=https://example.org/",
		"data export with wrong tok": "/preferences/" + good + "/data.json",
	}
	for name, path := range cases {
		resp, body := st.get(http.DefaultClient, path)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "This link does not work") {
			t.Errorf("%s: %d\n%s", name, resp.StatusCode, body)
		}
		if strings.Contains(body, "ada@example.com") || strings.Contains(strings.ToLower(body), "hmac") {
			t.Errorf("%s: the error page reveals something", name)
		}
	}
	// One-click with a forged token changes nothing.
	resp, _ := http.Post(st.ts.URL+"/unsubscribe/"+string(altered), "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || st.status(id, st.daily.ID) != model.SubConfirmed {
		t.Fatalf("forged one-click = %d, status %s", resp.StatusCode, st.status(id, st.daily.ID))
	}
	// Rotation: a token signed by a retired key still works while listed.
	rotated, _ := token.NewSigner([]byte(strings.Repeat("n", 32)), []byte(strings.Repeat("k", 32)))
	if _, err := rotated.Verify(good, token.Unsubscribe, time.Now()); err != nil {
		t.Fatalf("old key no longer verifies: %v", err)
	}
}

func TestClickRedirectAndOpen(t *testing.T) {
	t.Parallel()
	st := newSite(t, sqlite(t), nil)
	id := st.subscriber("ada@example.com", st.daily)
	links := []string{"https://example.org/story?a=1&b=2", "https://news.example.com/gerald"}
	c := st.campaign(true, links, st.daily)
	off := st.campaign(false, links, st.daily)
	click := func(campaignID int64, target string) *http.Response {
		tok := st.signer.Sign(token.Claims{Purpose: token.Click, SubscriberID: id, CampaignID: campaignID})
		resp, _ := st.get(st.client(), "/c/"+tok+"?u="+url.QueryEscape(target))
		return resp
	}
	for _, l := range links {
		if resp := click(c.ID, l); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != l {
			t.Fatalf("click %s = %d to %q", l, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	for _, evil := range []string{"https://evil.example/", "https://example.org/story", "javascript:alert(1)", "//evil.example", ""} {
		if resp := click(c.ID, evil); resp.StatusCode != http.StatusNotFound || resp.Header.Get("Location") != "" {
			t.Fatalf("click to %q not in the campaign = %d, Location %q", evil, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if resp := click(off.ID, links[0]); resp.StatusCode != http.StatusFound {
		t.Fatalf("click with tracking off = %d", resp.StatusCode)
	}
	openTok := st.signer.Sign(token.Claims{Purpose: token.Open, SubscriberID: id, CampaignID: c.ID})
	resp, body := st.get(http.DefaultClient, "/o/"+openTok+".gif")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/gif" {
		t.Fatalf("pixel = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if _, err := gif.Decode(strings.NewReader(body)); err != nil {
		t.Fatalf("pixel is not a GIF: %v", err)
	}
	st.get(http.DefaultClient, "/o/forged.gif") // still an image, records nothing
	st.flush()
	got := storedEvents(t, st.store, c.ID)
	if got.Total[model.EventClick] != 2 || got.Unique[model.EventClick] != 1 || got.Total[model.EventOpen] != 1 {
		t.Fatalf("events = %+v", got)
	}
	if n := storedEvents(t, st.store, off.ID).Total[model.EventClick]; n != 0 {
		t.Fatalf("tracking-off campaign recorded %d clicks", n)
	}
}

func TestAnonymousTracking(t *testing.T) {
	t.Parallel()
	st := newSite(t, sqlite(t), func(o *web.Options) { o.Tracking = web.TrackAnonymous })
	id := st.subscriber("ada@example.com", st.daily)
	c := st.campaign(true, []string{"https://example.org/"}, st.daily)
	tok := st.signer.Sign(token.Claims{Purpose: token.Click, SubscriberID: id, CampaignID: c.ID})
	st.get(st.client(), "/c/"+tok+"?u="+url.QueryEscape("https://example.org/"))
	st.flush()
	evs, _ := st.store.SubscriberEvents(context.Background(), id, 10)
	if got := storedEvents(t, st.store, c.ID).Total[model.EventClick]; got != 1 || len(evs) != 0 {
		t.Fatalf("anonymous: %d clicks, %d linked to the subscriber", got, len(evs))
	}
}

// TestPrivacySettingAppliesWithoutRestart: turning on anonymous events in
// the admin applies to the next tracking hit once the short cache passes,
// and turning it off again links events to readers again.
func TestPrivacySettingAppliesWithoutRestart(t *testing.T) {
	t.Parallel()
	st := newSite(t, sqlite(t), nil)
	id := st.subscriber("ada@example.com", st.daily)
	c := st.campaign(true, []string{"https://example.org/"}, st.daily)
	ctx := context.Background()
	anonymous := func(on bool) {
		t.Helper()
		if err := settings.SaveTracking(ctx, st.store, settings.Tracking{Opens: true, Clicks: true, Anonymous: on}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	opts := web.DefaultOptions()
	opts.PrivacyCache = time.Nanosecond
	opts.EventFlush = time.Millisecond
	srv, err := web.NewServer(web.Deps{Store: st.store, Signer: st.signer, BaseURL: st.ts.URL, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	click := func() {
		t.Helper()
		tok := st.signer.Sign(token.Claims{Purpose: token.Click, SubscriberID: id, CampaignID: c.ID})
		resp, err := st.client().Get(ts.URL + "/c/" + tok + "?u=" + url.QueryEscape("https://example.org/"))
		if err != nil || resp.StatusCode != http.StatusFound {
			t.Fatalf("click: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	click()
	anonymous(true)
	click()
	click()
	anonymous(false)
	click()
	if err := srv.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	evs, _ := st.store.SubscriberEvents(context.Background(), id, 10)
	if got := storedEvents(t, st.store, c.ID).Total[model.EventClick]; got != 4 || len(evs) != 2 {
		t.Fatalf("%d clicks stored, %d linked to the reader; want 4 and 2", got, len(evs))
	}
}

func TestSubscribeNeverTells(t *testing.T) {
	t.Parallel()
	st := newSite(t, sqlite(t), nil)
	ctx := context.Background()
	st.subscriber("known@example.com", st.daily)
	if err := st.store.Suppress(ctx, "blocked@example.com", model.SuppressComplaint, ""); err != nil {
		t.Fatal(err)
	}
	c := st.client()
	tok := st.csrf(c, "/subscribe/daily")
	if resp, _ := st.post(c, "/subscribe/daily", url.Values{"email": {"x@example.com"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("POST without CSRF token = %d", resp.StatusCode)
	}
	if resp, _ := st.post(st.client(), "/subscribe/daily", url.Values{"email": {"x@example.com"}, "csrf": {tok}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("POST with another browser's token = %d", resp.StatusCode)
	}
	var bodies []string
	for _, email := range []string{"new@example.com", "known@example.com", "blocked@example.com", "new@example.com"} {
		resp, body := st.post(c, "/subscribe/daily", url.Values{"email": {email}, "csrf": {tok}})
		if resp.StatusCode != 200 {
			t.Fatalf("subscribe %s = %d", email, resp.StatusCode)
		}
		bodies = append(bodies, body)
	}
	// Honeypot: a bot fills the hidden field; same answer, nothing stored.
	_, botBody := st.post(c, "/subscribe/daily", url.Values{"email": {"bot@example.com"}, "website": {"http://spam"}, "csrf": {tok}})
	bodies = append(bodies, botBody)
	for i, b := range bodies[1:] {
		if b != bodies[0] {
			t.Fatalf("answer %d differs from the first:\n%s\n----\n%s", i+1, bodies[0], b)
		}
	}
	if !strings.Contains(bodies[0], "Check your inbox") {
		t.Fatalf("answer: %s", bodies[0])
	}
	if _, err := st.store.SubscriberByEmail(ctx, "bot@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("the honeypot let a bot subscribe")
	}
	// A confirmation went to the new address only, once: asking again at
	// once sends no second one (no inbox flooding through the form).
	st.waitMail(1)
	st.flush() // sends whatever is queued
	msgs := st.sink.Messages()
	for _, m := range msgs {
		if m.To[0] != "new@example.com" {
			t.Fatalf("a confirmation went to %s", m.To[0])
		}
	}
	if len(msgs) != 1 {
		t.Fatalf("%d confirmation messages, want 1", len(msgs))
	}
	raw := string(msgs[0].Raw)
	for _, h := range []string{"List-Unsubscribe: <", "List-Unsubscribe-Post: List-Unsubscribe=One-Click", "Subject: Confirm your subscription"} {
		if !strings.Contains(raw, h) {
			t.Fatalf("confirmation lacks %q:\n%s", h, raw)
		}
	}
	// The confirm link: GET shows a button, POST confirms.
	confirm := linkIn(t, msgs[0].Raw, "/confirm/")
	u, _ := url.Parse(confirm)
	sub, _ := st.store.SubscriberByEmail(ctx, "new@example.com")
	ctok := st.csrf(c, u.Path)
	if st.status(sub.ID, st.daily.ID) != model.SubUnconfirmed {
		t.Fatal("GET of the confirm link confirmed")
	}
	if resp, body := st.post(c, u.Path, url.Values{"csrf": {ctok}}); resp.StatusCode != 200 || !strings.Contains(body, "You are subscribed") {
		t.Fatalf("confirm = %d\n%s", resp.StatusCode, body)
	}
	if st.status(sub.ID, st.daily.ID) != model.SubConfirmed {
		t.Fatal("confirm did not confirm")
	}
}

func TestRateLimitAndHeaders(t *testing.T) {
	t.Parallel()
	st := newSite(t, sqlite(t), func(o *web.Options) { o.RateLimit.PerMinute, o.RateLimit.Burst = 1, 3 })
	c := st.client()
	tok := st.csrf(c, "/subscribe/weekly")
	codes := []int{}
	for i := 0; i < 5; i++ {
		resp, _ := st.post(c, "/subscribe/weekly", url.Values{"email": {"r@example.com"}, "csrf": {tok}})
		codes = append(codes, resp.StatusCode)
	}
	if codes[2] != 200 || codes[3] != http.StatusTooManyRequests {
		t.Fatalf("codes = %v", codes)
	}
	resp, _ := st.get(c, "/subscribe/weekly")
	for h, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s = %q", h, got)
		}
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, part := range []string{"default-src 'none'", "frame-ancestors 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, part) {
			t.Errorf("CSP %q lacks %q", csp, part)
		}
	}
	// Oversized form bodies are refused.
	big := url.Values{"email": {strings.Repeat("a", 64<<10) + "@example.com"}, "csrf": {tok}}
	if resp, _ := st.post(c, "/subscribe/weekly", big); resp.StatusCode == 200 {
		t.Fatalf("oversized body accepted")
	}
	// Private lists have no page.
	ctx := context.Background()
	if err := st.store.CreateList(ctx, &model.List{Slug: "staff", Name: "Staff"}); err != nil {
		t.Fatal(err)
	}
	if resp, _ := st.get(c, "/subscribe/staff"); resp.StatusCode != 404 {
		t.Fatalf("private list page = %d", resp.StatusCode)
	}
}

func TestPreferencesDataAndErase(t *testing.T) {
	t.Parallel()
	st := newSite(t, sqlite(t), nil)
	ctx := context.Background()
	id := st.subscriber("ada@example.com", st.daily)
	tok := st.signer.Sign(token.Claims{Purpose: token.Preferences, SubscriberID: id})
	c := st.client()
	csrf := st.csrf(c, "/preferences/"+tok)
	resp, _ := st.post(c, "/preferences/"+tok, url.Values{"csrf": {csrf}, "name": {"Ada Lovelace"}, "list": {itoa(st.weekly.ID)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save = %d", resp.StatusCode)
	}
	if st.status(id, st.daily.ID) != model.SubUnsubscribed || st.status(id, st.weekly.ID) != model.SubConfirmed {
		t.Fatalf("after save: daily %s weekly %s", st.status(id, st.daily.ID), st.status(id, st.weekly.ID))
	}
	resp, body := st.get(c, "/preferences/"+tok+"/data.json")
	if resp.StatusCode != 200 || !strings.Contains(body, `"email": "ada@example.com"`) || !strings.Contains(body, `"name": "Ada Lovelace"`) || !strings.Contains(body, `"list": "weekly"`) {
		t.Fatalf("data = %d\n%s", resp.StatusCode, body)
	}
	resp, body = st.post(c, "/preferences/"+tok+"/erase", url.Values{"csrf": {csrf}, "confirm": {"yes"}})
	if resp.StatusCode != 200 || !strings.Contains(body, "erased") {
		t.Fatalf("erase = %d", resp.StatusCode)
	}
	if _, err := st.store.SubscriberByEmail(ctx, "ada@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("subscriber still there: %v", err)
	}
	if resp, _ := st.get(c, "/preferences/"+tok); resp.StatusCode != 404 {
		t.Fatalf("preferences after erase = %d", resp.StatusCode)
	}
}

func itoa(n int64) string { return strconvI(n) }

// TestSubscribeAnswerFollowsTheList: the answer to a signup is rendered
// once for a list and kept, but a list renamed, turned single opt-in or
// given another language is answered as it now is.
func TestSubscribeAnswerFollowsTheList(t *testing.T) {
	t.Parallel()
	st := newSite(t, sqlite(t), nil)
	ctx := context.Background()
	c := st.client()
	tok := st.csrf(c, "/subscribe/daily")
	answer := func(email string) string {
		t.Helper()
		resp, body := st.post(c, "/subscribe/daily", url.Values{"email": {email}, "csrf": {tok}})
		if resp.StatusCode != 200 {
			t.Fatalf("subscribe %s = %d", email, resp.StatusCode)
		}
		return body
	}
	first := answer("a@example.com")
	if again := answer("b@example.com"); again != first || !strings.Contains(first, "Check your inbox") {
		t.Fatalf("answers differ, or not the double opt-in one:\n%s\n----\n%s", first, again)
	}
	l, err := st.store.ListBySlug(ctx, "daily")
	if err != nil {
		t.Fatal(err)
	}
	l.Name = "The Evening Read"
	if err := st.store.UpdateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	if body := answer("c@example.com"); !strings.Contains(body, "The Evening Read") {
		t.Fatalf("answer after the list was renamed:\n%s", body)
	}
	l.OptIn = model.OptInSingle
	if err := st.store.UpdateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	if body := answer("e@example.com"); strings.Contains(body, "Check your inbox") || !strings.Contains(body, "Welcome aboard") {
		t.Fatalf("answer after the list became single opt-in:\n%s", body)
	}
	l.Language = "fr"
	if err := st.store.UpdateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	if body := answer("d@example.com"); !strings.Contains(body, `lang="fr"`) {
		t.Fatalf("answer after the list became French:\n%s", body)
	}
}
