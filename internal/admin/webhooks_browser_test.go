package admin_test

import (
	"context"
	"github.com/herald-news/herald/internal/unfurl"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/browsertest"
	"github.com/herald-news/herald/internal/webhook"
)

// TestBrowserWebhookTestEvent: in a real browser an owner adds an endpoint,
// presses "Send test event", and after a reload sees the delivery the
// sender made to a real receiver, with the receiver's answer.
func TestBrowserWebhookTestEvent(t *testing.T) {
	e := newEnv(t, nil)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) }))
	t.Cleanup(recv.Close)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- webhook.NewSender(e.st, webhook.Options{Poll: 20 * time.Millisecond, Allow: unfurl.Everywhere}).Run(ctx)
	}()
	t.Cleanup(func() { stop(); <-done })

	b := browsertest.New(t)
	u := e.srv.URL
	b.Do(chromedp.Navigate(u+"/admin/login"), chromedp.WaitVisible(css("#email")),
		chromedp.SendKeys(css("#email"), string(auth.Owner)+"@example.com"), chromedp.SendKeys(css("#password"), password))
	clickNav(b, t, ".login-card button")
	b.Do(chromedp.Navigate(u+"/admin/webhooks"), chromedp.WaitVisible(css("#url")), chromedp.SetValue(css("#url"), recv.URL+"/herald"),
		chromedp.SetValue(css("#description"), "Newsroom CRM"))
	b.Screenshot("webhooks-new")
	clickNav(b, t, `form[action="/admin/webhooks"] button`)
	if msg := browsertest.Run(b, chromedp.Text(css(".flash"))); !strings.Contains(msg, "Endpoint added") {
		t.Fatalf("after adding: %q", msg)
	}
	clickNav(b, t, `form[action$="/test"] button`)
	deadline := time.Now().Add(time.Minute)
	for {
		b.Do(chromedp.Reload(), chromedp.WaitVisible(css("#deliveries")))
		txt := strings.ToLower(browsertest.Run(b, chromedp.Text(css("#deliveries"))))
		if strings.Contains(txt, "delivered") && strings.Contains(txt, "202") && strings.Contains(txt, "webhook.test") {
			break
		}
		if time.Now().After(deadline) {
			b.Screenshot("failure")
			t.Fatalf("no delivery shown: %q", txt)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Screenshot("webhook-delivered")
	b.Do(chromedp.Navigate(u+"/admin/webhooks"), chromedp.WaitVisible(css("h1")))
	b.Screenshot("webhooks")
	b.AssertNoProblems()
}
