package admin_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/herald-news/herald/internal/admin"
	"github.com/herald-news/herald/internal/browsertest"
	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/delivery/deliverytest"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
)

// signIn signs the browser in as role@example.com.
func signIn(b *browsertest.Browser, t *testing.T, base, role string) {
	t.Helper()
	b.Do(chromedp.Navigate(base+"/admin/login"), chromedp.WaitVisible(css("#email")),
		chromedp.SendKeys(css("#email"), role+"@example.com"), chromedp.SendKeys(css("#password"), password))
	clickNav(b, t, ".login-card button")
}

// TestBrowserOutboxViewIsNotAnOpen: a tracked campaign delivered into the
// built-in outbox is read there in Chromium; its HTML is shown without the
// open pixel, so the browser never asks for it and no open is counted.
func TestBrowserOutboxViewIsNotAnOpen(t *testing.T) {
	var eng *delivery.Engine
	e := newEnv(t, func(d *admin.Deps) {
		var err error
		eng, err = delivery.New(d.Store, delivery.Config{
			Sender: d.Outbox, Signer: deliverytest.Signer(t), BaseURL: d.BaseURL, FlushAfter: 20 * time.Millisecond, Poll: 50 * time.Millisecond,
			Freeze: delivery.EditionFreezer(d.Store, model.Publication{}, render.Options{}),
		})
		if err != nil {
			t.Fatal(err)
		}
		d.Engine = eng
	})
	deliverytest.Run(t, eng)
	ctx := context.Background()
	edID, _ := strconv.ParseInt(e.ids["edition"], 10, 64)
	tracked := &model.Campaign{Name: "Tracked", EditionID: edID, ListIDs: []int64{e.list.ID}, From: "Courier <news@example.com>", Tracking: true}
	if err := e.st.CreateCampaign(ctx, tracked); err != nil {
		t.Fatal(err)
	}
	id := tracked.ID
	if _, err := delivery.ChangeStatus(ctx, e.st, eng, id, delivery.Start, time.Time{}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, e.st, id, model.CampaignSent)
	items, err := e.outbox.List(0, 10)
	if err != nil || len(items) != 1 {
		t.Fatalf("outbox = %d messages, %v", len(items), err)
	}
	_, raw, err := e.outbox.Get(items[0].ID)
	if err != nil || !strings.Contains(strings.ReplaceAll(string(raw), "=\r\n", ""), "/o/") {
		t.Fatalf("the delivered message carries no open pixel (%v): the test would prove nothing", err)
	}

	b := browsertest.New(t)
	signIn(b, t, e.srv.URL, "owner")
	b.Do(chromedp.Navigate(e.srv.URL+"/admin/outbox/"+items[0].ID), chromedp.WaitVisible(css(".panel-email iframe")))
	b.Screenshot("outbox-message")
	// The frame's own document, as the frame loads it.
	b.Do(chromedp.Navigate(e.srv.URL+"/admin/outbox/"+items[0].ID+"/html"), chromedp.WaitReady(css("body")))
	waitJS(b, t, `document.readyState === "complete"`)
	asked := browsertest.Run(b, chromedp.Evaluate[[]string](`performance.getEntriesByType("resource").map(function (r) { return r.name; })`))
	for _, u := range asked {
		if strings.Contains(u, "/o/") {
			t.Errorf("viewing the message asked for the open pixel %s", u)
		}
	}
	if n := browsertest.Run(b, chromedp.Evaluate[int](`Array.from(document.images).filter(function (i) { return i.src.indexOf("/o/") >= 0; }).length`)); n != 0 {
		t.Errorf("the shown message still has %d open pixels", n)
	}
	if c, err := e.st.CampaignEventCounts(ctx, id); err != nil || c.Total[model.EventOpen] != 0 {
		t.Errorf("opens after viewing the outbox: %v, %v", c.Total, err)
	}
}

// TestBrowserTopLinksFitAt1280: at 1280 px the campaign page's Top links
// table shows every count, however long the link beside it.
func TestBrowserTopLinksFitAt1280(t *testing.T) {
	e, _ := sendingEnv(t, 3)
	ctx := context.Background()
	id, _ := strconv.ParseInt(e.ids["campaign"], 10, 64)
	if _, err := delivery.ChangeStatus(ctx, e.st, e.deps.Engine, id, delivery.Start, time.Time{}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, e.st, id, model.CampaignSent)
	c, _ := e.st.Campaign(ctx, id)
	long := "https://northgate-courier.example/2026/12/07/harbour-authority-publishes-the-full-text-of-the-ferry-agreement-with-annexes-and-the-timetable-for-the-winter-crossings?utm_source=herald&utm_medium=email"
	var evs []model.Event
	for i := range 3 {
		evs = append(evs, model.Event{Kind: model.EventClick, CampaignID: id, SubscriberID: int64(i + 2), URL: long, At: c.StartedAt.Add(time.Duration(i+1) * time.Minute)})
	}
	if err := e.st.RecordEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	b := browsertest.New(t)
	b.Do(chromedp.EmulateViewport(1280, 900))
	signIn(b, t, e.srv.URL, "editor")
	b.Do(chromedp.Navigate(e.srv.URL+"/admin/campaigns/"+e.ids["campaign"]), chromedp.WaitVisible(css("#top-links table")))
	inside := browsertest.Run(b, chromedp.Evaluate[bool](`(function () {
		var card = document.getElementById("top-links").getBoundingClientRect();
		var cells = document.querySelectorAll("#top-links td.num, #top-links th.num");
		if (!cells.length) return false;
		return Array.from(cells).every(function (td) { var r = td.getBoundingClientRect(); return r.right <= card.right + 0.5 && r.left >= card.left; })
			&& document.documentElement.scrollWidth <= window.innerWidth;
	})()`))
	if !inside {
		t.Error("a Top links count is cut off at 1280 px")
	}
	b.Screenshot("top-links-1280")
}

// TestBrowserListSlugCheckQuiet: typing a slug on the lists page raises no
// console error in Chromium (the pattern is valid under the v flag), and
// the check still refuses a bad slug.
func TestBrowserListSlugCheckQuiet(t *testing.T) {
	e := newEnv(t, nil)
	b := browsertest.New(t)
	signIn(b, t, e.srv.URL, "owner")
	b.Do(chromedp.Navigate(e.srv.URL+"/admin/lists"), chromedp.WaitVisible(css("#slug")))
	b.Do(chromedp.SendKeys(css("#slug"), "Bad Slug"))
	if valid := browsertest.Run(b, chromedp.Evaluate[bool](`document.getElementById("slug").checkValidity()`)); valid {
		t.Error("the slug check accepts “Bad Slug”")
	}
	if valid := browsertest.Run(b, chromedp.Evaluate[bool](`(function () { var s = document.getElementById("slug"); s.value = "morning-digest"; return s.checkValidity(); })()`)); !valid {
		t.Error("the slug check refuses “morning-digest”")
	}
	b.Screenshot("lists-slug")
	b.AssertNoProblems()
}
