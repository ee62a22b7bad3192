package admin_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/herald-news/herald/internal/admin"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/bounce"
	"github.com/herald-news/herald/internal/browsertest"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/token"
)

// A bounce shows on its subscriber's page and on its campaign's page, in
// the reporting server's words, escaped.
func TestBouncesShowOnSubscriberAndCampaign(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	subID, _ := strconv.ParseInt(e.ids["subscriber"], 10, 64)
	campID, _ := strconv.ParseInt(e.ids["campaign"], 10, 64)
	// Bounces come back for campaigns that went out.
	if _, err := e.st.StartCampaign(ctx, campID, model.Frozen{Subject: "Evening", HTML: []byte("<p>Hello</p>"), Text: []byte("Hello")}); err != nil {
		t.Fatal(err)
	}
	rec := &bounce.Recorder{Store: e.st}
	err := rec.Record(ctx, []bounce.Report{
		{Kind: model.EventSoftBounce, Email: "reader@example.org", SubscriberID: subID, CampaignID: campID, Detail: "4.2.2 <b>mailbox full</b>"},
		{Kind: model.EventBounce, Email: "reader@example.org", SubscriberID: subID, CampaignID: campID, Detail: "5.1.1 user unknown"},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := e.login(auth.Editor)
	for _, path := range []string{"/admin/subscribers/" + e.ids["subscriber"], "/admin/campaigns/" + e.ids["campaign"]} {
		page := c.get(path)
		i := strings.Index(page, "Bounces and complaints")
		if i < 0 {
			t.Fatalf("%s has no bounces card", path)
		}
		card := page[i:]
		for _, want := range []string{"hard bounce", "5.1.1 user unknown", "soft bounce", "4.2.2 &lt;b&gt;mailbox full&lt;/b&gt;"} {
			if !strings.Contains(card, want) {
				t.Errorf("%s: the bounces card lacks %q", path, want)
			}
		}
	}
}

// A test copy sent to a subscriber's address goes out with their VERP
// envelope sender, outside any campaign.
func TestTestCopyToASubscriberHasTheirVERP(t *testing.T) {
	t.Parallel()
	sig, err := token.NewSigner(bytes.Repeat([]byte("k"), 32))
	if err != nil {
		t.Fatal(err)
	}
	verp := bounce.VERP{Signer: sig, Domain: "bounces.example.com"}
	e := newEnv(t, func(d *admin.Deps) { d.Bounce = verp })
	c := e.login(auth.Owner)
	res := c.post("/admin/campaigns/"+e.ids["campaign"]+"/test", url.Values{"csrf": {c.csrf}, "to": {"reader@example.org"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("test send: %d", res.StatusCode)
	}
	items, err := e.outbox.List(0, 10)
	if err != nil || len(items) != 1 {
		t.Fatalf("outbox: %d items, %v", len(items), err)
	}
	subID, campID, err := verp.Claims(items[0].Envelope.From)
	if err != nil || strconv.FormatInt(subID, 10) != e.ids["subscriber"] || campID != 0 {
		t.Fatalf("envelope sender %q: subscriber %d, campaign %d, %v", items[0].Envelope.From, subID, campID, err)
	}
}

// TestBrowserBouncesCard: a reader's bounces and complaints, as a person
// sees them on the subscriber page in a real browser.
func TestBrowserBouncesCard(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	subID, _ := strconv.ParseInt(e.ids["subscriber"], 10, 64)
	campID, _ := strconv.ParseInt(e.ids["campaign"], 10, 64)
	rec := &bounce.Recorder{Store: e.st}
	if err := rec.Record(ctx, []bounce.Report{
		{Kind: model.EventSoftBounce, Email: "reader@example.org", SubscriberID: subID, CampaignID: campID, Detail: "4.2.2 452 4.2.2 mailbox over quota"},
		{Kind: model.EventComplaint, Email: "reader@example.org", SubscriberID: subID, CampaignID: campID, Detail: "complaint (abuse) from ISPFeedbackLoop/2.1"},
	}); err != nil {
		t.Fatal(err)
	}
	b := browsertest.New(t)
	u := e.srv.URL
	b.Do(chromedp.Navigate(u+"/admin/"), chromedp.WaitVisible(css("#email")))
	b.Do(chromedp.SendKeys(css("#email"), "editor@example.com"), chromedp.SendKeys(css("#password"), password))
	clickNav(b, t, ".login-card button")
	b.Do(chromedp.Navigate(u+"/admin/subscribers/"+e.ids["subscriber"]), chromedp.WaitVisible(css("#bounces")))
	text := browsertest.Run(b, chromedp.Text(css("#bounces")))
	for _, want := range []string{"Bounces and complaints", "complaint", "soft bounce", "mailbox over quota", "1 soft bounce in a row so far."} {
		if !strings.Contains(text, want) {
			t.Errorf("the bounces card lacks %q:\n%s", want, text)
		}
	}
	b.Screenshot("subscriber-bounces")
	b.AssertNoProblems()
}
