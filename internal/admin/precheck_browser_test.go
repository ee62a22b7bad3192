package admin_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/herald-news/herald/internal/admin"
	"github.com/herald-news/herald/internal/browsertest"
	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/edition"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/precheck"
	"github.com/herald-news/herald/internal/precheck/prechecktest"
	"github.com/herald-news/herald/internal/render"
)

// TestBrowserComposerPrecheckPanel: in a real browser the composer's
// "Before sending" panel fills in by itself with the broken link, and runs
// again after the editor fixes it and the edition autosaves.
func TestBrowserComposerPrecheckPanel(t *testing.T) {
	site := prechecktest.Site(t)
	e := newEnv(t, func(d *admin.Deps) {
		d.Precheck = &precheck.Editions{Checker: precheck.New(precheck.Options{Allow: prechecktest.Loopback}),
			Email: delivery.EditionEmail(d.Store, model.Publication{}, render.Options{}), BaseURL: d.BaseURL}
	})
	ed, err := edition.Parse([]byte(prechecktest.Edition(site)))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.CreateEdition(context.Background(), ed, ""); err != nil {
		t.Fatal(err)
	}
	b := browsertest.New(t)
	u := e.srv.URL
	b.Do(chromedp.Navigate(u+"/admin/"), chromedp.WaitVisible(css("#email")))
	b.Do(chromedp.SendKeys(css("#email"), "editor@example.com"), chromedp.SendKeys(css("#password"), password))
	clickNav(b, t, ".login-card button")

	b.Do(chromedp.Navigate(fmt.Sprintf("%s/admin/editions/%d", u, ed.ID)), chromedp.WaitVisible(css("#composer[data-ready]")))
	waitJS(b, t, `document.getElementById("precheck-state").textContent.indexOf("to look at") >= 0`)
	b.Screenshot("composer-precheck")
	list := browsertest.Run(b, chromedp.Text(css("#precheck-findings")))
	if !strings.Contains(list, "answers 404 Not Found") || !strings.Contains(list, site+"/gone") {
		t.Fatalf("the panel shows %q", list)
	}
	// The editor fixes the link; the autosave runs the checks again.
	body := browsertest.Run(b, chromedp.Value(css("textarea[name=s0_body]")))
	b.Do(chromedp.SetValue(css("textarea[name=s0_body]"), strings.ReplaceAll(body, site+"/gone", site+"/ok")))
	browsertest.Run(b, chromedp.Evaluate[bool](`document.querySelector("textarea[name=s0_body]").dispatchEvent(new Event("input", {bubbles: true}))`))
	waitJS(b, t, `document.getElementById("precheck-findings").textContent.indexOf("/gone") < 0 && document.getElementById("precheck-state").textContent.indexOf("fetched") >= 0`)
	b.AssertNoProblems()
}
