package admin_test

import (
	"bytes"
	"context"
	"fmt"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/herald-news/herald/internal/browsertest"
	"github.com/herald-news/herald/internal/model"
)

// TestBrowserABTest sets up an A/B subject test in the new campaign form,
// starts it, and reads the results once a winner is chosen: the winner's
// row is marked and every variant shows its sample, sends and unique
// opens.
func TestBrowserABTest(t *testing.T) {
	e, sink := sendingEnv(t, 39) // 40 readers with the fixture's own
	ctx := context.Background()
	b := browsertest.New(t)
	u := e.srv.URL
	b.Do(chromedp.Navigate(u+"/admin/"), chromedp.WaitVisible(css("#email")))
	b.Do(chromedp.SendKeys(css("#email"), "editor@example.com"), chromedp.SendKeys(css("#password"), password))
	clickNav(b, t, ".login-card button")
	b.Do(chromedp.Navigate(u+"/admin/campaigns/new"), chromedp.WaitVisible(css("form[action='/admin/campaigns']")))
	b.Do(chromedp.SetValue(css("#name"), "Harbour test"), chromedp.Click(css(`input[name=lists]`)),
		chromedp.SetValue(css(`input[aria-label="Subject line 1"]`), "Harbour deal signed tonight"),
		chromedp.SetValue(css(`input[aria-label="Subject line 2"]`), "The ferry strike is over"),
		chromedp.SetValue(css(`input[aria-label="Preheader 2"]`), "Nine days, one handshake"),
		chromedp.SetValue(css(`input[aria-label="Sample percent"]`), "20"))
	b.Screenshot("campaign-new-ab")
	clickNav(b, t, `form[action="/admin/campaigns"] button[type=submit]`)
	camps, err := e.st.Campaigns(ctx, 1)
	if err != nil || len(camps) == 0 || camps[0].AB == nil || len(camps[0].AB.Variants) != 2 || camps[0].AB.Wait != 2*time.Hour {
		t.Fatalf("the form made %+v, %v", camps, err)
	}
	c := camps[0]
	b.Do(chromedp.Click(css(`#start-form button`)), chromedp.WaitVisible(css(`#start-confirm`)))
	clickNav(b, t, `#start-confirm button[type=submit]`)
	// 20% of 40: four readers per subject line; 32 wait.
	deadline := time.Now().Add(30 * time.Second)
	for sink.Count() < 8 {
		if time.Now().After(deadline) {
			t.Fatalf("the sample was not sent: %d messages", sink.Count())
		}
		time.Sleep(20 * time.Millisecond)
	}
	var evs []model.Event
	for _, m := range sink.Messages() {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
		if err != nil {
			t.Fatal(err)
		}
		sub, err := e.st.SubscriberByEmail(ctx, m.To[0])
		if err != nil {
			t.Fatal(err)
		}
		if msg.Header.Get("Subject") == "The ferry strike is over" {
			evs = append(evs, model.Event{Kind: model.EventOpen, CampaignID: c.ID, SubscriberID: sub.ID, At: time.Now()})
		} else if len(evs) == 0 {
			evs = append(evs, model.Event{Kind: model.EventOpen, CampaignID: c.ID, SubscriberID: sub.ID, At: time.Now()},
				model.Event{Kind: model.EventClick, CampaignID: c.ID, SubscriberID: sub.ID, URL: "https://example.com", At: time.Now()})
		}
	}
	if err := e.st.RecordEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	b.Do(chromedp.Navigate(fmt.Sprintf("%s/admin/campaigns/%d", u, c.ID)), chromedp.WaitVisible(css("#ab-results")))
	if txt := browsertest.Run(b, chromedp.Text(css("#ab-results"))); !strings.Contains(txt, "32 readers wait for it") {
		t.Errorf("before the decision the results say %q", txt)
	}
	// Two hours on (the engine's own leader decides at that time; here
	// the store is asked directly with that time).
	started, err := e.st.Campaign(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if w, err := e.st.DecideABTest(ctx, c.ID, started.StartedAt.Add(2*time.Hour)); err != nil || w != 2 {
		t.Fatalf("DecideABTest = %d, %v", w, err)
	}
	for sink.Count() < 40 {
		if time.Now().After(deadline.Add(30 * time.Second)) {
			t.Fatalf("the rest was not sent: %d messages", sink.Count())
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.Do(chromedp.Navigate(fmt.Sprintf("%s/admin/campaigns/%d", u, c.ID)), chromedp.WaitVisible(css("#ab-results tr.winner")))
	winner := browsertest.Run(b, chromedp.Text(css("#ab-results tr.winner")))
	if !strings.Contains(winner, "The ferry strike is over") || !strings.Contains(strings.ToLower(winner), "winner") || !strings.Contains(winner, "100.0%") {
		t.Errorf("the winner's row reads %q", winner)
	}
	if txt := browsertest.Run(b, chromedp.Text(css("#ab-results"))); !strings.Contains(txt, "went to the other 32 readers") {
		t.Errorf("after the decision the results say %q", txt)
	}
	browsertest.Run(b, chromedp.Evaluate[bool](`document.getElementById("ab-results").scrollIntoView(), true`))
	b.Screenshot("ab-results")
	b.AssertNoProblems()
}
