package doctor_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/doctor"
	"github.com/herald-news/herald/internal/doctor/dnstest"
	"github.com/herald-news/herald/internal/message"
)

func rsaKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func txt(t *testing.T, name, value string) string {
	return fmt.Sprintf("%s 300 IN TXT %s", name, message.SplitTXT(value))
}

func dkimRecord(t *testing.T, name string, key *message.DKIM) string {
	t.Helper()
	v, err := message.DNSRecord(key.Key)
	if err != nil {
		t.Fatal(err)
	}
	return txt(t, name, v)
}

func byName(checks []doctor.Check) map[string]doctor.Check {
	out := map[string]doctor.Check{}
	for _, c := range checks {
		out[c.Name] = c
	}
	return out
}

func TestGoodDomain(t *testing.T) {
	key := &message.DKIM{Domain: "good.test", Selector: "herald", Key: rsaKey(t)}
	srv := dnstest.Start(t,
		`relay.good.test. 300 IN A 127.0.0.53`,
		txt(t, "good.test.", "v=spf1 mx a:relay.good.test -all"),
		txt(t, "good.test.", "google-site-verification=abc"), // not SPF: ignored
		dkimRecord(t, "herald._domainkey.good.test.", key),
		txt(t, "_dmarc.good.test.", "v=DMARC1; p=quarantine; rua=mailto:d@good.test"),
		`bounces.good.test. 300 IN MX 10 mx.good.test.`,
	)
	checks := doctor.Run(context.Background(), doctor.Options{
		FromDomain: "good.test", BounceDomain: "bounces.good.test", DKIM: key,
		Relays:   []doctor.Relay{{Name: "main", Host: "relay.good.test"}},
		Resolver: doctor.NewResolver(srv.Addr),
	})
	for _, c := range checks {
		if c.Status != doctor.OK {
			t.Errorf("%s: %s %s (fix: %s)", c.Name, c.Status, c.Detail, c.Fix)
		}
	}
	if !doctor.AllOK(checks) || len(checks) != 4 {
		t.Fatalf("checks = %+v", checks)
	}
	got := byName(checks)
	if !strings.Contains(got["SPF"].Detail, "relay.good.test (127.0.0.53)") || !strings.Contains(got["DMARC"].Detail, "p=quarantine, aligned by DKIM (d=good.test) and SPF") {
		t.Errorf("details: %+v", checks)
	}
}

func TestBrokenDomain(t *testing.T) {
	key := &message.DKIM{Domain: "broken.test", Selector: "herald", Key: rsaKey(t)}
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	srv := dnstest.Start(t,
		`relay.broken.test. 300 IN A 127.0.0.54`,
		txt(t, "broken.test.", "v=spf1 ip4:192.0.2.0/24 -all"),
		dkimRecord(t, "herald._domainkey.broken.test.", &message.DKIM{Key: other}),
		`bounces.broken.test. 300 IN TXT "no mail here"`,
	)
	checks := doctor.Run(context.Background(), doctor.Options{
		FromDomain: "broken.test", BounceDomain: "bounces.broken.test", DKIM: key,
		Relays:   []doctor.Relay{{Name: "main", Host: "relay.broken.test"}},
		Resolver: doctor.NewResolver(srv.Addr),
	})
	if doctor.AllOK(checks) {
		t.Fatal("a broken domain passed")
	}
	got := byName(checks)
	want, _ := message.DNSRecord(key.Key)
	for name, c := range map[string]struct{ detail, fix string }{
		"SPF":   {"relay relay.broken.test (127.0.0.54) gets fail", `broken.test. TXT "v=spf1 ip4:192.0.2.0/24 a:relay.broken.test -all"`},
		"DKIM":  {"publishes another key than the one Herald signs with", "herald._domainkey.broken.test. TXT " + message.SplitTXT(want)},
		"DMARC": {"_dmarc.broken.test has no DMARC record", `_dmarc.broken.test. TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@broken.test"`},
		"MX":    {"bounces.broken.test has no MX record", "bounces.broken.test. MX 10 mail.broken.test."},
	} {
		ck := got[name]
		if ck.Status != doctor.Fail || !strings.Contains(ck.Detail, c.detail) || !strings.Contains(ck.Fix, c.fix) {
			t.Errorf("%s = %s %q\n fix %q\nwant detail %q, fix %q", name, ck.Status, ck.Detail, ck.Fix, c.detail, c.fix)
		}
	}
}

