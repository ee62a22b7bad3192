package browsertest_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/herald-news/herald/internal/browsertest"
)

func TestPageAndProblems(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/":
			w.Write([]byte(`<!doctype html><title>ok</title><link rel="icon" href="data:,"><h1>Hello</h1>`))
		case "/broken":
			w.Write([]byte(`<!doctype html><title>broken</title><link rel="icon" href="data:,"><h1>Broken</h1><script>console.error("boom"); undefinedFn();</script>`))
		}
	}))
	defer srv.Close()

	b := browsertest.New(t)
	b.Do(chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("h1")))
	h1 := browsertest.Run(b, chromedp.Text(chromedp.CSS("h1")))
	if h1 != "Hello" {
		t.Fatalf("h1 = %q", h1)
	}
	if p := b.Screenshot("home"); p == "" {
		t.Fatal("no screenshot written")
	} else if fi, err := os.Stat(p); err != nil || fi.Size() == 0 {
		t.Fatalf("screenshot %s: %v", p, err)
	}
	b.AssertNoProblems()

	b.Do(chromedp.Navigate(srv.URL+"/broken"), chromedp.WaitVisible(chromedp.CSS("h1")))
	browsertest.Run(b, chromedp.Evaluate[int](`1`))
	var got []string
	for range 20 {
		got = b.Problems()
		if len(got) >= 2 {
			break
		}
		browsertest.Run(b, chromedp.Evaluate[int](`1`))
	}
	all := strings.Join(got, "\n")
	if !strings.Contains(all, "boom") || !strings.Contains(all, "undefinedFn") {
		t.Fatalf("problems not collected: %q", got)
	}
}

// The axe-core check finds what it should on a page built to fail it
// (an unlabelled field, grey on grey text, an image without a text
// alternative) and nothing on the same page done right, in light and
// dark mode.
func TestAxeFindsViolations(t *testing.T) {
	browsertest.RequireAxe(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		// No script allowed: axe-core must still get in.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		switch r.URL.Path {
		case "/bad":
			w.Write([]byte(`<!doctype html><html lang="en"><title>bad</title><main><h1>Bad</h1>
<p style="color:#aaa;background:#bbb">Grey on grey.</p><input type="text"><img src="data:,"></main></html>`))
		case "/good":
			w.Write([]byte(`<!doctype html><html lang="en"><title>good</title>
<style>body{color:#111;background:#fff}@media (prefers-color-scheme: dark){body{color:#eee;background:#111}}</style>
<main><h1>Good</h1><p>Dark on light.</p><label for="q">Search</label><input id="q" type="text"><img src="data:," alt="A blank picture"></main></html>`))
		case "/darkbad":
			w.Write([]byte(`<!doctype html><html lang="en"><title>dark</title>
<style>p{color:#111;background:#fff}@media (prefers-color-scheme: dark){p{background:#222}}</style><main><h1>Dark</h1><p>Unreadable at night.</p></main></html>`))
		}
	}))
	defer srv.Close()
	b := browsertest.New(t)

	b.Do(chromedp.Navigate(srv.URL+"/bad"), chromedp.WaitVisible(chromedp.CSS("h1")))
	vs, err := browsertest.Violations(b)
	if err != nil {
		t.Fatal(err)
	}
	rules := map[string]browsertest.Violation{}
	for _, v := range vs {
		rules[v.Rule] = v
	}
	for _, want := range []string{"color-contrast", "label", "image-alt"} {
		v, ok := rules[want]
		if !ok {
			t.Errorf("axe-core missed %s on /bad; found %v", want, vs)
			continue
		}
		if !v.Blocking() || len(v.Nodes) == 0 || v.Nodes[0].Target == "" || v.Nodes[0].Summary == "" {
			t.Errorf("%s: %+v, want a serious or critical violation naming the element and the fix", want, v)
		}
	}
	if s := rules["color-contrast"].String(); !strings.Contains(s, "color-contrast (serious)") || !strings.Contains(s, "contrast") {
		t.Errorf("readable form: %q", s)
	}

	for _, scheme := range []string{"light", "dark"} {
		b.Do(browsertest.ColorScheme(scheme), chromedp.Navigate(srv.URL+"/good"), chromedp.WaitVisible(chromedp.CSS("h1")))
		if vs, err := browsertest.Violations(b); err != nil || len(vs) > 0 {
			t.Errorf("/good in %s: %v %v", scheme, vs, err)
		}
		b.Do(chromedp.Navigate(srv.URL+"/darkbad"), chromedp.WaitVisible(chromedp.CSS("h1")))
		vs, err := browsertest.Violations(b)
		found := err == nil && len(vs) == 1 && vs[0].Rule == "color-contrast"
		if found != (scheme == "dark") {
			t.Errorf("/darkbad in %s: %v %v", scheme, vs, err)
		}
	}
}
