package unfurl_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/unfurl"
)

// loopback lets the tests reach their in-process servers on 127.0.0.1, and
// nothing else that is not public.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

const articlePage = `<!doctype html><html><head>
<title>Ignored | The Quay Courier</title>
<meta property="og:title" content="OpenGraph title loses to JSON-LD">
<meta property="og:site_name" content="The Quay Courier">
<meta property="og:image" content="/img/ferry.jpg">
<meta property="article:author" content="https://example.org/people/ines">
<link rel="canonical" href="/2026/03/ferry-timetable">
<script type="application/ld+json">
{"@context":"https://schema.org","@graph":[
 {"@type":"WebSite","name":"Courier"},
 {"@type":"NewsArticle","headline":"The ferry timetable nobody can read",
  "author":[{"@type":"Person","name":"Ines Moreau"},{"@type":"Person","name":"Tom Okafor"}],
  "publisher":{"@type":"Organization","name":"The Quay Courier"},
  "image":{"@type":"ImageObject","url":"https://cdn.example.org/ferry-large.jpg"}}]}
</script></head><body><p>Body text.</p></body></html>`

const ogPage = `<html><head><title>Fallback</title>
<meta name="twitter:title" content="Twitter title loses to OpenGraph">
<meta property="og:title" content="  Why the   lighthouse stayed dark ">
<meta name="twitter:image" content="https://cdn.example.org/light.png">
<meta name="author" content="Maren Holt">
<meta name="application-name" content="Coastline Weekly">
</head><body></body></html>`

const twitterPage = `<html><head><title>Plain title</title>
<meta name="twitter:title" content="Harbour dues explained">
<meta name="twitter:creator" content="@kaidunn">
<meta name="twitter:image" content="pic.png">
</head></html>`

func server(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func htmlPage(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, body)
	}
}

// TestUnfurlReadsMetadata: pages served over real HTTP yield title, author,
// publication and image from JSON-LD first, then OpenGraph, then Twitter
// cards, then the page's own tags; relative URLs are made absolute.
func TestUnfurlReadsMetadata(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/article", htmlPage(articlePage))
	mux.Handle("/og", htmlPage(ogPage))
	mux.Handle("/twitter", htmlPage(twitterPage))
	srv := server(t, mux)
	u := unfurl.New(unfurl.Options{Allow: loopback})
	ctx := context.Background()

	p, err := u.Unfurl(ctx, srv.URL+"/article")
	if err != nil {
		t.Fatal(err)
	}
	want := unfurl.Page{URL: srv.URL + "/2026/03/ferry-timetable", Title: "The ferry timetable nobody can read",
		Author: "Ines Moreau and Tom Okafor", Publication: "The Quay Courier", Image: "https://cdn.example.org/ferry-large.jpg"}
	if p != want {
		t.Errorf("JSON-LD page:\n got %+v\nwant %+v", p, want)
	}
	p, err = u.Unfurl(ctx, srv.URL+"/og")
	if err != nil {
		t.Fatal(err)
	}
	if p.Title != "Why the lighthouse stayed dark" || p.Author != "Maren Holt" || p.Publication != "Coastline Weekly" ||
		p.Image != "https://cdn.example.org/light.png" || p.URL != srv.URL+"/og" {
		t.Errorf("OpenGraph page: %+v", p)
	}
	p, err = u.Unfurl(ctx, srv.URL+"/twitter")
	if err != nil {
		t.Fatal(err)
	}
	if p.Title != "Harbour dues explained" || p.Author != "@kaidunn" || p.Image != srv.URL+"/pic.png" {
		t.Errorf("Twitter card page: %+v", p)
	}
}