func TestSPFCases(t *testing.T) {
	long := "v=spf1"
	for i := range 90 { // over 1,232 bytes: the answer comes over TCP
		long += fmt.Sprintf(" ip4:198.51.%d.0/24", i)
	}
	long += " ip4:127.0.0.55 -all"
	srv := dnstest.Start(t,
		`relay.spf.test. 300 IN A 127.0.0.55`,
		txt(t, "none.test.", "v=other"),
		txt(t, "two.test.", "v=spf1 -all"),
		txt(t, "two.test.", "v=spf1 a -all"),
		txt(t, "big.test.", long),
		txt(t, "inc.test.", "v=spf1 include:_spf.inc.test ~all"),
		txt(t, "_spf.inc.test.", "v=spf1 ip4:127.0.0.0/24 -all"),
		txt(t, "redir.test.", "v=spf1 redirect=_spf.inc.test"),
		txt(t, "loop.test.", "v=spf1 include:loop.test -all"),
		txt(t, "pm.test.", "v=spf1 include:spf.mtasv.net -all"),
		txt(t, "spf.mtasv.net.", "v=spf1 ip4:50.31.156.96/27 -all"),
		txt(t, "nopm.test.", "v=spf1 a -all"),
		`nopm.test. 300 IN A 127.0.0.9`,
	)
	relay := []doctor.Relay{{Name: "main", Host: "relay.spf.test"}}
	for _, tc := range []struct {
		domain string
		relays []doctor.Relay
		status doctor.Status
		detail string
		fix    string
	}{
		{"none.test", relay, doctor.Fail, "none.test has no SPF record", `none.test. TXT "v=spf1 a:relay.spf.test ~all"`},
		{"two.test", relay, doctor.Fail, "two.test has 2 SPF records", ""},
		{"big.test", relay, doctor.OK, "big.test authorises relay.spf.test (127.0.0.55)", ""},
		{"inc.test", relay, doctor.OK, "authorises relay.spf.test", ""},
		{"redir.test", relay, doctor.OK, "authorises relay.spf.test", ""},
		{"loop.test", relay, doctor.Fail, "more than 10 DNS lookups", ""},
		{"pm.test", []doctor.Relay{{Name: "postmark", Provider: "postmark"}}, doctor.OK, "authorises postmark (include:spf.mtasv.net)", ""},
		{"nopm.test", []doctor.Relay{{Name: "postmark", Provider: "postmark"}}, doctor.Fail, "postmark's senders (include:spf.mtasv.net) are not authorised", `nopm.test. TXT "v=spf1 a include:spf.mtasv.net -all"`},
		{"none.test", nil, doctor.Skip, "no relay is configured", ""},
	} {
		t.Run(tc.domain, func(t *testing.T) {
			ck := byName(doctor.Run(context.Background(), doctor.Options{FromDomain: tc.domain, Relays: tc.relays, Resolver: doctor.NewResolver(srv.Addr)}))["SPF"]
			if ck.Status != tc.status || !strings.Contains(ck.Detail, tc.detail) || ck.Fix != tc.fix && tc.fix != "" {
				t.Errorf("SPF = %s %q, fix %q; want %s %q, fix %q", ck.Status, ck.Detail, ck.Fix, tc.status, tc.detail, tc.fix)
			}
		})
	}
	if srv.TCPQueries.Load() == 0 {
		t.Error("the long SPF record never came over TCP")
	}
}

func TestDMARCAlignment(t *testing.T) {
	key := &message.DKIM{Domain: "esp.test", Selector: "s1", Key: rsaKey(t)}
	srv := dnstest.Start(t,
		`relay.news.test. 300 IN A 127.0.0.56`,
		txt(t, "news.test.", "v=spf1 -all"),
		txt(t, "bounce.esp.test.", "v=spf1 a:relay.news.test -all"),
		dkimRecord(t, "s1._domainkey.esp.test.", key),
		txt(t, "_dmarc.news.test.", "v=DMARC1; p=reject"),
		txt(t, "_dmarc.sub.test.", "v=DMARC1; p=reject; sp=quarantine; adkim=s"),
		txt(t, "letters.sub.test.", "v=spf1 a:relay.news.test -all"),
	)
	r := doctor.NewResolver(srv.Addr)
	relays := []doctor.Relay{{Name: "main", Host: "relay.news.test"}}
	// DKIM passes for esp.test and SPF for bounce.esp.test: neither is news.test.
	ck := byName(doctor.Run(context.Background(), doctor.Options{FromDomain: "news.test", EnvelopeDomain: "bounce.esp.test", DKIM: key, Relays: relays, Resolver: r}))["DMARC"]
	if ck.Status != doctor.Fail || !strings.Contains(ck.Detail, "neither a passing DKIM signature nor SPF aligns with the From domain news.test") || !strings.Contains(ck.Fix, "dkim_domain = news.test") {
		t.Errorf("unaligned: %+v", ck)
	}
	// A subdomain falls back to its organisation's record and its sp=;
	// SPF aligns relaxed (aspf unset) though DKIM would need strict.
	ck = byName(doctor.Run(context.Background(), doctor.Options{FromDomain: "letters.sub.test", Relays: relays, Resolver: r}))["DMARC"]
	if ck.Status != doctor.OK || !strings.Contains(ck.Detail, "_dmarc.sub.test: p=quarantine, aligned by SPF (letters.sub.test)") {
		t.Errorf("organisational record: %+v", ck)
	}
}

// TestNoDNSServer: a resolver that does not answer fails every check with
// a sentence, not the resolver's raw error.
func TestNoDNSServer(t *testing.T) {
	checks := doctor.Run(context.Background(), doctor.Options{FromDomain: "quiet.test", BounceDomain: "b.quiet.test",
		Relays: []doctor.Relay{{Name: "main", Host: "relay.quiet.test"}}, Resolver: doctor.NewResolver("127.0.0.1:1"), Timeout: 3 * time.Second})
	if doctor.AllOK(checks) {
		t.Fatal("checks passed with no DNS server")
	}
	for _, c := range checks {
		if c.Status == doctor.Fail && c.Name != "DKIM" && (strings.Contains(c.Detail, "127.0.0.1") || !strings.Contains(c.Detail, "DNS") && !strings.Contains(c.Detail, "could not be found")) {
			t.Errorf("%s: %q", c.Name, c.Detail)
		}
	}
}
