package admin_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/herald-news/herald/internal/browsertest"
)

// TestBrowserSegmentEditor writes a segment in a real browser: the count
// follows the query as it is typed, a mistake is shown with where it is,
// and the saved segment is listed with its count.
func TestBrowserSegmentEditor(t *testing.T) {
	e, _ := sendingEnv(t, 30)
	ctx := context.Background()
	for i, city := range []string{"Leeds", "York", "Leeds", "Hull", "Leeds"} {
		sub, err := e.st.SubscriberByEmail(ctx, "reader00"+string(rune('0'+i))+"@example.net")
		if err != nil {
			t.Fatal(err)
		}
		sub.Attributes = map[string]any{"city": city}
		if _, err := e.st.UpsertSubscriber(ctx, sub); err != nil {
			t.Fatal(err)
		}
	}
	b := browsertest.New(t)
	u := e.srv.URL
	b.Do(chromedp.Navigate(u+"/admin/"), chromedp.WaitVisible(css("#email")))
	b.Do(chromedp.SendKeys(css("#email"), "editor@example.com"), chromedp.SendKeys(css("#password"), password))
	clickNav(b, t, ".login-card button")
	b.Do(chromedp.Navigate(u+"/admin/segments"), chromedp.WaitVisible(css("#segment-editor")))

	b.Do(chromedp.SendKeys(css("#seg-name"), "Leeds readers"),
		chromedp.SendKeys(css("#seg-query"), "list = evening and attr.city = Leeds"))
	waitJS(b, t, `document.getElementById("seg-count").textContent === "3"`)
	if note := browsertest.Run(b, chromedp.Text(css("#seg-canonical"))); !strings.Contains(note, `list = evening and attr.city = "Leeds"`) {
		t.Errorf("the editor reads the query as %q", note)
	}
	b.Screenshot("segment-editor")

	// A mistake: the count goes blank and the problem names its place.
	b.Do(chromedp.SendKeys(css("#seg-query"), " and opened within"))
	waitJS(b, t, `document.querySelector("#seg-canonical .error-text") !== null`)
	if note := browsertest.Run(b, chromedp.Text(css("#seg-canonical"))); !strings.Contains(note, "expected a number of days") {
		t.Errorf("a bad query shows %q", note)
	}
	b.Screenshot("segment-editor-mistake")
	b.Do(chromedp.SetValue(css("#seg-query"), "list = evening and (attr.city = Leeds or attr.city = York) and never opened"))
	clickNav(b, t, "#segment-editor button[type=submit]")
	table := browsertest.Run(b, chromedp.Text(css("main table")))
	if !strings.Contains(table, "Leeds readers") || !strings.Contains(table, "4") {
		t.Errorf("the segments table shows %q", table)
	}
	b.Screenshot("segments")
	if sg, err := e.st.SegmentByName(ctx, "Leeds readers"); err != nil ||
		sg.Query != `list = evening and (attr.city = "Leeds" or attr.city = "York") and never opened` {
		t.Errorf("saved %+v, %v", sg, err)
	}
	b.AssertNoProblems()
}