// TestUnfurlRefusesNonPublicAddresses: loopback, private, link-local and
// other non-public addresses are refused when dialled, whether given as
// an IP, as a name that resolves to one, or reached by a redirect.
func TestUnfurlRefusesNonPublicAddresses(t *testing.T) {
	hits := 0
	target := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		htmlPage(ogPage)(w, r)
	}))
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(target.URL, "http://"))
	ctx := context.Background()
	strict := unfurl.New(unfurl.Options{})

	// The same server, by IP and by a name that resolves to loopback.
	for _, raw := range []string{target.URL + "/og", "http://localhost:" + port + "/og"} {
		_, err := strict.Unfurl(ctx, raw)
		if !errors.Is(err, unfurl.ErrRefused) || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("%s: err = %v, want a loopback refusal", raw, err)
		}
	}
	// Addresses of every refused kind, dialled for real (a refusal happens
	// before any packet is sent, so none of these need to exist).
	for raw, kind := range map[string]string{
		"http://10.1.2.3/":                  "private",
		"http://192.168.0.10:8080/":         "private",
		"http://172.16.5.4/":                "private",
		"http://169.254.169.254/latest/":    "link-local",
		"http://[fe80::1]/":                 "link-local",
		"http://[::1]/":                     "loopback",
		"http://[::ffff:127.0.0.1]/":        "loopback",
		"http://[fd00::5]/":                 "private",
		"http://0.0.0.0/":                   "unspecified",
		"http://100.64.1.1/":                "reserved",
		"http://[64:ff9b::7f00:1]/":         "reserved", // NAT64 of 127.0.0.1
		"http://[64:ff9b::a9fe:a9fe]/":      "reserved", // NAT64 of the metadata address
		"http://[2002:7f00:1::1]/":          "reserved", // 6to4 of 127.0.0.1
		"http://[2001:0:4136:e378::1]/":     "reserved", // Teredo
		"http://[::7f00:1]/":                "reserved", // IPv4-compatible 127.0.0.1
		"https://127.0.0.1:" + port + "/og": "loopback",
	} {
		_, err := strict.Unfurl(ctx, raw)
		var refused *unfurl.RefusedError
		if !errors.As(err, &refused) || !strings.Contains(refused.Reason, kind) {
			t.Errorf("%s: err = %v, want a %s refusal", raw, err, kind)
		}
	}
	// Only http and https.
	for _, raw := range []string{"file:///etc/passwd", "ftp://example.org/x", "gopher://example.org/", "javascript:alert(1)", "/relative", "http://user:pw@example.org/"} {
		if _, err := strict.Unfurl(ctx, raw); err == nil {
			t.Errorf("%s: fetched, want a refusal", raw)
		}
	}

	// A public-looking first hop (allowed here: 127.0.0.1) that redirects
	// to a refused address is stopped at the redirect.
	other, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	inner := httptest.NewUnstartedServer(htmlPage(ogPage))
	inner.Listener.Close()
	inner.Listener = other
	inner.Start()
	defer inner.Close()
	redirector := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-loopback":
			http.Redirect(w, r, inner.URL+"/", http.StatusFound)
		case "/to-file":
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		}
	}))
	allowOne := unfurl.New(unfurl.Options{Allow: loopback})
	for _, path := range []string{"/to-loopback", "/to-file"} {
		if _, err := allowOne.Unfurl(ctx, redirector.URL+path); !errors.Is(err, unfurl.ErrRefused) {
			t.Errorf("redirect %s: err = %v, want ErrRefused", path, err)
		}
	}
	if hits != 0 {
		t.Errorf("the loopback server was reached %d times", hits)
	}
}

