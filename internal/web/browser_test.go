package web_test

import (
	"context"
	"github.com/herald-news/herald/internal/delivery/deliverytest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/herald-news/herald/internal/browsertest"
	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/settings"
)

// publishSample stores the sample edition as a public, published edition
// whose pictures come from the site itself (tests use no network).
func (st *site) publishSample() *model.Edition {
	st.t.Helper()
	ctx := context.Background()
	pub := sample.Publication()
	pub.LogoURL = ""
	if err := st.store.SavePublication(ctx, pub); err != nil {
		st.t.Fatal(err)
	}
	e, err := sample.Edition()
	if err != nil {
		st.t.Fatal(err)
	}
	if e.Hero != nil {
		e.Hero.URL = st.ts.URL + "/favicon.svg"
	}
	e.Public = true
	e.Status = model.EditionPublished
	if err := st.store.CreateEdition(ctx, e, ""); err != nil {
		st.t.Fatal(err)
	}
	return e
}

// send runs a campaign of e to the list through the delivery engine, as
// `herald serve` does, and waits until it is sent. Its From is
// st.campaignFrom, else the list's brand's, else the Courier's.
func (st *site) send(e *model.Edition, l *model.List) *model.Campaign {
	st.t.Helper()
	ctx := context.Background()
	engine, err := delivery.New(st.store, delivery.Config{
		Sender: st.mailer, Signer: st.signer, BaseURL: st.ts.URL,
		Freeze:     delivery.EditionFreezer(st.store, model.Publication{}, render.Options{ArchiveURL: st.ts.URL + "/archive/"}),
		FlushAfter: 20 * time.Millisecond, Poll: 50 * time.Millisecond,
	})
	if err != nil {
		st.t.Fatal(err)
	}
	c := &model.Campaign{Name: e.Subject, EditionID: e.ID, ListIDs: []int64{l.ID}, From: st.campaignFrom, Tracking: true}
	if err := settings.FillSender(ctx, st.store, c, "Northgate Courier <news@example.com>"); err != nil {
		st.t.Fatal(err)
	}
	if err := st.store.CreateCampaign(ctx, c); err != nil {
		st.t.Fatal(err)
	}
	defer deliverytest.Run(st.t, engine)()
	if _, err := engine.Start(ctx, c.ID); err != nil {
		st.t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err := st.store.Campaign(ctx, c.ID)
		if err != nil {
			st.t.Fatal(err)
		}
		if got.Status == model.CampaignSent {
			return got
		}
		if time.Now().After(deadline) {
			st.t.Fatalf("campaign still %s", got.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestBrowserReaderJourney(t *testing.T) {
	b := browsertest.New(t)
	st := newSite(t, sqlite(t), nil)
	e := st.publishSample()
	const email = "reader@example.com"

	// Subscribe on the hosted page.
	b.Do(
		chromedp.Navigate(st.ts.URL+"/subscribe/daily"),
		chromedp.WaitVisible(chromedp.ID("email")),
	)
	b.Screenshot("subscribe")
	b.Do(
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("name"), "Robin Reader"),
		chromedp.Click(chromedp.CSS("form.stack button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("section.notice h1")),
	)
	if h := browsertest.Run(b, chromedp.Text(chromedp.CSS("section.notice h1"))); h != "Check your inbox" {
		t.Fatalf("after subscribing: %q", h)
	}
	b.Screenshot("check-inbox")

	// The confirmation arrives over SMTP; open its link and confirm.
	msgs := st.waitMail(1)
	confirm := linkIn(t, msgs[0].Raw, "/confirm/")
	b.Do(
		chromedp.Navigate(confirm),
		chromedp.WaitVisible(chromedp.CSS("form button[type=submit]")),
	)
	b.Screenshot("confirm")
	b.Do(
		chromedp.Click(chromedp.CSS("form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("section.notice h1")),
	)
	if h := browsertest.Run(b, chromedp.Text(chromedp.CSS("section.notice h1"))); h != "You are subscribed" {
		t.Fatalf("after confirming: %q", h)
	}
	sub, err := st.store.SubscriberByEmail(context.Background(), email)
	if err != nil || st.status(sub.ID, st.daily.ID) != model.SubConfirmed {
		t.Fatalf("not confirmed: %v", err)
	}

	// An edition goes out; its unsubscribe link opens a page with a button.
	c := st.send(e, st.daily)
	var edition []byte
	for _, m := range st.waitMail(2) {
		if strings.Contains(string(m.Raw), "List-Id:") && m.To[0] == email && !strings.Contains(string(m.Raw), "Confirm your subscription") {
			edition = m.Raw
		}
	}
	if edition == nil {
		t.Fatal("the edition did not arrive")
	}
	// The edition ends with "How was tonight's briefing?": the reader's
	// one-click rating opens a page (which records nothing), the button
	// records it, then the parts' ratings and a comment are offered.
	ctx := context.Background()
	fb := linkIn(t, edition, "/feedback/")
	b.Do(chromedp.Navigate(fb+"?r=3"), chromedp.WaitVisible(chromedp.ID("send-rating")))
	b.Screenshot("feedback-rate")
	if said, _ := st.store.CampaignFeedback(ctx, c.ID, 10); said.Responses != 0 {
		t.Fatal("opening the rating link recorded a rating")
	}
	if !browsertest.Run(b, chromedp.Evaluate[bool](`document.querySelector('input[name=r][value="3"]').checked`)) {
		t.Error("the rating the email's link chose is not selected")
	}
	b.Do(chromedp.Click(chromedp.ID("send-rating")), chromedp.WaitVisible(chromedp.ID("feedback-more")))
	if said, _ := st.store.CampaignFeedback(ctx, c.ID, 10); said.Responses != 1 || said.Ratings[3] != 1 {
		t.Fatalf("after sending the rating: %+v", said)
	}
	b.Screenshot("feedback-more")
	b.Do(
		chromedp.Click(chromedp.CSS(`input[name=s_picks][value="3"]`)),
		chromedp.Click(chromedp.CSS(`input[name=s_lead][value="1"]`)),
		chromedp.SendKeys(chromedp.ID("comment"), "More on the harbour, please."),
		chromedp.Click(chromedp.ID("send-more")),
		chromedp.WaitVisible(chromedp.ID("feedback-done-page")),
	)
	said, err := st.store.CampaignFeedback(ctx, c.ID, 10)
	if err != nil || said.Responses != 1 || said.Sections["picks"][3] != 1 || said.Sections["lead"][1] != 1 ||
		len(said.Comments) != 1 || said.Comments[0].Comment != "More on the harbour, please." || said.Comments[0].Email != email {
		t.Fatalf("after the comment: %+v, %v", said, err)
	}
	b.Screenshot("feedback-thanks")

	unsub := linkIn(t, edition, "/unsubscribe/")
	b.Do(
		chromedp.Navigate(unsub),
		chromedp.WaitVisible(chromedp.ID("unsubscribe")),
	)
	b.Screenshot("unsubscribe")
	if st.status(sub.ID, st.daily.ID) != model.SubConfirmed {
		t.Fatal("opening the unsubscribe page unsubscribed")
	}
	if page := browsertest.Run(b, chromedp.Text(chromedp.CSS("main"))); strings.Contains(page, "why you are leaving") {
		t.Fatal("the unsubscribe page asks why before the unsubscribe")
	}
	b.Do(
		chromedp.Click(chromedp.ID("unsubscribe")),
		chromedp.WaitVisible(chromedp.ID("feedback-leaving")),
	)
	if h := browsertest.Run(b, chromedp.Text(chromedp.CSS("section h1"))); h != "You are unsubscribed" {
		t.Fatalf("after unsubscribing: %q", h)
	}
	if st.status(sub.ID, st.daily.ID) != model.SubUnsubscribed {
		t.Fatal("the button did not unsubscribe")
	}
	// Then, and only then, the optional question.
	prefs := browsertest.Run(b, chromedp.Evaluate[string](`document.querySelector('section a[href^="/preferences/"]').href`))
	b.Screenshot("unsubscribed-why")
	b.Do(
		chromedp.Click(chromedp.CSS(`input[name=reason][value="too-many"]`)),
		chromedp.SendKeys(chromedp.CSS("#feedback-leaving textarea"), "Once a week would suit me."),
		chromedp.Click(chromedp.ID("send-why")),
		chromedp.WaitVisible(chromedp.ID("feedback-done-page")),
	)
	if said, _ := st.store.CampaignFeedback(ctx, c.ID, 10); said.Leaving["too-many"] != 1 || len(said.Comments) != 2 || said.Comments[0].Comment != "Once a week would suit me." {
		t.Fatalf("after the reason for leaving: %+v", said)
	}
	b.Do(
		chromedp.Navigate(prefs),
		chromedp.WaitVisible(chromedp.ID("save")),
	)
	if h := browsertest.Run(b, chromedp.Text(chromedp.CSS("h1"))); h != "Your subscriptions" {
		t.Fatalf("preference centre heading: %q", h)
	}
	b.Screenshot("preferences")

	// The archive, an edition page and the campaign's web link.
	b.Do(
		chromedp.Navigate(st.ts.URL+"/archive"),
		chromedp.WaitVisible(chromedp.CSS("ol.editions")),
	)
	b.Screenshot("archive")
	b.Do(
		chromedp.Click(chromedp.CSS("ol.editions h2 a")),
		chromedp.WaitVisible(chromedp.CSS("main#edition")),
	)
	if h := browsertest.Run(b, chromedp.Text(chromedp.CSS("h1"))); h != e.Subject {
		t.Fatalf("edition page heading %q, want %q", h, e.Subject)
	}
	b.Screenshot("edition")
	b.Do(
		chromedp.Navigate(st.ts.URL+"/archive/campaign/"+itoa(c.ID)),
		chromedp.WaitVisible(chromedp.CSS("main#edition")),
	)
	loc := browsertest.Run(b, chromedp.Location())
	if u, _ := url.Parse(loc); u.Path != "/archive/"+e.Slug {
		t.Fatalf("campaign web link landed on %s", loc)
	}
	b.AssertNoProblems()
}
