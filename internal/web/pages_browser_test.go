package web_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/herald-news/herald/internal/browsertest"
)

// TestBrowserEditionPageLeadsOn is the public site as a reader from a
// shared link meets it: the edition page has the site's navigation and a
// subscribe prompt leading to the form of the list it went to, its lead
// headline reads as a headline (not as a small section label), and the
// home page shows staff the way to the admin's sign-in.
func TestBrowserEditionPageLeadsOn(t *testing.T) {
	st := newSite(t, sqlite(t), nil)
	e := st.publishSample()
	st.campaign(false, nil, st.daily) // the sample edition went to the daily list
	b := browsertest.New(t)

	for _, scheme := range []string{"light", "dark"} {
		b.Do(browsertest.ColorScheme(scheme), chromedp.Navigate(st.ts.URL+"/archive/"+e.Slug), chromedp.WaitVisible(chromedp.CSS("main#edition")))
		type page struct {
			Nav                      []string
			Prompt, PromptHref       string
			HeadlinePx, SectionPx    float64
			HeadlineCase, HeadlineFF string
		}
		got := browsertest.Run(b, chromedp.Evaluate[page](`(() => {
			const nav = [...document.querySelectorAll("header nav a")].map(a => a.textContent + " " + new URL(a.href).pathname);
			const prompt = document.querySelector("aside.subscribe");
			const h = getComputedStyle(document.querySelector("h2.headline"));
			const sec = getComputedStyle(document.querySelector("section:not(:first-of-type) h2"));
			return {Nav: nav, Prompt: prompt ? prompt.querySelector("h2").textContent : "",
				PromptHref: prompt ? new URL(prompt.querySelector("a.button").href).pathname : "",
				HeadlinePx: parseFloat(h.fontSize), SectionPx: parseFloat(sec.fontSize),
				HeadlineCase: h.textTransform, HeadlineFF: h.fontFamily};
		})()`))
		wantNav := []string{"Newsletters /", "Archive /archive", "Subscribe /subscribe/daily"}
		if len(got.Nav) != len(wantNav) {
			t.Errorf("%s: edition page navigation %q, want %q", scheme, got.Nav, wantNav)
		} else {
			for i := range wantNav {
				if got.Nav[i] != wantNav[i] {
					t.Errorf("%s: navigation link %d is %q, want %q", scheme, i, got.Nav[i], wantNav[i])
				}
			}
		}
		if got.Prompt != "Get Northgate Courier in your inbox" || got.PromptHref != "/subscribe/daily" {
			t.Errorf("%s: subscribe prompt %q to %q, want one to /subscribe/daily", scheme, got.Prompt, got.PromptHref)
		}
		if got.HeadlinePx < 24 || got.HeadlinePx < 1.8*got.SectionPx || got.HeadlineCase != "none" {
			t.Errorf("%s: the lead headline is %.1fpx (%s, %s), section labels %.1fpx: want a headline's weight",
				scheme, got.HeadlinePx, got.HeadlineCase, got.HeadlineFF, got.SectionPx)
		}
		b.Screenshot("edition-" + scheme)
	}

	// The prompt leads to the list's form.
	b.Do(chromedp.Click(chromedp.CSS("aside.subscribe a.button")), chromedp.WaitVisible(chromedp.ID("email")))
	if h := browsertest.Run(b, chromedp.Text(chromedp.CSS("h1"))); h != st.daily.Name {
		t.Errorf("the subscribe prompt opened %q, want the %q form", h, st.daily.Name)
	}

	// The home page: staff find the admin's sign-in.
	b.Do(chromedp.Navigate(st.ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS("h1")))
	b.Screenshot("home")
	if text := browsertest.Run(b, chromedp.Text(chromedp.CSS(`a[href="/admin/login"]`))); text != "Staff sign-in" {
		t.Errorf("the home page's staff link reads %q", text)
	}
	// (This test's server has no admin behind /admin/: serve mounts both.)
	b.Do(chromedp.Click(chromedp.CSS(`a[href="/admin/login"]`)))
	// Asked again until the new page answers: a question put while the
	// browser changes pages finds no page.
	loc := ""
	for deadline := time.Now().Add(15 * time.Second); loc != "/admin/login" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(b.Context(), 2*time.Second)
		loc, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`))
		cancel()
	}
	if loc != "/admin/login" {
		t.Errorf("the staff link went to %q, want /admin/login", loc)
	}
}
