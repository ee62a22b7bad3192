package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/doctor/dnstest"
	"github.com/herald-news/herald/internal/message"
)

func TestDoctorCommand(t *testing.T) {
	dir := t.TempDir()
	pemKey, err := message.GenerateKey("ed25519")
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "dkim.pem")
	if err := os.WriteFile(keyFile, pemKey, 0o600); err != nil {
		t.Fatal(err)
	}
	key, err := message.ParseKey(pemKey)
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := message.DNSRecord(key)
	srv := dnstest.Start(t,
		`relay.paper.test. 300 IN A 127.0.0.60`,
		`bounces.paper.test. 300 IN TXT "v=spf1 a:relay.paper.test -all"`, // the Return-Path's domain
		fmt.Sprintf(`mail._domainkey.paper.test. 300 IN TXT %q`, rec),
		`_dmarc.paper.test. 300 IN TXT "v=DMARC1; p=reject"`,
		`bounces.paper.test. 300 IN MX 10 mx.paper.test.`,
	)
	vars := map[string]string{
		"HERALD_FROM": "The Paper <news@paper.test>", "HERALD_RELAY_URL": "smtp://relay.paper.test:587?tls=starttls",
		"HERALD_DKIM_KEY_FILE": keyFile, "HERALD_DKIM_SELECTOR": "mail", "HERALD_DKIM_DOMAIN": "paper.test",
		"HERALD_BOUNCE_DOMAIN": "bounces.paper.test", "HERALD_DNS_RESOLVER": srv.Addr,
	}
	data := "--data=" + dir
	out, errs, code := herald(t, vars, nil, data, "doctor")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 4 {
		t.Fatalf("doctor on a good domain: %d\n%s%s", code, out, errs)
	}
	for i, name := range []string{"SPF", "DKIM", "DMARC", "MX"} {
		if !strings.HasPrefix(lines[i], "ok    "+name) {
			t.Errorf("line %d = %q, want ok %s", i, lines[i], name)
		}
	}
	// The bounce domain has no MX: one line fails, with the record to publish.
	vars["HERALD_BOUNCE_DOMAIN"] = "returns.paper.test"
	out, errs, code = herald(t, vars, nil, data, "doctor")
	if code != 1 || !strings.Contains(out, "fail  MX     returns.paper.test has no MX record") ||
		!strings.Contains(out, "MX: returns.paper.test. MX 10 mail.paper.test.") || !strings.Contains(errs, "some DNS records are missing or wrong") {
		t.Fatalf("doctor with no bounce MX: %d\n%s%s", code, out, errs)
	}
}
