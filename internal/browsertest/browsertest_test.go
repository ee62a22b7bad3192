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
