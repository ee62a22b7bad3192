package precheck_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/herald-news/herald/internal/contrast"
	"github.com/herald-news/herald/internal/i18n"
	"github.com/herald-news/herald/internal/precheck"
)

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

// site is an in-process web site with every kind of link an edition can
// carry: good, redirected, broken, slow, HEAD-refusing, images and not.
type site struct {
	*httptest.Server
	mu       sync.Mutex
	methods  map[string][]string
	inFlight atomic.Int64
	most     atomic.Int64
	release  chan struct{}
}

func newSite(t *testing.T) *site {
	s := &site{methods: map[string][]string{}, release: make(chan struct{})}
	png := []byte("\x89PNG\r\n\x1a\n")
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
		for m := s.most.Load(); n > m && !s.most.CompareAndSwap(m, n); m = s.most.Load() {
		}
		s.mu.Lock()
		s.methods[r.URL.Path] = append(s.methods[r.URL.Path], r.Method)
		s.mu.Unlock()
		switch r.URL.Path {
		case "/ok", "/story/1", "/story/2":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<p>fine</p>")
		case "/no-head":
			if r.Method == http.MethodHead {
				w.WriteHeader(http.StatusMethodNotAllowed)
				return
			}
			fmt.Fprint(w, "fine by GET")
		case "/moved":
			http.Redirect(w, r, "/moved-again", http.StatusMovedPermanently)
		case "/moved-again":
			http.Redirect(w, r, "/ok", http.StatusFound)
		case "/gone":
			http.NotFound(w, r)
		case "/broken":
			w.WriteHeader(http.StatusInternalServerError)
		case "/slow":
			select {
			case <-s.release:
			case <-r.Context().Done():
			}
		case "/hero.png":
			w.Header().Set("Content-Type", "image/png")
			w.Write(png)
		case "/not-an-image.png":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<p>oops</p>")
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(func() {
		close(s.release)
		s.Close()
	})
	return s
}

func (s *site) calls(path string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.methods[path]...)
}

func findings(rep precheck.Report, check string) []precheck.Finding {
	var out []precheck.Finding
	for _, f := range rep.Findings {
		if f.Check == check {
			out = append(out, f)
		}
	}
	return out
}

func has(fs []precheck.Finding, url, part string) bool {
	for _, f := range fs {
		if (url == "" || f.URL == url) && strings.Contains(f.Message, part) {
			return true
		}
	}
	return false
}

