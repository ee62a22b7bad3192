package admin_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/admin"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/doctor/dnstest"
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

// TestSettingsChecksTheSendingDomain: Settings looks up the domain's
// records on an in-process DNS server and shows each with what to publish.
func TestSettingsChecksTheSendingDomain(t *testing.T) {
	srv := dnstest.Start(t,
		`relay.desk.test. 300 IN A 127.0.0.70`,
		`bounces.desk.test. 300 IN TXT "v=spf1 a:relay.desk.test -all"`, // the Return-Path domain
		`_dmarc.desk.test. 300 IN TXT "v=DMARC1; p=none"`,
	)
	relay, err := mailer.ParseRelay("smtp://relay.desk.test:587?tls=starttls&name=main")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(d *admin.Deps) {
		d.Relays, d.From, d.DNSResolver, d.BounceDomain = []mailer.RelayConfig{relay}, "Desk <news@desk.test>", srv.Addr, "bounces.desk.test"
	})
	owner := e.login(auth.Owner)
	if page := owner.get("/admin/settings"); strings.Contains(page, "badge-red\">to fix") {
		t.Fatal("the checks ran before anyone asked")
	}
	res := owner.post("/admin/settings/dkim", url.Values{"csrf": {owner.csrf}, "algorithm": {"ed25519"}, "selector": {"h1"}, "domain": {"desk.test"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("generate = %d", res.StatusCode)
	}
	page := owner.get("/admin/settings?dns=1")
	for _, want := range []string{
		"bounces.desk.test authorises relay.desk.test (127.0.0.70)",
		"h1._domainkey.desk.test has no DKIM key record", "h1._domainkey.desk.test. TXT &#34;v=DKIM1; k=ed25519; p=",
		"_dmarc.desk.test: p=none, aligned by SPF (bounces.desk.test)",
		"bounces.desk.test has no MX record",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the settings page lacks %q", want)
		}
	}
}
