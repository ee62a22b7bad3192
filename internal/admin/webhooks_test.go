package admin_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/admin"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

// TestWebhookPages: an owner adds an endpoint (an ftp:// URL or an
// unknown event is refused in words), reads its signing secret, sends it
// a test event, sees the delivery with its status, attempts and next try,
// changes it and deletes it.
func TestWebhookPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	owner := e.login(auth.Owner)
	flash := func(path string) string {
		t.Helper()
		return html.UnescapeString(owner.get(path))
	}

	// A refused endpoint comes back as typed, each problem beside its
	// field and in the summary above the form.
	status, page := owner.postPage("/admin/webhooks", url.Values{"csrf": {owner.csrf}, "url": {"ftp://files.example.net/in"}, "event": {"subscriber.created"},
		"description": {"Files drop"}})
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("bad URL: %d", status)
	}
	if page := html.UnescapeString(page); !strings.Contains(page, "The webhook URL must start with https:// or http://, not ftp://.") ||
		!strings.Contains(page, `value="ftp://files.example.net/in"`) || !strings.Contains(page, `value="Files drop"`) || !strings.Contains(page, `id="error-summary"`) {
		t.Fatalf("no error for an ftp URL, or the form lost what was typed:\n%s", page)
	}
	_, page = owner.postPage("/admin/webhooks", url.Values{"csrf": {owner.csrf}, "url": {"https://crm.example.net/in"}, "event": {"subscriber.deleted"}})
	if page := html.UnescapeString(page); !strings.Contains(page, `Unknown event "subscriber.deleted"`) {
		t.Fatalf("no error for an unknown event")
	}
	if eps, _ := e.st.WebhookEndpoints(ctx); len(eps) != 0 {
		t.Fatalf("a refused endpoint was stored: %+v", eps)
	}

	res := owner.post("/admin/webhooks", url.Values{"csrf": {owner.csrf}, "url": {"https://crm.example.net/in"},
		"event": {"subscriber.created", "campaign.sent"}, "description": {"CRM sync"}})
	eps, _ := e.st.WebhookEndpoints(ctx)
	if len(eps) != 1 || res.Header.Get("Location") != fmt.Sprintf("/admin/webhooks/%d", eps[0].ID) {
		t.Fatalf("create: %v, %+v", res.Header.Get("Location"), eps)
	}
	ep := eps[0]
	if !ep.Active || len(ep.Events) != 2 || !strings.HasPrefix(ep.Secret, "whsec_") || ep.Description != "CRM sync" {
		t.Fatalf("endpoint = %+v", ep)
	}
	path := fmt.Sprintf("/admin/webhooks/%d", ep.ID)
	page = flash(path)
	if !strings.Contains(page, ep.Secret) || !strings.Contains(page, "Endpoint added") || !strings.Contains(page, "Nothing sent yet") {
		t.Fatalf("endpoint page:\n%s", page)
	}
	if list := flash("/admin/webhooks"); !strings.Contains(list, "https://crm.example.net/in") || strings.Contains(list, ep.Secret) {
		t.Fatal("the list does not show the endpoint, or shows its secret")
	}

	// Send test event: a delivery waits; a sender's failed try shows.
	if res := owner.post(path+"/test", url.Values{"csrf": {owner.csrf}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("test: %d", res.StatusCode)
	}
	jobs, err := e.st.ClaimWebhooks(ctx, 10, time.Minute)
	if err != nil || len(jobs) != 1 || jobs[0].Event != model.EventWebhookTest {
		t.Fatalf("claim = %+v, %v", jobs, err)
	}
	e.st.SettleWebhooks(ctx, []store.WebhookResult{{Job: jobs[0], Status: model.WebhookPending, RetryAt: time.Date(2031, 5, 6, 7, 8, 0, 0, time.UTC),
		Code: 502, Error: "answered 502 Bad Gateway"}})
	page = flash(path)
	for _, want := range []string{"Test event queued", "webhook.test", "waiting", ">502<", "answered 502 Bad Gateway", "2031-05-06 07:08 UTC"} {
		if !strings.Contains(page, want) {
			t.Errorf("deliveries do not show %q", want)
		}
	}

	// Save: turned off, other events, the secret kept; a test is refused.
	owner.post(path, url.Values{"csrf": {owner.csrf}, "url": {"https://crm.example.net/v2"}, "event": {"subscriber.bounced"}})
	got, _ := e.st.WebhookEndpoint(ctx, ep.ID)
	if got.Active || got.URL != "https://crm.example.net/v2" || len(got.Events) != 1 || got.Events[0] != model.EventSubscriberBounced || got.Secret != ep.Secret {
		t.Fatalf("after save: %+v", got)
	}
	owner.post(path+"/test", url.Values{"csrf": {owner.csrf}})
	if page := flash(path); !strings.Contains(page, "This endpoint is turned off") {
		t.Fatal("a test to an endpoint that is off was not refused")
	}
	owner.post(path+"/delete", url.Values{"csrf": {owner.csrf}})
	if _, err := e.st.WebhookEndpoint(ctx, ep.ID); err == nil {
		t.Fatal("not deleted")
	}
}

// TestSettingsShowRelayHealth: the settings page says which relay is out
// of rotation on this node and lists the recent failovers.
func TestSettingsShowRelayHealth(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 4, 18, 0, 0, 0, time.UTC)
	e := newEnv(t, func(d *admin.Deps) {
		for _, raw := range []string{"smtp://127.0.0.1:2525?name=primary", "smtp://127.0.0.1:2526?name=backup&priority=1"} {
			rc, err := mailer.ParseRelay(raw)
			if err != nil {
				t.Fatal(err)
			}
			d.Relays = append(d.Relays, rc)
		}
		d.RelayStats = func() []mailer.RelayStats {
			return []mailer.RelayStats{{Name: "primary", Breaker: mailer.BreakerOpen, Failed: 5, MaxConns: 4},
				{Name: "backup", Breaker: mailer.BreakerClosed, Sent: 1234, OpenConns: 2, MaxConns: 4}}
		}
		d.RelayChanges = func() []mailer.RotationEvent {
			return []mailer.RotationEvent{{Relay: "primary", At: at, Reason: "mail temporary via primary at connect: connection refused"}}
		}
	})
	page := html.UnescapeString(e.login(auth.Owner).get("/admin/settings"))
	for _, want := range []string{"out of rotation", "in rotation", "1,234", "2 of 4",
		"2026-03-04 18:00 UTC: <strong>primary</strong> taken out of rotation after repeated failures (mail temporary via primary at connect: connection refused)"} {
		if !strings.Contains(page, want) {
			t.Errorf("settings page does not show %q", want)
		}
	}
}
