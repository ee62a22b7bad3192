package config

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLayering(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "herald.conf")
	os.WriteFile(file, []byte(`# Herald
data = "/srv/herald"
http_addr = 127.0.0.1:9000
workers = 2

[relay.main]
url = "smtp://u:p@127.0.0.1:2525?tls=none"
priority = 1
`), 0o600)
	secretFile := filepath.Join(dir, "key")
	os.WriteFile(secretFile, []byte(strings.Repeat("k", 40)+"\n"), 0o600)
	c, err := Load(Source{
		File:   file,
		Getenv: env(map[string]string{"HERALD_HTTP_ADDR": "127.0.0.1:9100", "HERALD_SECRET_KEY_FILE": secretFile, "HERALD_LOG_LEVEL": "debug"}),
		Flags:  map[string]string{"http_addr": "127.0.0.1:9200"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/srv/herald" || c.HTTPAddr != "127.0.0.1:9200" || c.Workers != 2 || c.LogLevel != slog.LevelDebug {
		t.Fatalf("layering wrong: %+v", c)
	}
	if c.SecretKey.Reveal() != strings.Repeat("k", 40) {
		t.Fatalf("secret from _FILE not read")
	}
	if len(c.Relays) != 1 || c.Relays[0].Priority != 1 || c.Relays[0].Weight != 1 {
		t.Fatalf("relays: %+v", c.Relays)
	}
	if c.BaseURL != "http://127.0.0.1:9200" {
		t.Fatalf("BaseURL default = %q", c.BaseURL)
	}
	printed := fmt.Sprintf("%v %+v %s", c, c, c.Relays[0].URL)
	if strings.Contains(printed, "kkkk") || strings.Contains(printed, "u:p@") {
		t.Fatalf("secret leaked in %s", printed)
	}
}

func TestSNSTopicsList(t *testing.T) {
	c, err := Load(Source{Getenv: env(map[string]string{"HERALD_WEBHOOK_SNS_TOPICS": " arn:aws:sns:eu-west-1:123:ses ,, arn:aws-cn:sns:cn-north-1:9:b"})})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"arn:aws:sns:eu-west-1:123:ses", "arn:aws-cn:sns:cn-north-1:9:b"}; !slices.Equal(c.SNSTopics, want) {
		t.Fatalf("topics = %q, want %q", c.SNSTopics, want)
	}
}

func TestDeliverabilityKeys(t *testing.T) {
	c, err := Load(Source{Getenv: env(map[string]string{"HERALD_RETENTION_EVENTS_DAYS": "400", "HERALD_RETENTION_LEDGER_DAYS": "0",
		"HERALD_STAGING_DOMAIN": " staging.example.com ,preview.example.net", "HERALD_DNS_RESOLVER": "127.0.0.1:5353"})})
	if err != nil {
		t.Fatal(err)
	}
	if c.RetentionEventsDays != 400 || c.RetentionLedgerDays != 0 || c.DNSResolver != "127.0.0.1:5353" ||
		!slices.Equal(c.StagingDomains, []string{"staging.example.com", "preview.example.net"}) {
		t.Fatalf("config = %+v", c)
	}
}

