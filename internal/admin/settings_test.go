package admin_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/admin"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/mailer"
)

// TestGeneratedDKIMKeySignsTestSendsAtOnce: a key generated in the settings
// signs the next test send, with no restart.
func TestGeneratedDKIMKeySignsTestSendsAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.login(auth.Owner)
	res := owner.post("/admin/settings/dkim", url.Values{"csrf": {owner.csrf}, "algorithm": {"ed25519"}, "selector": {"h2026"}, "domain": {"example.com"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("generate = %d", res.StatusCode)
	}
	res = owner.post("/admin/campaigns/"+e.ids["campaign"]+"/test", url.Values{"csrf": {owner.csrf}, "to": {"editor@example.com"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("test send = %d", res.StatusCode)
	}
	items, err := e.outbox.List(0, 10)
	if err != nil || len(items) != 1 {
		t.Fatalf("outbox = %d, %v", len(items), err)
	}
	_, raw, err := e.outbox.Get(items[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "DKIM-Signature:") || !strings.Contains(string(raw), "s=h2026") || !strings.Contains(string(raw), "d=example.com") {
		t.Fatalf("the test send is not signed with the new key:\n%.600s", raw)
	}
}

// TestRelayTestReachesAnAPIRelay: the settings page lists an HTTP API
// relay with its kind, and its Test connection opens a connection to the
// API (an SMTP greeting would never come from one).
func TestRelayTestReachesAnAPIRelay(t *testing.T) {
	t.Parallel()
	api := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(api.Close)
	up, err := mailer.ParseRelay("postmark://pm-token@api?name=postmark&endpoint=" + url.QueryEscape(api.URL))
	if err != nil {
		t.Fatal(err)
	}
	gone := httptest.NewServer(http.NotFoundHandler())
	down, err := mailer.ParseRelay("sendgrid://SG.key@api?name=sendgrid&endpoint=" + url.QueryEscape(gone.URL))
	gone.Close()
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(d *admin.Deps) { d.Relays = []mailer.RelayConfig{up, down} })
	owner := e.login(auth.Owner)
	if page := owner.get("/admin/settings"); !strings.Contains(page, "postmark") || strings.Contains(page, "pm-token") {
		t.Fatalf("settings page does not list the API relay, or shows its token")
	}
	if res := owner.post("/admin/settings/relays/test", url.Values{"csrf": {owner.csrf}, "relay": {"postmark"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("test = %d", res.StatusCode)
	}
	if page := owner.get("/admin/settings"); !strings.Contains(page, "postmark: reached the Postmark API") {
		t.Errorf("no success message for the reachable API relay")
	}
	owner.post("/admin/settings/relays/test", url.Values{"csrf": {owner.csrf}, "relay": {"sendgrid"}})
	if page := owner.get("/admin/settings"); !strings.Contains(page, "sendgrid: could not connect") {
		t.Errorf("no failure message for the unreachable API relay")
	}
}
