package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/herald-news/herald/internal/browsertest"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/token"
)

// TestBrowserPublicAccessibility runs axe-core over every public page a
// reader meets, in light and dark mode: home, archives, an edition, the
// subscribe form and its answer, confirm, unsubscribe and its answer,
// preferences, feedback and a page that is not there. Any serious or
// critical WCAG 2.2 A/AA violation fails it.
func TestBrowserPublicAccessibility(t *testing.T) {
	browsertest.RequireAxe(t)
	st := newSite(t, sqlite(t), nil)
	e := st.publishSample()
	ctx := context.Background()
	reader := st.subscriber("reader@example.com", st.daily, st.weekly)
	pending := st.subscriber("pending@example.com")
	if err := st.store.SetSubscription(ctx, pending, st.daily.ID, model.SubUnconfirmed, model.SourceForm); err != nil {
		t.Fatal(err)
	}
	c := st.campaign(false, nil, st.daily)
	sign := func(p token.Purpose, sub int64) string {
		return st.signer.Sign(token.Claims{Purpose: p, SubscriberID: sub, CampaignID: c.ID, ListID: st.daily.ID})
	}
	pages := []struct{ name, path string }{
		{"home", "/"}, {"archive", "/archive"}, {"list-archive", "/archive/daily"}, {"edition", "/archive/" + e.Slug},
		{"subscribe", "/subscribe/daily"},
		{"confirm", "/confirm/" + sign(token.Confirm, pending)},
		{"unsubscribe", "/unsubscribe/" + sign(token.Unsubscribe, reader)},
		{"preferences", "/preferences/" + sign(token.Preferences, reader)},
		{"feedback", "/feedback/" + sign(token.Feedback, reader) + "?r=3"},
		{"not-found", "/no-such-page"},
	}
	b := browsertest.New(t)
	for _, scheme := range []string{"light", "dark"} {
		b.Do(browsertest.ColorScheme(scheme))
		for _, p := range pages {
			b.Do(chromedp.Navigate(st.ts.URL+p.path), chromedp.WaitVisible(chromedp.CSS("h1")))
			browsertest.Axe(t, b, scheme+"-"+p.name)
		}
		// Keyboard focus shows, 3:1 against the page, on the skip link,
		// the masthead's links, a field and a button.
		b.Do(chromedp.Navigate(st.ts.URL+"/subscribe/daily"), chromedp.WaitVisible(chromedp.ID("email")))
		for i, want := range []string{"a.skip", "a.brand", "a", "a", "input#email"} {
			b.Do(browsertest.Tab())
			f := browsertest.FocusOf(b, "")
			if !strings.HasPrefix(f.Element, want) || !f.Visible() {
				t.Errorf("%s, Tab %d: focus on %s, want %s with an outline of 3:1", scheme, i+1, f, want)
			}
			if i == 0 {
				b.Screenshot(scheme + "-focus-skip")
			}
		}
		b.Do(chromedp.Focus(chromedp.CSS("form.stack button[type=submit]")))
		if f := browsertest.FocusOf(b, ""); !f.Visible() {
			t.Errorf("%s: the subscribe button's focus: %s", scheme, f)
		}
		b.Screenshot(scheme + "-focus-button")
		// The answers to a form.
		b.Do(chromedp.Navigate(st.ts.URL+"/subscribe/weekly"), chromedp.WaitVisible(chromedp.ID("email")),
			chromedp.SendKeys(chromedp.ID("email"), scheme+"@example.com"),
			chromedp.Click(chromedp.CSS("form.stack button[type=submit]")),
			chromedp.WaitVisible(chromedp.CSS("section.notice h1")))
		browsertest.Axe(t, b, scheme+"-subscribed")
		b.Do(chromedp.Navigate(st.ts.URL+"/unsubscribe/"+sign(token.Unsubscribe, reader)), chromedp.WaitVisible(chromedp.ID("unsubscribe")),
			chromedp.Click(chromedp.ID("unsubscribe")), chromedp.WaitVisible(chromedp.ID("feedback-leaving")))
		browsertest.Axe(t, b, scheme+"-unsubscribed")
		if err := st.store.SetSubscription(ctx, reader, st.daily.ID, model.SubConfirmed, model.SourceAdmin); err != nil {
			t.Fatal(err)
		}
	}
}