func TestCheckAgainstASite(t *testing.T) {
	s := newSite(t)
	u := s.URL
	doc := `<html><head><style>@media (prefers-color-scheme: dark) { .faint { color: #eeeeee !important; } }</style></head>
<body style="background-color:#ffffff;color:#111111">
<p><a href="` + u + `/ok">Read the lead</a> and <a href="` + u + `/ok">the lead, again</a></p>
<div class="card"><h3><a href="` + u + `/story/1">A card's headline</a></h3><a class="cta" href="` + u + `/story/1">Read here</a></div>
<p><a href="` + u + `/no-head">Refuses HEAD</a> <a href="` + u + `/moved">Moved twice</a></p>
<p><a href="` + u + `/gone">A story that was taken down</a> <a href="` + u + `/broken">A server in trouble</a></p>
<p><a href="` + u + `/slow">A slow site</a></p>
<p><a href="http://localhost:8080/draft">Our draft</a> <a href="https://preview.staging.paper.example/a">Preview copy</a></p>
<p><a href="https://news.example/unsubscribe/x">Unsubscribe</a></p>
<p class="faint" style="color:#999999">Small print too faint to read</p>
<img src="` + u + `/hero.png" alt="The harbour at dawn">
<img src="` + u + `/not-an-image.png">
<img src="` + u + `/gone" alt="A missing picture">
<img src="` + u + `/pixel.gif" width="1" height="1">
</body></html>`
	c := precheck.New(precheck.Options{Allow: loopback, StagingHosts: []string{"staging.paper.example"}, LinkTimeout: 300 * time.Millisecond, Concurrency: 3})
	rep := c.Check(context.Background(), precheck.Input{
		Subject: "Tonight: the ceasefire talks, the budget vote, the harbour strike and five things to read",
		HTML:    []byte(doc), Own: []string{"https://news.example/"},
	})

	links := findings(rep, precheck.CheckLinks)
	for _, want := range []struct{ path, part string }{
		{"/gone", "answers 404 Not Found"},
		{"/broken", "answers 500 Internal Server Error"},
		{"/slow", "no answer within 300ms"},
	} {
		if !has(links, u+want.path, want.part) {
			t.Errorf("no link finding %q for %s in %+v", want.part, want.path, links)
		}
	}
	for _, fine := range []string{"/ok", "/no-head", "/moved"} {
		if has(links, u+fine, "") {
			t.Errorf("%s flagged: %+v", fine, links)
		}
	}
	if got := s.calls("/no-head"); strings.Join(got, ",") != "HEAD,GET" {
		t.Errorf("/no-head was asked %v, want HEAD then GET", got)
	}
	if got := s.calls("/ok"); len(got) == 0 || got[0] != "HEAD" {
		t.Errorf("/ok was asked %v, want HEAD (once per URL, the redirect's end aside)", got)
	}
	var moved precheck.Fetch
	for _, f := range rep.Links {
		if f.URL == u+"/moved" {
			moved = f
		}
	}
	if moved.Status != 200 || strings.Join(moved.Redirects, " ") != u+"/moved-again "+u+"/ok" {
		t.Errorf("the redirects were not listed: %+v", moved)
	}
	if len(s.calls("/unsubscribe/x")) != 0 {
		t.Error("Herald's own link was fetched")
	}
	if dups := findings(rep, precheck.CheckDuplicate); len(dups) != 1 || !has(dups, u+"/ok", `linked as "Read the lead" and "the lead, again"`) {
		t.Errorf("duplicate: %+v", findings(rep, precheck.CheckDuplicate))
	}
	local := findings(rep, precheck.CheckLocal)
	if !has(local, "http://localhost:8080/draft", `"Our draft" links to localhost`) || !has(local, "https://preview.staging.paper.example/a", "the staging site staging.paper.example") || len(local) != 2 {
		t.Errorf("local links: %+v", local)
	}
	images := findings(rep, precheck.CheckImages)
	if !has(images, u+"/not-an-image.png", "has no alt text") || !has(images, u+"/not-an-image.png", "is not an image (it is text/html)") ||
		!has(images, u+"/gone", "answers 404") || has(images, u+"/hero.png", "") || has(images, u+"/pixel.gif", "no alt") {
		t.Errorf("images: %+v", images)
	}
	if !has(findings(rep, precheck.CheckSubject), "", "the subject is 89 characters") || !has(findings(rep, precheck.CheckPreheader), "", "there is no preheader") {
		t.Errorf("words: %+v", rep.Findings)
	}
	con := findings(rep, precheck.CheckContrast)
	if !has(con, "", `p.faint "Small print too faint to read": #999999 on #ffffff`) || !has(con, "", "dark mode: html > body > p.faint") {
		t.Errorf("contrast: %+v", con)
	}
	if m := s.most.Load(); m > 3 {
		t.Errorf("%d requests at once, over the limit of 3", m)
	}

	// Every finding and problem is a catalog message: the English one is
	// Message (contrast's as package contrast says it), and French has
	// its own words.
	root, _ := html.Parse(strings.NewReader(doc))
	problems, _, _ := contrast.Check(root, false)
	var said []string
	for _, p := range problems {
		said = append(said, p.String())
	}
	fr := i18n.For("fr")
	for _, f := range rep.Findings {
		if f.Words.Key == "" || f.Words.In(i18n.For("en")) != f.Message || f.In(fr) == f.Message || precheck.CheckName(f.Check, fr) == "" {
			t.Errorf("finding %+v: in French %q", f, f.In(fr))
		}
		if f.Check == precheck.CheckContrast && !slices.Contains(said, f.Message) {
			t.Errorf("contrast finding %q is not contrast's %q", f.Message, said)
		}
	}
	for _, f := range append(rep.Links, rep.Images...) {
		if f.Problem != "" && (f.ProblemWords.In(i18n.For("en")) != f.Problem || f.ProblemIn(fr) == f.Problem) {
			t.Errorf("problem %q: in French %q", f.Problem, f.ProblemIn(fr))
		}
	}
}

func TestCheckTimeLimitAndSize(t *testing.T) {
	s := newSite(t)
	var doc strings.Builder
	doc.WriteString(`<body><p style="color:#000000">`)
	for i := range 4 {
		fmt.Fprintf(&doc, `<a href="%s/slow?%d">slow %d</a> `, s.URL, i, i)
	}
	doc.WriteString(strings.Repeat("Padding of a long edition. ", 4000) + "</p></body>")
	c := precheck.New(precheck.Options{Allow: loopback, Concurrency: 2, LinkTimeout: time.Minute, Timeout: 400 * time.Millisecond})
	rep := c.Check(context.Background(), precheck.Input{Subject: "Evening", Preheader: "The day in four stories", HTML: []byte(doc.String())})
	if !has(findings(rep, precheck.CheckSize), "", "Gmail clips messages over 102 KB") || rep.HTMLBytes <= precheck.GmailClipBytes {
		t.Errorf("size: %d bytes, %+v", rep.HTMLBytes, rep.Findings)
	}
	links := findings(rep, precheck.CheckLinks)
	if len(links) != 4 {
		t.Fatalf("links: %+v", links)
	}
	for _, f := range links {
		if !strings.Contains(f.Message, "not checked: the check's time limit ran out first") {
			t.Errorf("%s: %s", f.URL, f.Message)
		}
	}
	if m := s.most.Load(); m > 2 {
		t.Errorf("%d requests at once, over the limit of 2", m)
	}
}

func TestCheckRefusesPrivateAddressesOutsideTests(t *testing.T) {
	s := newSite(t)
	rep := precheck.New(precheck.Options{}).Check(context.Background(), precheck.Input{Subject: "s", Preheader: "p",
		HTML: []byte(`<p><a href="` + s.URL + `/ok">Internal page</a></p>`)})
	if len(s.calls("/ok")) != 0 {
		t.Fatal("the checker reached a loopback address without the test allow list")
	}
	if !has(findings(rep, precheck.CheckLinks), s.URL+"/ok", "Herald only fetches public addresses") ||
		!has(findings(rep, precheck.CheckLocal), s.URL+"/ok", "the private address 127.0.0.1") {
		t.Errorf("findings: %+v", rep.Findings)
	}
}