// TestUnfurlLimits: at most 5 redirects; a body is read only up to the
// size limit; a server that does not answer is given up on; a non-page
// and an error status are reported plainly.
func TestUnfurlLimits(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	mux := http.NewServeMux()
	mux.HandleFunc("/hop/{n}", func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscan(r.PathValue("n"), &n)
		if n == 0 {
			htmlPage(ogPage)(w, r)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/hop/%d", n-1), http.StatusFound)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><head><title>Early title</title>")
		fmt.Fprint(w, strings.Repeat("<!-- padding -->", 1<<14))
		fmt.Fprint(w, `<meta property="og:title" content="Late title"></head></html>`)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	mux.HandleFunc("/pdf", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
	})
	mux.HandleFunc("/gone", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "gone", http.StatusGone) })
	srv := server(t, mux)
	ctx := context.Background()
	u := unfurl.New(unfurl.Options{Allow: loopback, MaxBytes: 4096, Timeout: 300 * time.Millisecond})

	if p, err := u.Unfurl(ctx, srv.URL+"/hop/5"); err != nil || p.Title != "Why the lighthouse stayed dark" {
		t.Errorf("5 redirects: %+v, %v; want the page", p, err)
	}
	if _, err := u.Unfurl(ctx, srv.URL+"/hop/6"); err == nil || !strings.Contains(err.Error(), "redirects") {
		t.Errorf("6 redirects: err = %v, want a redirect limit error", err)
	}
	if p, err := u.Unfurl(ctx, srv.URL+"/big"); err != nil || p.Title != "Early title" {
		t.Errorf("big page: %+v, %v; want only what fits in the limit", p, err)
	}
	if _, err := u.Unfurl(ctx, srv.URL+"/slow"); err == nil {
		t.Errorf("a server that never answers: no error")
	}
	if _, err := u.Unfurl(ctx, srv.URL+"/pdf"); err == nil || !strings.Contains(err.Error(), "not a web page") {
		t.Errorf("pdf: err = %v", err)
	}
	if _, err := u.Unfurl(ctx, srv.URL+"/gone"); err == nil || !strings.Contains(err.Error(), "410") {
		t.Errorf("410: err = %v", err)
	}
}

// TestErrorsNameAClassNotTheNetwork: what a failed fetch says is a class
// of failure; it never shows the resolver's address or tells a refused
// port from a closed one.
func TestErrorsNameAClassNotTheNetwork(t *testing.T) {
	ctx := context.Background()
	u := unfurl.New(unfurl.Options{Allow: loopback, Timeout: 2 * time.Second})
	// A port nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	_, err = u.Unfurl(ctx, "http://"+closed+"/")
	if err == nil || !strings.Contains(err.Error(), "could not connect") || strings.Contains(err.Error(), "refused") {
		t.Errorf("closed port: %v", err)
	}
	// A server that accepts and hangs up.
	hangup, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hangup.Close()
	go func() {
		for {
			c, err := hangup.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, err = u.Unfurl(ctx, "http://"+hangup.Addr().String()+"/")
	if err == nil || !strings.Contains(err.Error(), "closed without an answer") || strings.Contains(err.Error(), "EOF") {
		t.Errorf("hang-up: %v", err)
	}
	// A name that does not resolve: no resolver address in the words.
	_, err = u.Unfurl(ctx, "http://no-such-host.invalid/")
	if err == nil || !strings.Contains(err.Error(), "no-such-host.invalid") || strings.Contains(err.Error(), ":53") {
		t.Errorf("unresolvable name: %v", err)
	}
}

// TestCheckHostRefusesNamesOfPrivateAddresses: the check made when an
// address is saved resolves the name and refuses what the dialer would.
func TestCheckHostRefusesNamesOfPrivateAddresses(t *testing.T) {
	ctx := context.Background()
	for raw, want := range map[string]string{
		"http://localhost:8080/hook":     "loopback",
		"https://169.254.169.254/":       "link-local",
		"https://[64:ff9b::a9fe:a9fe]/x": "reserved",
		"ftp://example.org/":             "not an http",
		"https://user:pw@example.org/":   "user name",
	} {
		u, _ := url.Parse(raw)
		err := unfurl.CheckHost(ctx, u, nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", raw, err, want)
		}
	}
	u, _ := url.Parse("https://no-such-host.invalid/hook")
	if err := unfurl.CheckHost(ctx, u, nil); err != nil {
		t.Errorf("a name that does not resolve (yet) is refused: %v", err)
	}
	u, _ = url.Parse("http://localhost:8080/hook")
	if err := unfurl.CheckHost(ctx, u, unfurl.Everywhere); err != nil {
		t.Errorf("localhost with everything allowed: %v", err)
	}
	if err := unfurl.CheckHost(ctx, u, loopback); err != nil {
		t.Errorf("localhost with loopback allowed: %v", err)
	}
}
