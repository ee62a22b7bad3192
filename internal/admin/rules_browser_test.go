package admin_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/herald-news/herald/internal/browsertest"
)

// TestBrowserCampaignFormShowsTheProblemBesideTheField: a From the rules
// refuse brings the form back with the message right under the From field,
// and what was typed still in it.
func TestBrowserCampaignFormShowsTheProblemBesideTheField(t *testing.T) {
	e := newEnv(t, nil)
	b := browsertest.New(t)
	u := e.srv.URL
	b.Do(chromedp.Navigate(u+"/admin/"), chromedp.WaitVisible(css("#email")))
	b.Do(chromedp.SendKeys(css("#email"), "editor@example.com"), chromedp.SendKeys(css("#password"), password))
	clickNav(b, t, ".login-card button")
	b.Do(chromedp.Navigate(u+"/admin/campaigns/new"), chromedp.WaitVisible(css("form[action='/admin/campaigns']")))
	b.Do(chromedp.SetValue(css("#name"), "Harbour night"), chromedp.Click(css(`input[name=lists]`)), chromedp.SetValue(css("#from"), "The Courier"))
	clickNav(b, t, `form[action="/admin/campaigns"] button[type=submit]`)
	b.Screenshot("campaign-new-problem")
	type shown struct {
		Message, From, Name string
		Below, Visible      bool
	}
	got := browsertest.Run(b, chromedp.Evaluate[shown](`(() => {
		const from = document.querySelector("#from"), p = from.parentElement.querySelector(".field-error");
		if (!p) return {Message: "", From: from.value, Name: document.querySelector("#name").value, Below: false, Visible: false};
		const f = from.getBoundingClientRect(), r = p.getBoundingClientRect();
		return {Message: p.textContent, From: from.value, Name: document.querySelector("#name").value,
			Below: r.top >= f.bottom && r.top - f.bottom < 24 && Math.abs(r.left - f.left) < 4, Visible: r.height > 0 && getComputedStyle(p).visibility === "visible"};
	})()`))
	if got.Message != "The From address should look like: The Courier <news@example.com>." || !got.Below || !got.Visible {
		t.Fatalf("the problem is not shown under the From field: %+v", got)
	}
	if got.From != "The Courier" || got.Name != "Harbour night" {
		t.Fatalf("what was typed is lost: %+v", got)
	}
}
