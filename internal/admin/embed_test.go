package admin_test

import (
	"context"
	"html"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/browsertest"
	"github.com/herald-news/herald/internal/model"
)

// A public list's page gives editors the HTML of a subscribe form for
// another site, posting to the public web's embed endpoint.
func TestListPageShowsEmbedSnippet(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	l := &model.List{Slug: "weekend", Name: "Weekend Reads", Public: true}
	if err := e.st.CreateList(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	editor := e.login(auth.Editor)
	page := html.UnescapeString(editor.get("/admin/lists/" + strconv.FormatInt(l.ID, 10)))
	for _, want := range []string{
		`<form method="post" action="` + e.srv.URL + `/subscribe/weekend/embed">`,
		`<input id="herald-email" type="email" name="email" required autocomplete="email">`,
		`<input type="text" name="website" tabindex="-1" autocomplete="off">`, // the honeypot the endpoint checks
		`<button type="submit">Subscribe to Weekend Reads</button>`,
	} {
		if !strings.Contains(page, want) {
			t.Fatalf("the list page has no embed snippet with %q:\n%s", want, page)
		}
	}
	// A list not offered publicly cannot be joined from another site.
	page = editor.get("/admin/lists/" + e.ids["list"])
	if strings.Contains(page, "/subscribe/evening/embed") || !strings.Contains(page, "Offer the list on the public subscribe form") {
		t.Fatalf("a private list's page offers an embed snippet:\n%s", page)
	}
}

// TestBrowserEmbedSnippetAndPublishOption looks at the two in a real
// browser: the snippet is visible and selectable as text on a public
// list's page, and the new-campaign form shows the publish box.
func TestBrowserEmbedSnippetAndPublishOption(t *testing.T) {
	e := newEnv(t, nil)
	l := &model.List{Slug: "weekend", Name: "Weekend Reads", Public: true}
	if err := e.st.CreateList(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	b := browsertest.New(t)
	u := e.srv.URL
	b.Do(chromedp.Navigate(u+"/admin/login"), chromedp.WaitVisible(css("#email")),
		chromedp.SendKeys(css("#email"), "editor@example.com"), chromedp.SendKeys(css("#password"), password))
	clickNav(b, t, ".login-card button")
	b.Do(chromedp.Navigate(u+"/admin/lists/"+strconv.FormatInt(l.ID, 10)), chromedp.WaitVisible(css("#embed textarea")))
	if v := browsertest.Run(b, chromedp.Value(css("#embed textarea"))); !strings.HasPrefix(v, `<form method="post" action="`+u+`/subscribe/weekend/embed">`) {
		t.Errorf("the snippet box holds %q", v)
	}
	b.Screenshot("list-embed")
	b.Do(chromedp.Navigate(u+"/admin/campaigns/new"), chromedp.WaitVisible(css(`input[name=publish_on_start]`)))
	b.Screenshot("campaign-new")
	b.AssertNoProblems()
}