func TestDefaultsNeedNothing(t *testing.T) {
	c, err := Load(Source{Getenv: env(nil)})
	if err != nil || c.DataDir != "herald-data" || c.HTTPAddr != "127.0.0.1:8080" || c.DatabaseURL != "" {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
}

func TestInvalidValuesNameTheKey(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.conf")
	os.WriteFile(bad, []byte("workers = 2\nhttp_adr = x\n"), 0o600)
	cases := []struct {
		src  Source
		want string
	}{
		{Source{Getenv: env(map[string]string{"HERALD_WORKERS": "lots"})}, "HERALD_WORKERS: must be auto or a whole number"},
		{Source{Getenv: env(map[string]string{"HERALD_HTTP_ADDR": "8080"})}, "HERALD_HTTP_ADDR: must be host:port"},
		{Source{Getenv: env(map[string]string{"HERALD_DATABASE_URL": "mysql://x"})}, "HERALD_DATABASE_URL: must be a postgres:// URL"},
		{Source{Getenv: env(map[string]string{"HERALD_BASE_URL": "news.example.com"})}, "HERALD_BASE_URL: must be an absolute"},
		{Source{Getenv: env(map[string]string{"HERALD_SECRET_KEY": "short"})}, "HERALD_SECRET_KEY: must be at least 32"},
		{Source{Getenv: env(map[string]string{"HERALD_SECRET_KEY_FILE": filepath.Join(dir, "missing")})}, "HERALD_SECRET_KEY_FILE: cannot read"},
		{Source{Getenv: env(map[string]string{"HERALD_RELAY_URL": "http://x:1"})}, `relay "default": url scheme must be smtp, smtps, ses`},
		{Source{Getenv: env(map[string]string{"HERALD_WEBHOOK_SNS_TOPICS": "arn:aws:sns:eu-west-1:123:ses, my-topic"})}, `HERALD_WEBHOOK_SNS_TOPICS: "my-topic" is not an SNS topic ARN`},
		{Source{Getenv: env(map[string]string{"HERALD_SUNSET_MONTHS": "-1"})}, "HERALD_SUNSET_MONTHS: must be a whole number of months from 1 to 60"},
		{Source{Getenv: env(map[string]string{"HERALD_SUNSET_ACTION": "delete"})}, "HERALD_SUNSET_ACTION: must be segment or suppress"},
		{Source{Getenv: env(map[string]string{"HERALD_RETENTION_EVENTS_DAYS": "90d"})}, "HERALD_RETENTION_EVENTS_DAYS: must be a whole number of days, or 0 to keep them forever"},
		{Source{Getenv: env(map[string]string{"HERALD_RETENTION_LEDGER_DAYS": "-3"})}, "HERALD_RETENTION_LEDGER_DAYS: must be a whole number of days"},
		{Source{Getenv: env(map[string]string{"HERALD_STAGING_DOMAIN": "staging.example.com, http://preview"})}, `HERALD_STAGING_DOMAIN: "http://preview" is not a host name`},
		{Source{Getenv: env(map[string]string{"HERALD_DNS_RESOLVER": "127.0.0.1"})}, "HERALD_DNS_RESOLVER: must be host:port of a DNS server"},
		{Source{Getenv: env(map[string]string{"HERALD_SUNSET_SUPPRESS_AFTER_DAYS": "soon"})}, "HERALD_SUNSET_SUPPRESS_AFTER_DAYS: must be a whole number of days"},
		{Source{Getenv: env(nil), Flags: map[string]string{"log_level": "loud"}}, "--log-level"},
		{Source{Getenv: env(nil), File: bad}, "bad.conf:2: unknown key \"http_adr\""},
	}
	for _, c := range cases {
		_, err := Load(c.src)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want an error containing %q", err, c.want)
		}
	}
	_, err := Load(Source{Getenv: env(map[string]string{"HERALD_DATABASE_URL": "mysql://user:hunter2@x"})})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error leaks the secret: %v", err)
	}
}

func TestThemeFolder(t *testing.T) {
	file := filepath.Join(t.TempDir(), "herald.conf")
	os.WriteFile(file, []byte("theme = \"/srv/herald/themes/courier\"\n"), 0o600)
	for name, src := range map[string]Source{
		"file":        {File: file, Getenv: env(nil)},
		"environment": {Getenv: env(map[string]string{"HERALD_THEME": "/srv/herald/themes/courier"})},
		"flag":        {Getenv: env(map[string]string{"HERALD_THEME": "/elsewhere"}), Flags: map[string]string{"theme": "/srv/herald/themes/courier"}},
	} {
		c, err := Load(src)
		if err != nil || c.Theme != "/srv/herald/themes/courier" {
			t.Errorf("%s: theme = %q, %v", name, c.Theme, err)
		}
	}
	if c, _ := Load(Source{Getenv: env(nil)}); c.Theme != "" {
		t.Errorf("default theme = %q, want the built-in one", c.Theme)
	}
}

