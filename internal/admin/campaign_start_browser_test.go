package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/browsertest"
	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

// waitStatus waits until campaign id has status want.
func waitStatus(t *testing.T, st *store.Store, id int64, want model.CampaignStatus) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := st.Campaign(context.Background(), id)
		if err == nil && c.Status == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("campaign %d is %v (%v), want %s", id, c.Status, err, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// repeatEnv is a sending env whose newsroom is in Paris, whose campaign
// "Evening" already went to the list, and a second campaign of the same
// edition to the same list, not started.
func repeatEnv(t *testing.T) (*env, *model.Campaign) {
	t.Helper()
	e, _ := sendingEnv(t, 4) // with the env's reader: five on the list
	ctx := context.Background()
	if err := e.st.PutSettings(ctx, map[string]string{store.NewsroomZoneSetting: "Europe/Paris"}); err != nil {
		t.Fatal(err)
	}
	first, _ := strconv.ParseInt(e.ids["campaign"], 10, 64)
	if _, err := delivery.ChangeStatus(ctx, e.st, e.deps.Engine, first, delivery.Start, time.Time{}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, e.st, first, model.CampaignSent)
	edID, _ := strconv.ParseInt(e.ids["edition"], 10, 64)
	again := &model.Campaign{Name: "Evening, once more", EditionID: edID, ListIDs: []int64{e.list.ID}, From: "Courier <news@example.com>"}
	if err := e.st.CreateCampaign(ctx, again); err != nil {
		t.Fatal(err)
	}
	return e, again
}

// TestBrowserStartAsksFirst: "Start sending now" opens a dialog naming
// the list and its five readers and warning that the edition already went
// there; "Not now" leaves the campaign a draft. Scheduling 18:00 in
// January, in a Paris newsroom, sends at 17:00 UTC and the page says
// 18:00 CET. The dialog's button then starts the campaign.
func TestBrowserStartAsksFirst(t *testing.T) {
	e, again := repeatEnv(t)
	ctx := context.Background()
	b := browsertest.New(t)
	u := e.srv.URL
	b.Do(chromedp.Navigate(u+"/admin/login"), chromedp.WaitVisible(css("#email")),
		chromedp.SendKeys(css("#email"), "editor@example.com"), chromedp.SendKeys(css("#password"), password))
	clickNav(b, t, ".login-card button")
	page := u + "/admin/campaigns/" + strconv.FormatInt(again.ID, 10)
	b.Do(chromedp.Navigate(page), chromedp.WaitVisible(css("#start-form button")))

	b.Do(chromedp.Click(css("#start-form button")), chromedp.WaitVisible(css("#start-confirm")))
	text := browsertest.Run(b, chromedp.Text(css("#start-confirm")))
	for _, want := range []string{"Evening Briefing", "5 readers", "already went", "Start sending to 5 readers", "CET"} {
		if !strings.Contains(text, want) {
			t.Errorf("the start dialog lacks %q:\n%s", want, text)
		}
	}
	b.Screenshot("start-confirm-dialog")
	b.Do(chromedp.Click(css("#start-confirm [data-close]")))
	waitJS(b, t, `!document.getElementById("start-confirm").open`)
	if c, _ := e.st.Campaign(ctx, again.ID); c.Status != model.CampaignDraft {
		t.Fatalf("after Not now the campaign is %s", c.Status)
	}

	// One clock: 18:00 typed in Paris in winter is 17:00 UTC.
	if label := browsertest.Run(b, chromedp.Text(css(`label[for=send_at]`))); !strings.Contains(label, "Europe/Paris") {
		t.Errorf("the send-at field is labelled %q, not with the newsroom's zone", label)
	}
	b.Do(chromedp.SetValue(css("#send_at"), "2027-01-15T18:00"))
	clickNav(b, t, "#schedule button")
	c, err := e.st.Campaign(ctx, again.ID)
	if want := time.Date(2027, 1, 15, 17, 0, 0, 0, time.UTC); err != nil || !c.SendAt.Equal(want) || c.Status != model.CampaignScheduled {
		t.Fatalf("scheduled at %v (%s, %v), want %v", c.SendAt, c.Status, err, want)
	}
	schedule := browsertest.Run(b, chromedp.Text(css("#schedule")))
	if !strings.Contains(schedule, "2027-01-15 18:00 CET") {
		t.Errorf("the schedule card says %q, want 18:00 CET", schedule)
	}
	if v := browsertest.Run(b, chromedp.Evaluate[string](`document.getElementById("send_at").value`)); v != "2027-01-15T18:00" {
		t.Errorf("the send-at field holds %q, want the newsroom's 18:00", v)
	}
	b.Screenshot("scheduled-paris")

	b.Do(chromedp.Click(css("#start-form button")), chromedp.WaitVisible(css("#start-confirm")))
	clickNav(b, t, `#start-confirm button[type=submit]`)
	waitStatus(t, e.st, again.ID, model.CampaignSent)
	b.Do(chromedp.Navigate(page), chromedp.WaitVisible(css("#progress")))
	if s := browsertest.Run(b, chromedp.Text(css("#progress"))); !strings.Contains(s, "CET") {
		t.Errorf("the delivery card shows no newsroom time: %q", s)
	}
	b.Screenshot("started-after-confirm")
	b.AssertNoProblems()
}

// Without scripts, a start is a step of its own: a page naming the list,
// the readers and the earlier send, whose button starts the campaign.
func TestCampaignStartStepWithoutScripts(t *testing.T) {
	e, again := repeatEnv(t)
	editor := e.login(auth.Editor)
	start := "/admin/campaigns/" + strconv.FormatInt(again.ID, 10) + "/start"
	status, page := editor.postPage(start, url.Values{"csrf": {editor.csrf}})
	if status != http.StatusOK || !strings.Contains(page, "Evening Briefing") || !strings.Contains(page, "5 readers") ||
		!strings.Contains(page, `id="start-confirm-already"`) || !strings.Contains(page, `name="confirmed" value="1"`) {
		t.Fatalf("the start step: %d\n%s", status, page)
	}
	if c, _ := e.st.Campaign(context.Background(), again.ID); c.Status != model.CampaignDraft {
		t.Fatalf("the campaign is %s before anyone confirmed", c.Status)
	}
	if res := editor.post(start, url.Values{"csrf": {editor.csrf}, "confirmed": {"1"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirmed start = %d", res.StatusCode)
	}
	waitStatus(t, e.st, again.ID, model.CampaignSent)
}

// TestBrowserCampaignPageInFrench: a French editor reads a campaign's page,
// its status, its buttons and its start dialog in French.
func TestBrowserCampaignPageInFrench(t *testing.T) {
	e := newEnv(t, nil)
	if err := e.st.SetUserLanguage(context.Background(), e.users[auth.Editor].ID, "fr"); err != nil {
		t.Fatal(err)
	}
	b := browsertest.New(t)
	u := e.srv.URL
	b.Do(chromedp.Navigate(u+"/admin/login"), chromedp.WaitVisible(css("#email")),
		chromedp.SendKeys(css("#email"), "editor@example.com"), chromedp.SendKeys(css("#password"), password))
	clickNav(b, t, ".login-card button")
	b.Do(chromedp.Navigate(u+"/admin/campaigns/"+e.ids["campaign"]), chromedp.WaitVisible(css("#progress")))
	text := browsertest.Run(b, chromedp.Evaluate[string](`document.querySelector("main").textContent`))
	for _, want := range []string{"Lancer l’envoi maintenant", "brouillon", "Envoyer un test", "Programmation", "Distribution", "Pas encore lancée", "Lancer l’envoi\u00a0?"} {
		if !strings.Contains(text, want) {
			t.Errorf("the French campaign page lacks %q", want)
		}
	}
	for _, english := range []string{"Start sending now", "Send a test", "Not started", "Start sending?", "readers"} {
		if strings.Contains(text, english) {
			t.Errorf("the French campaign page still says %q", english)
		}
	}
	if lang := browsertest.Run(b, chromedp.Evaluate[string](`document.documentElement.lang`)); lang != "fr" {
		t.Errorf("lang = %q", lang)
	}
	b.Screenshot("campaign-fr")
	b.AssertNoProblems()
}
