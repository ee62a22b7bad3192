package delivery_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"

	"github.com/herald-news/herald/internal/browsertest"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestHiddenLinkInvisible: a tracked message carries the hidden link in
// its HTML only, and Chromium draws the message with the link taking no
// space, not focusable, and absent from the accessibility tree that screen
// readers read, while the stories' links are in it.
func TestHiddenLinkInvisible(t *testing.T) {
	s := storetest.SQLite(t)
	f := newFixture(t, s, 1, smtpsink.Faults{}, nil)
	f.sendTracked()
	raw := f.sink.Messages()[0].Raw
	page, text := htmlPart(t, raw), mimePart(t, raw, "text/plain")
	if strings.Count(page, "https://news.example.com/l/") != 1 {
		t.Fatalf("the HTML has %d hidden links, want 1", strings.Count(page, "https://news.example.com/l/"))
	}
	if strings.Contains(text, "/l/") {
		t.Fatal("the hidden link is in the plain-text part")
	}

	b := browsertest.New(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(page))
	}))
	defer srv.Close()
	b.Do(chromedp.Navigate(srv.URL+"/"), chromedp.WaitReady(chromedp.CSS("body")))
	type box struct {
		Found, Focused        bool
		Width, Height         float64
		TabIndex              int
		Visible, StoryVisible bool
	}
	got := browsertest.Run(b, chromedp.Evaluate[box](`(() => {
		const a = document.querySelector('a[href*="/l/"]');
		if (!a) return {Found: false};
		const r = a.getBoundingClientRect();
		a.focus();
		const story = document.querySelector('a[href*="/c/"]');
		return {Found: true, Focused: document.activeElement === a, Width: r.width, Height: r.height, TabIndex: a.tabIndex,
			Visible: a.checkVisibility(), StoryVisible: story.checkVisibility()};
	})()`))
	if !got.Found || got.Focused || got.Width != 0 || got.Height != 0 || got.TabIndex != -1 || got.Visible || !got.StoryVisible {
		t.Fatalf("the hidden link as drawn: %+v", got)
	}
	nodes := browsertest.Run(b, chromedp.Action[[]*accessibility.Node](func(ctx context.Context, tgt *chromedp.Target) ([]*accessibility.Node, error) {
		res, err := cdp.Call(ctx, tgt, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
		return res.Nodes, err
	}))
	links := 0
	for _, n := range nodes {
		if n.Ignored {
			continue
		}
		for _, p := range n.Properties {
			if p.Name == accessibility.PropertyNameURL && p.Value != nil {
				u := string(p.Value.Value)
				if strings.Contains(u, "/l/") {
					t.Errorf("the hidden link is in the accessibility tree: %s", u)
				}
				if strings.Contains(u, "/c/") {
					links++
				}
			}
		}
	}
	if links == 0 {
		t.Fatal("no story link in the accessibility tree: the check sees nothing")
	}
	// (The message's pictures and pixel point at hosts the test cannot
	// reach: the browser's complaints about them are expected.)
	b.Screenshot("tracked-email")
}