func TestMetricsToken(t *testing.T) {
	c, err := Load(Source{Getenv: env(map[string]string{"HERALD_METRICS_TOKEN": "a-long-enough-token-1234"})})
	if err != nil || c.MetricsToken.Reveal() != "a-long-enough-token-1234" || fmt.Sprint(c.MetricsToken) != "[redacted]" {
		t.Fatalf("token = %v, %v", c, err)
	}
	if c, _ := Load(Source{Getenv: env(nil)}); c.MetricsToken != "" {
		t.Fatal("metrics on by default")
	}
	for _, bad := range []string{"short", "has a space in the middle"} {
		_, err := Load(Source{Getenv: env(map[string]string{"HERALD_METRICS_TOKEN": bad})})
		if err == nil || !strings.Contains(err.Error(), "HERALD_METRICS_TOKEN: must be at least 16 characters, without spaces") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// TestAPIRelaysAndURLFiles: relay sections take the HTTP API relays'
// schemes, and url_file reads a relay's URL (which holds its credential)
// from a file, as HERALD_RELAY_URL_FILE does for the default relay.
func TestAPIRelaysAndURLFiles(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "postmark.url")
	os.WriteFile(secret, []byte("postmark://pm-token-77@api?stream=broadcast\n"), 0o600)
	file := filepath.Join(dir, "herald.conf")
	os.WriteFile(file, []byte(`[relay.postmark]
url_file = "`+secret+`"
priority = 0

[relay.ses]
url = "ses://AKIAEXAMPLE:c2VjcmV0@eu-west-1"
priority = 5
`), 0o600)
	c, err := Load(Source{File: file, Getenv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Relays) != 2 || c.Relays[0].URL.Reveal() != "postmark://pm-token-77@api?stream=broadcast" ||
		c.Relays[1].URL.Reveal() != "ses://AKIAEXAMPLE:c2VjcmV0@eu-west-1" || c.Relays[1].Priority != 5 {
		t.Fatalf("relays: %+v", c.Relays)
	}
	if printed := fmt.Sprintf("%+v", c.Relays); strings.Contains(printed, "pm-token-77") || strings.Contains(printed, "c2VjcmV0") {
		t.Fatalf("relay secrets printed: %s", printed)
	}
	os.WriteFile(file, []byte("[relay.x]\nurl_file = \""+filepath.Join(dir, "missing")+"\"\n"), 0o600)
	if _, err := Load(Source{File: file, Getenv: env(nil)}); err == nil || !strings.Contains(err.Error(), "url_file: cannot read") {
		t.Errorf("missing url_file: %v", err)
	}
	os.WriteFile(file, []byte("[relay.x]\nurl = \"mandrill://key@api\"\n"), 0o600)
	if _, err := Load(Source{File: file, Getenv: env(nil)}); err == nil || !strings.Contains(err.Error(), "smtp, smtps, ses, postmark, sendgrid or mailgun") {
		t.Errorf("unknown scheme: %v", err)
	}
}

// Workers default to the relays' capacity (0 tells the delivery engine to
// size itself by max_conns); a distant relay needs hundreds of them.
func TestWorkersAutoOrCounted(t *testing.T) {
	for in, want := range map[string]int{"": 0, "auto": 0, "300": 300, "4096": 4096} {
		c, err := Load(Source{Getenv: env(map[string]string{"HERALD_WORKERS": in})})
		if err != nil {
			t.Errorf("HERALD_WORKERS=%q: %v", in, err)
		} else if c.Workers != want {
			t.Errorf("HERALD_WORKERS=%q: workers %d, want %d", in, c.Workers, want)
		}
	}
	for _, in := range []string{"0", "4097", "-1"} {
		_, err := Load(Source{Getenv: env(map[string]string{"HERALD_WORKERS": in})})
		if err == nil || !strings.Contains(err.Error(), "HERALD_WORKERS: must be auto or a whole number from 1 to 4096") {
			t.Errorf("HERALD_WORKERS=%q: %v", in, err)
		}
	}
}

// TestOIDCSections: [oidc.NAME] sections with every key, the client secret
// read from a file and never printed, and a clear error for each mistake.
func TestOIDCSections(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "google.secret")
	os.WriteFile(secret, []byte("GOCSPX-very-secret\n"), 0o600)
	file := filepath.Join(dir, "herald.conf")
	os.WriteFile(file, []byte(`[oidc.google]
issuer = "https://accounts.google.com"
client_id = "1234.apps.googleusercontent.com"
client_secret_file = "`+secret+`"
allowed_domains = "courier.example, @northgate.example"
default_role = "author"
auto_create = true

[oidc.keycloak]
issuer = "https://auth.courier.example/application/o/herald/"
client_id = "herald"
client_secret = "kc-secret"
role_claim = "groups"
role_map = "/herald/owners:owner, urn:courier:editors:editor"
`), 0o600)
	c, err := Load(Source{File: file, Getenv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.OIDC) != 2 {
		t.Fatalf("providers: %+v", c.OIDC)
	}
	g, k := c.OIDC[0], c.OIDC[1]
	if g.Name != "google" || g.Issuer != "https://accounts.google.com" || g.ClientSecret.Reveal() != "GOCSPX-very-secret" ||
		strings.Join(g.AllowedDomains, " ") != "courier.example northgate.example" || g.DefaultRole != "author" || !g.AutoCreate {
		t.Fatalf("google: %+v", g)
	}
	if k.Issuer != "https://auth.courier.example/application/o/herald/" || k.RoleClaim != "groups" || k.RoleMap["/herald/owners"] != "owner" || k.RoleMap["urn:courier:editors"] != "editor" || k.AutoCreate {
		t.Fatalf("keycloak: %+v", k)
	}
	if printed := fmt.Sprintf("%+v %v", c.OIDC, c.OIDC); strings.Contains(printed, "very-secret") || strings.Contains(printed, "kc-secret") {
		t.Fatalf("client secrets printed: %s", printed)
	}
	for conf, want := range map[string]string{
		"[oidc.x]\nissuer = \"https://x.example\"\nclient_id = \"a\"\n":                                            "client_secret",
		"[oidc.x]\nissuer = \"x.example\"\nclient_id = \"a\"\nclient_secret = \"b\"\n":                             "issuer must be",
		"[oidc.x]\nrole_map = \"staff:chief\"\n":                                                                   `role "chief"`,
		"[oidc.x]\nissuer = \"https://x.example\"\nclient_id = \"a\"\nclient_secret = \"b\"\nauto_create = true\n": "auto_create needs",
		"[oidc.x]\nclient_secret_file = \"" + filepath.Join(dir, "missing") + "\"\n":                               "client_secret_file: cannot read",
		"[oidc.X Y]\n":                   "provider name",
		"[oidc.x]\nscopes = \"email\"\n": `unknown oidc key "scopes"`,
	} {
		os.WriteFile(file, []byte(conf), 0o600)
		if _, err := Load(Source{File: file, Getenv: env(nil)}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error about %s", conf, err, want)
		}
	}
}

func TestSQLiteSynchronousKey(t *testing.T) {
	c, err := Load(Source{Getenv: env(nil)})
	if err != nil || c.SQLiteSynchronous != "normal" {
		t.Fatalf("default %q, %v", c.SQLiteSynchronous, err)
	}
	c, err = Load(Source{Getenv: env(map[string]string{"HERALD_SQLITE_SYNCHRONOUS": "full"})})
	if err != nil || c.SQLiteSynchronous != "full" {
		t.Fatalf("full: %q, %v", c.SQLiteSynchronous, err)
	}
	if _, err := Load(Source{Getenv: env(map[string]string{"HERALD_SQLITE_SYNCHRONOUS": "off"})}); err == nil || !strings.Contains(err.Error(), "must be normal or full") {
		t.Fatalf("off: %v", err)
	}
}

func TestBounceKeys(t *testing.T) {
	c, err := Load(Source{Getenv: env(map[string]string{
		"HERALD_BOUNCE_DOMAIN":       "Bounces.News.Example.",
		"HERALD_BOUNCE_SMTP_ADDR":    "127.0.0.1:2525",
		"HERALD_BOUNCE_IMAP_URL":     "imaps://bounces:hunter2hunter2@imap.news.example/INBOX",
		"HERALD_SOFT_BOUNCE_LIMIT":   "5",
		"HERALD_WEBHOOK_MAILGUN_KEY": "mailgun-signing-key-0123456789",
	})})
	if err != nil {
		t.Fatal(err)
	}
	if c.BounceDomain != "bounces.news.example" || c.BounceSMTPAddr != "127.0.0.1:2525" || c.SoftBounceLimit != 5 ||
		!strings.HasPrefix(c.BounceIMAPURL.Reveal(), "imaps://bounces:") {
		t.Fatalf("bounce keys: %+v", c)
	}
	if c.MailgunKey.Reveal() != "mailgun-signing-key-0123456789" {
		t.Fatalf("webhook_mailgun_key = %q", c.MailgunKey.Reveal())
	}
	if printed := fmt.Sprintf("%v %+v", c, c); strings.Contains(printed, "hunter2") || strings.Contains(printed, "mailgun-signing") {
		t.Fatalf("IMAP password leaked in %s", printed)
	}
	if d, _ := Load(Source{Getenv: env(nil)}); d.SoftBounceLimit != 3 {
		t.Fatalf("soft_bounce_limit default = %d, want 3", d.SoftBounceLimit)
	}
	for k, v := range map[string]string{
		"HERALD_BOUNCE_DOMAIN":       "bounces@news.example",
		"HERALD_BOUNCE_SMTP_ADDR":    "port 25",
		"HERALD_BOUNCE_IMAP_URL":     "imap://u:p@host/INBOX",
		"HERALD_SOFT_BOUNCE_LIMIT":   "0",
		"HERALD_WEBHOOK_MAILGUN_KEY": "short",
	} {
		if _, err := Load(Source{Getenv: env(map[string]string{k: v})}); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%q: err = %v, want one naming the key", k, v, err)
		}
	}
}
