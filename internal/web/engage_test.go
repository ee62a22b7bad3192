package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/token"
	"github.com/herald-news/herald/internal/web"
)

// User agents as the services send them (docs/engagement.md).
const (
	uaChrome   = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	uaIPhone   = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
	uaGmail    = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
	uaAppleMPP = "Mozilla/5.0"
)

// hit is one replayed request.
type hit struct {
	who     string // subscriber's address
	method  string
	path    string // "open", "hidden" or a link
	ua      string
	addr    string
	headers map[string]string
}

// TestClassificationReplay replays traffic shaped like the real thing
// through the public web's handlers and checks what each request was
// stored as: readers, HEAD requests, prefetches, the scanners' address
// ranges, a burst across every link in under two seconds, the hidden
// link, Apple's and Gmail's image proxies.
func TestClassificationReplay(t *testing.T) {
	st := newSite(t, sqlite(t), func(o *web.Options) { o.TrustProxy = true })
	links := []string{"https://example.org/lead", "https://example.org/card", "https://example.net/pick-1", "https://example.com/pick-2"}
	people := []string{"reader@example.com", "head@example.com", "prefetch@example.com", "barracuda@example.com", "mimecast@example.com",
		"defender@example.com", "proofpoint@example.com", "cisco@example.com", "burst@example.com", "hidden@example.com",
		"gmail@example.com", "apple@example.com", "script@example.com"}
	ids := map[string]int64{}
	for _, p := range people {
		ids[p] = st.subscriber(p, st.daily)
	}
	c := st.campaign(true, links, st.daily)

	const home = "198.51.100.23" // a reader's broadband address
	hits := []hit{
		{who: "reader@example.com", path: links[0], ua: uaChrome, addr: home},
		{who: "reader@example.com", path: links[2], ua: uaChrome, addr: home}, // two stories in tabs: still a reader
		{who: "reader@example.com", path: "open", ua: uaChrome, addr: home},
		{who: "head@example.com", method: http.MethodHead, path: links[1], ua: uaChrome, addr: "203.0.113.9"},
		{who: "prefetch@example.com", path: links[1], ua: uaChrome, addr: home, headers: map[string]string{"Sec-Purpose": "prefetch"}},
		{who: "barracuda@example.com", path: links[0], ua: uaChrome, addr: "64.235.150.12"},
		{who: "mimecast@example.com", path: links[0], ua: uaChrome, addr: "205.139.110.61"},
		{who: "defender@example.com", path: links[3], ua: uaChrome, addr: "40.107.22.54"},
		{who: "proofpoint@example.com", path: links[1], ua: uaChrome, addr: "148.163.150.3"},
		{who: "cisco@example.com", path: links[2], ua: uaChrome, addr: "68.232.140.77"},
		{who: "gmail@example.com", path: "open", ua: uaGmail, addr: "66.249.84.10"},
		{who: "apple@example.com", path: "open", ua: uaAppleMPP, addr: "172.225.37.10"},
		{who: "apple@example.com", path: links[0], ua: uaIPhone, addr: "172.225.37.10"}, // a click through Apple's relay is a person
		{who: "script@example.com", path: links[0], ua: "python-requests/2.32.3", addr: home},
		{who: "hidden@example.com", path: "hidden", ua: uaChrome, addr: "203.0.113.50"},
		{who: "hidden@example.com", path: links[3], ua: uaChrome, addr: "203.0.113.50"},
	}
	// A gateway with a browser's user agent clicks every link at once.
	for _, l := range links {
		hits = append(hits, hit{who: "burst@example.com", path: l, ua: uaChrome, addr: "192.0.2.77"})
	}
	client := st.client()
	for _, h := range hits {
		claims := token.Claims{Purpose: token.Click, SubscriberID: ids[h.who], CampaignID: c.ID}
		var target string
		switch h.path {
		case "open":
			claims.Purpose = token.Open
			target = "/o/" + st.signer.Sign(claims) + ".gif"
		case "hidden":
			target = "/l/" + st.signer.Sign(claims)
		default:
			target = "/c/" + st.signer.Sign(claims) + "?u=" + url.QueryEscape(h.path)
		}
		method := h.method
		if method == "" {
			method = http.MethodGet
		}
		req, _ := http.NewRequest(method, st.ts.URL+target, nil)
		req.Header.Set("User-Agent", h.ua)
		req.Header.Set("X-Forwarded-For", h.addr)
		for k, v := range h.headers {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if h.path != "open" && resp.StatusCode != http.StatusFound {
			t.Fatalf("%s %s: %d", method, target, resp.StatusCode)
		}
	}
	st.flush()

	type key struct {
		who, kind, url string
	}
	got := map[key]string{}
	err := st.store.CampaignEvents(context.Background(), c.ID, func(e store.CampaignEvent) error {
		got[key{e.Email, string(e.Kind), e.URL}] = string(e.Class) + " " + e.Reason
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[key]string{
		{"reader@example.com", "click", links[0]}:     "human ",
		{"reader@example.com", "click", links[2]}:     "human ",
		{"reader@example.com", "open", ""}:            "human ",
		{"head@example.com", "click", links[1]}:       "machine method:HEAD",
		{"prefetch@example.com", "click", links[1]}:   "machine prefetch",
		{"barracuda@example.com", "click", links[0]}:  "machine ip:barracuda",
		{"mimecast@example.com", "click", links[0]}:   "machine ip:mimecast",
		{"defender@example.com", "click", links[3]}:   "machine ip:microsoft-defender",
		{"proofpoint@example.com", "click", links[1]}: "machine ip:proofpoint",
		{"cisco@example.com", "click", links[2]}:      "machine ip:cisco",
		{"gmail@example.com", "open", ""}:             "human ua:gmail-proxy",
		{"apple@example.com", "open", ""}:             "privacy ua:apple-mpp",
		{"apple@example.com", "click", links[0]}:      "human ",
		{"script@example.com", "click", links[0]}:     "machine ua:automated",
		{"hidden@example.com", "click", ""}:           "machine hidden-link",
		{"hidden@example.com", "click", links[3]}:     "machine hidden-link",
	}
	for _, l := range links {
		want[key{"burst@example.com", "click", l}] = "machine burst"
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s %s %s: stored as %q, want %q", k.who, k.kind, k.url, got[k], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d events stored, want %d: %v", len(got), len(want), got)
	}

	// The campaign's counts: unique readers apart from machines and
	// privacy-protected opens; totals are their sum.
	n := storedEvents(t, st.store, c.ID)
	for _, tc := range []struct {
		name      string
		got, want int64
	}{
		{"human opens", n.UniqueBy[model.ClassHuman][model.EventOpen], 2},
		{"privacy opens", n.UniqueBy[model.ClassPrivacy][model.EventOpen], 1},
		{"human clicks", n.UniqueBy[model.ClassHuman][model.EventClick], 2},
		{"machine clicks", n.UniqueBy[model.ClassMachine][model.EventClick], 10},
		{"clicks", n.Total[model.EventClick], n.TotalBy[model.ClassHuman][model.EventClick] + n.TotalBy[model.ClassMachine][model.EventClick]},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %d, want %d", tc.name, tc.got, tc.want)
		}
	}
}
