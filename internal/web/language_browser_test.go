package web_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/herald-news/herald/internal/browsertest"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/token"
)

// TestBrowserLanguages walks a reader of a German list and of an Arabic
// list through subscribe, confirm, unsubscribe and the preference centre in
// headless Chromium, with screenshots: every page carries the list's lang,
// the Arabic pages dir="rtl" and a computed right-to-left direction (the
// subscribe button sits at the start of the line, on the right), the German
// ones left to right.
func TestBrowserLanguages(t *testing.T) {
	b := browsertest.New(t)
	st := newSite(t, sqlite(t), nil)
	for _, tc := range []struct {
		lang, dir                                   string
		subscribe, checkInbox, confirm, unsub, pref string
	}{
		{"de", "ltr", "Abonnieren", "Bitte sehen Sie in Ihr Postfach", "Abonnement bestätigen", "Abbestellen", "Ihre Abonnements"},
		{"ar", "rtl", "اشترك", "تحقق من بريدك الوارد", "تأكيد الاشتراك", "إلغاء الاشتراك", "اشتراكاتك"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			l := st.addList(&model.List{Slug: "brief-" + tc.lang, Name: "The Evening Brief", OptIn: model.OptInDouble, Language: tc.lang})
			email := "reader-" + tc.lang + "@example.com"
			check := func(page, button, want string) {
				t.Helper()
				lang := browsertest.Run(b, chromedp.Evaluate[string](`document.documentElement.lang`))
				dir := browsertest.Run(b, chromedp.Evaluate[string](`document.documentElement.dir`))
				computed := browsertest.Run(b, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("main")).direction`))
				if lang != tc.lang || dir != tc.dir || computed != tc.dir {
					t.Errorf("%s: lang %q dir %q computed direction %q; want %s, %s", page, lang, dir, computed, tc.lang, tc.dir)
				}
				if got := browsertest.Run(b, chromedp.Text(chromedp.CSS(button))); got != want {
					t.Errorf("%s: %s reads %q, want %q", page, button, got, want)
				}
				// Right to left, a line starts on the right: the h1's text
				// ends nearer the right edge of its box than it starts.
				side := browsertest.Run(b, chromedp.Evaluate[string](`(() => {
					const h = document.querySelector("main h1"), r = document.createRange();
					r.selectNodeContents(h);
					const box = h.getBoundingClientRect(), text = r.getBoundingClientRect();
					return (text.left - box.left) > (box.right - text.right) ? "rtl" : "ltr";
				})()`))
				if side != tc.dir {
					t.Errorf("%s: the heading is laid out %s", page, side)
				}
				b.Screenshot(page + "-" + tc.lang)
			}

			b.Do(chromedp.Navigate(st.ts.URL+"/subscribe/"+l.Slug), chromedp.WaitVisible(chromedp.ID("email")))
			check("subscribe", "form.stack button[type=submit]", tc.subscribe)
			b.Do(
				chromedp.SendKeys(chromedp.ID("email"), email),
				chromedp.SendKeys(chromedp.ID("name"), "Robin Reader"),
				chromedp.Click(chromedp.CSS("form.stack button[type=submit]")),
				chromedp.WaitVisible(chromedp.CSS("section.notice h1")),
			)
			check("check-inbox", "section.notice h1", tc.checkInbox)

			var confirm string
			waitUntil(t, "the confirmation", func() bool {
				for _, m := range st.sink.Messages() {
					if m.To[0] == email {
						confirm = linkIn(t, m.Raw, "/confirm/")
					}
				}
				return confirm != ""
			})
			b.Do(chromedp.Navigate(confirm), chromedp.WaitVisible(chromedp.CSS("form button[type=submit]")))
			check("confirm", "form button[type=submit]", tc.confirm)
			b.Do(chromedp.Click(chromedp.CSS("form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("section.notice h1")))

			sub, err := st.store.SubscriberByEmail(context.Background(), email)
			if err != nil || st.status(sub.ID, l.ID) != model.SubConfirmed {
				t.Fatalf("not confirmed: %v", err)
			}
			unsub := st.signer.Sign(token.Claims{Purpose: token.Unsubscribe, SubscriberID: sub.ID, ListID: l.ID})
			b.Do(chromedp.Navigate(st.ts.URL+"/unsubscribe/"+unsub), chromedp.WaitVisible(chromedp.ID("unsubscribe")))
			check("unsubscribe", "#unsubscribe", tc.unsub)

			pref := st.signer.Sign(token.Claims{Purpose: token.Preferences, SubscriberID: sub.ID})
			b.Do(chromedp.Navigate(st.ts.URL+"/preferences/"+pref), chromedp.WaitVisible(chromedp.ID("save")))
			check("preferences", "main h1", tc.pref)
		})
	}
	b.AssertNoProblems()
}
