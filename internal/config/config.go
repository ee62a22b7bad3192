// Package config builds Herald's typed configuration from, in increasing
// precedence, built-in defaults, a config file, HERALD_* environment
// variables (secrets also from HERALD_*_FILE) and command-line flags. Every
// value is validated once, here, and refused with a message naming the key
// and where it came from. Secrets print as [redacted].
package config

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Secret is a string that never shows itself in logs or formatted output.
type Secret string

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// LogValue hides the value from slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Reveal returns the secret's value, for the one place that needs it.
func (s Secret) Reveal() string { return string(s) }

// Relay is one relay Herald can send through: an SMTP server or an email
// provider's HTTP API (see mailer.ParseRelay for the URL forms).
type Relay struct {
	Name     string
	URL      Secret // smtp://user:pass@host:port?tls=starttls&max_conns=4&rate=50, postmark://TOKEN@api, ...
	Priority int    // lower is tried first
	Weight   int    // share among relays of one priority
}

// OIDC is one single sign-on provider: an [oidc.NAME] section.
type OIDC struct {
	Name         string
	Issuer       string // https://accounts.google.com and the like
	ClientID     string
	ClientSecret Secret // client_secret, or the file client_secret_file names
	// AllowedDomains are the email domains that may sign in (empty: any).
	AllowedDomains []string
	// RoleClaim names the ID token claim with the groups (e.g. groups);
	// RoleMap maps its values to Herald roles ("group:role, …").
	RoleClaim string
	RoleMap   map[string]string
	// DefaultRole is the role when no group maps ("" : none, refused).
	DefaultRole string
	// AutoCreate creates a user at their first sign-in.
	AutoCreate bool
	// TrustUnverifiedEmail links an existing Herald account by an email
	// address the provider does not mark verified (email_verified absent,
	// as Microsoft Entra's tokens are); off, such a sign-in may only reach
	// an account already linked to that provider account.
	TrustUnverifiedEmail bool
}

// Config is Herald's whole configuration.
type Config struct {
	DataDir     string // SQLite database, outbox, generated keys
	DatabaseURL Secret // postgres://…; empty means SQLite in DataDir
	HTTPAddr    string // where herald serve listens
	BaseURL     string // public URL for links in mail and pages
	// BaseURLGuessed is set when no base_url is configured: BaseURL is
	// then http://<http_addr>, which no reader can reach, and campaigns
	// refuse to go out through relays (delivery.CheckLinks).
	BaseURLGuessed bool
	SecretKey      Secret // signs tokens; generated and kept in the database when empty
	AdminPassword  Secret // first owner's password; printed once when empty
	AdminEmail     string // first owner's sign-in address (admin@herald.local when empty)
	// MasterKey seals the secrets kept in the database (secretbox); empty
	// keeps them clear. MasterKeyPrevious opens ones sealed with the key
	// before, while `herald secrets reseal` rotates them.
	MasterKey         Secret
	MasterKeyPrevious Secret
	LogLevel          slog.Level
	LogFormat         string // text or json
	From              string // default From of campaigns
	// Workers is how many SMTP transactions a node runs at once; 0 (auto,
	// the default) is the relays' max_conns added up (4 with the outbox).
	Workers int
	// Lease is how long a delivery worker's claim on a row holds before
	// another node may send it again; RetryBase is the first retry delay
	// after a temporary failure. Zero takes the delivery engine's defaults
	// (5m and 1m); the fault suite sets them short.
	Lease     time.Duration
	RetryBase time.Duration
	// DKIM signs every message when all three are set.
	DKIMKeyFile  string // PEM private key, RSA (2048+) or Ed25519
	DKIMSelector string
	DKIMDomain   string
	Relays       []Relay
	// OIDC are the single sign-on providers, in the file's order.
	OIDC []OIDC
	// Theme is a folder whose email.html and web.html replace the default
	// theme's in every email, web page and preview Herald renders; empty:
	// the default theme.
	Theme string

	// Role says what this node does: all (default), web (pages and API,
	// no sending) or worker (sending, and /healthz only).
	Role string

	// Public web.
	Tracking      string // full, anonymous or off
	FormRateLimit int    // form posts a minute per client IP; 0 turns limits off
	TrustProxy    bool   // client IP from X-Forwarded-For (behind a proxy only)
	WebhookSecret Secret // authenticates bounce and complaint webhooks; empty turns them off
	Welcome       bool   // send a welcome message after a confirmation
	// WebhookAllowPrivate lets outgoing webhooks post to receivers on
	// loopback and private networks (refused by default: SSRF).
	WebhookAllowPrivate bool
	// SNSTopics, when set, are the only SNS topic ARNs whose messages
	// the SES webhook takes.
	SNSTopics []string
	// SendGridKey is the verification key of SendGrid's signed Event
	// Webhook (base64 DER, as SendGrid shows it); set, every SendGrid
	// post must carry a valid signature.
	SendGridKey string
	// MailgunKey is the webhook signing key of the Mailgun domain; set, it
	// turns on /webhooks/mailgun, whose posts must carry a valid signature.
	MailgunKey Secret

	// MetricsToken turns on /metrics (Prometheus) for requests that send
	// it as a bearer token; empty leaves /metrics off.
	MetricsToken Secret
	// SunsetMonths, when set, runs the sunset policy once a day: active
	// subscribers with no open or click for that many months get
	// SunsetAction (segment or suppress). 0 leaves it off.
	SunsetMonths int
	SunsetAction string
	// SunsetSuppressAfter, with the segment action, suppresses readers
	// silent in the re-engagement segment for this many days after being
	// sent mail there; 0 never does.
	SunsetSuppressAfter int
	// EngagementSignatures names a file of extra scanner and proxy
	// signatures (engage.ParseSignatures), tried after the built-in ones.
	EngagementSignatures string

	// Bounces by mail. BounceDomain, when set, makes each message's
	// envelope sender bounces+TOKEN@BounceDomain (VERP), so reports mailed
	// back name their subscriber and campaign. BounceSMTPAddr is where the
	// inbound SMTP listener for those reports listens (empty: no listener);
	// BounceIMAPURL is a mailbox polled for them
	// (imaps://user:pass@host/INBOX; empty: none). SoftBounceLimit soft
	// bounces in a row suppress an address (default 3).
	BounceDomain    string
	BounceSMTPAddr  string
	BounceIMAPURL   Secret
	SoftBounceLimit int

	// RetentionEventsDays and RetentionLedgerDays say how long raw opens
	// and clicks, and finished campaigns' ledger rows, are kept before the
	// scheduler leader folds them into counts; 0 keeps them forever.
	RetentionEventsDays int
	RetentionLedgerDays int

	// DNSResolver is the DNS server (host:port) herald doctor and the
	// settings page ask; empty: the system's resolver.
	DNSResolver string

	// StagingDomains are hosts of a staging or preview site: the pre-send
	// checks flag links to them (and their subdomains).
	StagingDomains []string
	// SQLiteSynchronous is SQLite's synchronous setting: normal (the
	// default: a power loss can lose the last commits, a crash cannot) or
	// full (every commit reaches the disk before it returns).
	SQLiteSynchronous string
}

// SQLitePath is where the embedded database lives.
func (c *Config) SQLitePath() string { return filepath.Join(c.DataDir, "herald.db") }

// Source tells where configuration comes from.
type Source struct {
	File     string // config file path, or ""
	Getenv   func(string) string
	Flags    map[string]string // key -> value, from command-line flags
	ReadFile func(string) ([]byte, error)
}

type key struct {
	name   string
	secret bool
	set    func(c *Config, v string) error
}

// keys is the table of plain configuration keys. Key "x_y" is HERALD_X_Y in
// the environment and x_y in the config file.
func keys() []key {
	return []key{
		{"data", false, func(c *Config, v string) error { c.DataDir = v; return nil }},
		{"database_url", true, func(c *Config, v string) error {
			if v != "" && !strings.HasPrefix(v, "postgres://") && !strings.HasPrefix(v, "postgresql://") {
				return errors.New("must be a postgres:// URL (leave it empty for the embedded SQLite database)")
			}
			c.DatabaseURL = Secret(v)
			return nil
		}},
		{"http_addr", false, func(c *Config, v string) error {
			if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
				return errors.New("must be host:port, such as 127.0.0.1:8080")
			}
			c.HTTPAddr = v
			return nil
		}},
		{"base_url", false, func(c *Config, v string) error {
			u, err := url.Parse(v)
			if v != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
				return errors.New("must be an absolute http(s) URL, such as https://news.example.com")
			}
			c.BaseURL = strings.TrimSuffix(v, "/")
			return nil
		}},
		{"secret_key", true, func(c *Config, v string) error {
			if v != "" && len(v) < 32 {
				return errors.New("must be at least 32 characters")
			}
			c.SecretKey = Secret(v)
			return nil
		}},
		{"admin_password", true, func(c *Config, v string) error { c.AdminPassword = Secret(v); return nil }},
		{"master_key", true, func(c *Config, v string) error {
			if v != "" && len(v) < 32 {
				return errors.New("must be at least 32 characters")
			}
			c.MasterKey = Secret(v)
			return nil
		}},
		{"master_key_previous", true, func(c *Config, v string) error {
			if v != "" && len(v) < 32 {
				return errors.New("must be at least 32 characters")
			}
			c.MasterKeyPrevious = Secret(v)
			return nil
		}},
		{"admin_email", false, func(c *Config, v string) error {
			if v != "" && !strings.Contains(v, "@") {
				return errors.New("must be an email address")
			}
			c.AdminEmail = v
			return nil
		}},
		{"log_level", false, func(c *Config, v string) error {
			return c.LogLevel.UnmarshalText([]byte(v))
		}},
		{"log_format", false, func(c *Config, v string) error {
			if v != "text" && v != "json" {
				return errors.New("must be text or json")
			}
			c.LogFormat = v
			return nil
		}},
		{"from", false, func(c *Config, v string) error { c.From = v; return nil }},
		{"workers", false, func(c *Config, v string) error {
			if strings.EqualFold(v, "auto") {
				c.Workers = 0
				return nil
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 4096 {
				return errors.New("must be auto or a whole number from 1 to 4096")
			}
			c.Workers = n
			return nil
		}},
		{"lease", false, durationKey(func(c *Config, d time.Duration) { c.Lease = d })},
		{"retry_base", false, durationKey(func(c *Config, d time.Duration) { c.RetryBase = d })},
		{"theme", false, func(c *Config, v string) error { c.Theme = v; return nil }},
		{"dkim_key_file", false, func(c *Config, v string) error { c.DKIMKeyFile = v; return nil }},
		{"dkim_selector", false, func(c *Config, v string) error { c.DKIMSelector = v; return nil }},
		{"dkim_domain", false, func(c *Config, v string) error { c.DKIMDomain = strings.ToLower(v); return nil }},
		{"role", false, func(c *Config, v string) error {
			if v != "all" && v != "web" && v != "worker" {
				return errors.New("must be all, web or worker")
			}
			c.Role = v
			return nil
		}},
		{"sqlite_synchronous", false, func(c *Config, v string) error {
			if v != "normal" && v != "full" {
				return errors.New("must be normal or full")
			}
			c.SQLiteSynchronous = v
			return nil
		}},
		{"tracking", false, func(c *Config, v string) error {
			if v != "full" && v != "anonymous" && v != "off" {
				return errors.New("must be full, anonymous or off")
			}
			c.Tracking = v
			return nil
		}},
		{"form_rate_limit", false, func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return errors.New("must be a whole number of posts a minute, 0 for no limit")
			}
			c.FormRateLimit = n
			return nil
		}},
		{"sunset_months", false, func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 60 {
				return errors.New("must be a whole number of months from 1 to 60, or 0 for no sunset policy")
			}
			c.SunsetMonths = n
			return nil
		}},
		{"sunset_action", false, func(c *Config, v string) error {
			if v != "segment" && v != "suppress" {
				return errors.New("must be segment or suppress")
			}
			c.SunsetAction = v
			return nil
		}},
		{"retention_events_days", false, daysKey(func(c *Config, n int) { c.RetentionEventsDays = n })},
		{"retention_ledger_days", false, daysKey(func(c *Config, n int) { c.RetentionLedgerDays = n })},
		{"staging_domain", false, func(c *Config, v string) error {
			c.StagingDomains = nil
			for _, d := range strings.Split(v, ",") {
				d = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
				if d == "" {
					continue
				}
				if strings.ContainsAny(d, " /@:") {
					return fmt.Errorf("%q is not a host name (write staging.example.com, several separated by commas)", d)
				}
				c.StagingDomains = append(c.StagingDomains, d)
			}
			return nil
		}},
		{"dns_resolver", false, func(c *Config, v string) error {
			if _, port, err := net.SplitHostPort(v); v != "" && (err != nil || port == "") {
				return errors.New("must be host:port of a DNS server, such as 127.0.0.1:53, or empty for the system's resolver")
			}
			c.DNSResolver = v
			return nil
		}},
		{"sunset_suppress_after_days", false, func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 3650 {
				return errors.New("must be a whole number of days, or 0 never to suppress readers in the re-engagement segment")
			}
			c.SunsetSuppressAfter = n
			return nil
		}},
		{"engagement_signatures", false, func(c *Config, v string) error { c.EngagementSignatures = v; return nil }},
		{"trust_proxy", false, boolKey(func(c *Config, b bool) { c.TrustProxy = b })},
		{"welcome", false, boolKey(func(c *Config, b bool) { c.Welcome = b })},
		{"webhook_allow_private", false, boolKey(func(c *Config, b bool) { c.WebhookAllowPrivate = b })},
		{"webhook_secret", true, func(c *Config, v string) error {
			if v != "" && len(v) < 16 {
				return errors.New("must be at least 16 characters")
			}
			c.WebhookSecret = Secret(v)
			return nil
		}},
		{"webhook_sns_topics", false, func(c *Config, v string) error {
			c.SNSTopics = nil
			for _, arn := range strings.Split(v, ",") {
				arn = strings.TrimSpace(arn)
				if arn == "" {
					continue
				}
				if !strings.HasPrefix(arn, "arn:") || strings.Count(arn, ":") != 5 || !strings.Contains(arn, ":sns:") {
					return fmt.Errorf("%q is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)", arn)
				}
				c.SNSTopics = append(c.SNSTopics, arn)
			}
			return nil
		}},
		{"webhook_sendgrid_key", false, func(c *Config, v string) error {
			c.SendGridKey = strings.TrimSpace(v)
			return nil
		}},
		{"webhook_mailgun_key", true, func(c *Config, v string) error {
			v = strings.TrimSpace(v)
			if v != "" && (len(v) < 16 || strings.ContainsAny(v, " \t\r\n")) {
				return errors.New("must be the webhook signing key Mailgun shows (Sending → Webhooks), without spaces")
			}
			c.MailgunKey = Secret(v)
			return nil
		}},
		{"metrics_token", true, func(c *Config, v string) error {
			if v != "" && (len(v) < 16 || strings.ContainsAny(v, " \t\r\n")) {
				return errors.New("must be at least 16 characters, without spaces")
			}
			c.MetricsToken = Secret(v)
			return nil
		}},
		{"bounce_domain", false, func(c *Config, v string) error {
			v = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(v), "."))
			if v != "" && (!strings.Contains(v, ".") || strings.ContainsAny(v, "@/: \t")) {
				return errors.New("must be a domain name, such as bounces.news.example (no @ or scheme)")
			}
			c.BounceDomain = v
			return nil
		}},
		{"bounce_smtp_addr", false, func(c *Config, v string) error {
			if v != "" {
				if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
					return errors.New("must be host:port, such as 0.0.0.0:25 or 127.0.0.1:2525")
				}
			}
			c.BounceSMTPAddr = v
			return nil
		}},
		{"bounce_imap_url", true, func(c *Config, v string) error {
			if v != "" {
				u, err := url.Parse(v)
				if err != nil || u.Scheme != "imaps" || u.Host == "" || u.User == nil {
					return errors.New("must be imaps://user:password@host/INBOX (IMAP over TLS)")
				}
				if _, ok := u.User.Password(); !ok {
					return errors.New("must carry the password: imaps://user:password@host/INBOX")
				}
			}
			c.BounceIMAPURL = Secret(v)
			return nil
		}},
		{"soft_bounce_limit", false, func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 100 {
				return errors.New("must be a whole number from 1 to 100")
			}
			c.SoftBounceLimit = n
			return nil
		}},
		{"relay_url", true, func(c *Config, v string) error {
			return c.setRelay("default", "url", v)
		}},
	}
}

// Defaults returns the configuration of a first run: SQLite in ./herald-data,
// HTTP on 127.0.0.1:8080, the built-in outbox as mail transport.
func Defaults() *Config {
	return &Config{
		DataDir:   "herald-data",
		HTTPAddr:  "127.0.0.1:8080",
		LogLevel:  slog.LevelInfo,
		LogFormat: "text",
		From:      "Herald <newsletter@localhost.localdomain>",

		Role:          "all",
		Tracking:      "full",
		FormRateLimit: 20,
		SunsetAction:  "segment",

		SoftBounceLimit:   3,
		SQLiteSynchronous: "normal",
	}
}

func boolKey(set func(c *Config, b bool)) func(c *Config, v string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("must be true or false")
		}
		set(c, b)
		return nil
	}
}

// daysKey reads a retention in days: 0 (keep forever) to 100 years.
func daysKey(set func(c *Config, n int)) func(c *Config, v string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 || n > 36500 {
			return errors.New("must be a whole number of days, or 0 to keep them forever")
		}
		set(c, n)
		return nil
	}
}

func durationKey(set func(c *Config, d time.Duration)) func(c *Config, v string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return errors.New("must be a positive duration, such as 30s or 5m")
		}
		set(c, d)
		return nil
	}
}

// Load builds the configuration from src.
func Load(src Source) (*Config, error) {
	if src.Getenv == nil {
		src.Getenv = os.Getenv
	}
	if src.ReadFile == nil {
		src.ReadFile = os.ReadFile
	}
	c := Defaults()
	table := keys()
	byName := make(map[string]key, len(table))
	for _, k := range table {
		byName[k.name] = k
	}
	if src.File != "" {
		if err := c.loadFile(src, byName); err != nil {
			return nil, err
		}
	}
	for _, k := range table {
		env := "HERALD_" + strings.ToUpper(k.name)
		v, ok := lookup(src.Getenv, env)
		if k.secret {
			if path, fok := lookup(src.Getenv, env+"_FILE"); fok {
				b, err := src.ReadFile(path)
				if err != nil {
					return nil, fmt.Errorf("config: %s_FILE: cannot read %s: %w", env, path, errors.Unwrap(err))
				}
				v, ok = strings.TrimRight(string(b), "\r\n"), true
			}
		}
		if ok {
			if err := k.set(c, v); err != nil {
				return nil, fmt.Errorf("config: %s: %w", env, err)
			}
		}
	}
	names := make([]string, 0, len(src.Flags))
	for n := range src.Flags {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		k, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("config: unknown flag key %q", n)
		}
		if err := k.set(c, src.Flags[n]); err != nil {
			return nil, fmt.Errorf("config: --%s: %w", strings.ReplaceAll(n, "_", "-"), err)
		}
	}
	if c.BaseURL == "" {
		c.BaseURL, c.BaseURLGuessed = "http://"+c.HTTPAddr, true
	}
	if set := btoi(c.DKIMKeyFile != "") + btoi(c.DKIMSelector != "") + btoi(c.DKIMDomain != ""); set != 0 && set != 3 {
		return nil, errors.New("config: DKIM needs all of dkim_key_file, dkim_selector and dkim_domain")
	}
	for _, r := range c.Relays {
		if err := validRelay(r); err != nil {
			return nil, fmt.Errorf("config: relay %q: %w", r.Name, err)
		}
	}
	for _, o := range c.OIDC {
		if err := validOIDC(o); err != nil {
			return nil, fmt.Errorf("config: [oidc.%s]: %w", o.Name, err)
		}
	}
	return c, nil
}

func lookup(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

// loadFile reads a small TOML-like file: `key = value` lines, # comments,
// quoted or bare values, and [relay.NAME] sections with url (or url_file,
// a file holding the URL, which carries the relay's credential), priority
// and weight.
func (c *Config) loadFile(src Source, byName map[string]key) error {
	b, err := src.ReadFile(src.File)
	if err != nil {
		return fmt.Errorf("config: cannot read %s: %w", src.File, errors.Unwrap(err))
	}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		where := fmt.Sprintf("config: %s:%d", src.File, line)
		if strings.HasPrefix(text, "[") {
			if !strings.HasSuffix(text, "]") {
				return fmt.Errorf("%s: a section header must end with ]", where)
			}
			section = strings.TrimSpace(text[1 : len(text)-1])
			kind, name, _ := strings.Cut(section, ".")
			if kind != "relay" && kind != "oidc" || name == "" {
				return fmt.Errorf("%s: unknown section [%s] (only [relay.NAME] and [oidc.NAME] sections exist)", where, section)
			}
			if kind == "oidc" && !validProviderName(name) {
				return fmt.Errorf("%s: [%s]: a provider name has lower-case letters, digits and dashes only (it is part of the redirect URI)", where, section)
			}
			continue
		}
		name, value, ok := strings.Cut(text, "=")
		if !ok {
			return fmt.Errorf("%s: expected key = value", where)
		}
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if uq, err := strconv.Unquote(value); err == nil {
			value = uq
		}
		if p, ok := strings.CutPrefix(section, "oidc."); ok {
			if name == "client_secret_file" {
				b, err := src.ReadFile(value)
				if err != nil {
					return fmt.Errorf("%s: client_secret_file: cannot read %s: %w", where, value, errors.Unwrap(err))
				}
				name, value = "client_secret", strings.TrimSpace(string(b))
			}
			if err := c.setOIDC(p, name, value); err != nil {
				return fmt.Errorf("%s: %s: %w", where, name, err)
			}
			continue
		}
		if section != "" {
			if name == "url_file" {
				b, err := src.ReadFile(value)
				if err != nil {
					return fmt.Errorf("%s: url_file: cannot read %s: %w", where, value, errors.Unwrap(err))
				}
				name, value = "url", strings.TrimSpace(string(b))
			}
			if err := c.setRelay(strings.TrimPrefix(section, "relay."), name, value); err != nil {
				return fmt.Errorf("%s: %s: %w", where, name, err)
			}
			continue
		}
		k, ok := byName[name]
		if !ok {
			return fmt.Errorf("%s: unknown key %q", where, name)
		}
		if err := k.set(c, value); err != nil {
			return fmt.Errorf("%s: %s: %w", where, name, err)
		}
	}
	return sc.Err()
}

func (c *Config) setRelay(name, field, value string) error {
	i := -1
	for j := range c.Relays {
		if c.Relays[j].Name == name {
			i = j
		}
	}
	if i < 0 {
		c.Relays = append(c.Relays, Relay{Name: name, Weight: 1})
		i = len(c.Relays) - 1
	}
	r := &c.Relays[i]
	switch field {
	case "url":
		r.URL = Secret(value)
	case "priority", "weight":
		n, err := strconv.Atoi(value)
		if err != nil || n < 0 {
			return errors.New("must be a whole number, 0 or more")
		}
		if field == "priority" {
			r.Priority = n
		} else {
			r.Weight = n
		}
	default:
		return fmt.Errorf("unknown relay key %q (url, url_file, priority, weight)", field)
	}
	return nil
}

func validProviderName(n string) bool {
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return n != ""
}

func (c *Config) setOIDC(name, field, value string) error {
	i := slices.IndexFunc(c.OIDC, func(o OIDC) bool { return o.Name == name })
	if i < 0 {
		c.OIDC = append(c.OIDC, OIDC{Name: name})
		i = len(c.OIDC) - 1
	}
	o := &c.OIDC[i]
	switch field {
	case "issuer":
		o.Issuer = value // exactly as the provider spells it: Authentik's ends with a slash
	case "client_id":
		o.ClientID = value
	case "client_secret":
		o.ClientSecret = Secret(value)
	case "allowed_domains":
		o.AllowedDomains = nil
		for _, d := range strings.Split(value, ",") {
			if d = strings.ToLower(strings.TrimSpace(d)); d != "" {
				o.AllowedDomains = append(o.AllowedDomains, strings.TrimPrefix(d, "@"))
			}
		}
	case "role_claim":
		o.RoleClaim = value
	case "role_map":
		o.RoleMap = map[string]string{}
		for _, pair := range strings.Split(value, ",") {
			if strings.TrimSpace(pair) == "" {
				continue
			}
			// The group may itself hold a colon (a URN): the role is
			// after the last one.
			i := strings.LastIndexByte(pair, ':')
			if i <= 0 {
				return fmt.Errorf("%q is not group:role", strings.TrimSpace(pair))
			}
			g, r := strings.TrimSpace(pair[:i]), strings.TrimSpace(pair[i+1:])
			if !slices.Contains(userRoles, r) {
				return fmt.Errorf("%q: role %q is not owner, editor, author or viewer", g, r)
			}
			o.RoleMap[g] = r
		}
	case "default_role":
		if value != "" && !slices.Contains(userRoles, value) {
			return fmt.Errorf("%q is not owner, editor, author or viewer", value)
		}
		o.DefaultRole = value
	case "auto_create":
		b, err := strconv.ParseBool(value)
		if err != nil {
			return errors.New("must be true or false")
		}
		o.AutoCreate = b
	case "trust_unverified_email":
		b, err := strconv.ParseBool(value)
		if err != nil {
			return errors.New("must be true or false")
		}
		o.TrustUnverifiedEmail = b
	default:
		return fmt.Errorf("unknown oidc key %q (issuer, client_id, client_secret, client_secret_file, allowed_domains, role_claim, role_map, default_role, auto_create, trust_unverified_email)", field)
	}
	return nil
}

// userRoles are the admin users' roles (package auth defines them; the
// configuration only checks the names).
var userRoles = []string{"owner", "editor", "author", "viewer"}

func validOIDC(o OIDC) error {
	u, err := url.Parse(o.Issuer)
	if o.Issuer == "" || err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return errors.New("issuer must be the provider's https:// issuer URL")
	}
	if o.ClientID == "" || o.ClientSecret == "" {
		return errors.New("client_id and client_secret (or client_secret_file) are required")
	}
	if len(o.RoleMap) > 0 && o.RoleClaim == "" {
		return errors.New("role_map needs role_claim, the claim its groups are in")
	}
	if o.AutoCreate && o.DefaultRole == "" && len(o.RoleMap) == 0 {
		return errors.New("auto_create needs default_role or role_map: a new user must get a role")
	}
	return nil
}

// relaySchemes are the relay URL schemes: SMTP, and the email providers'
// HTTP APIs.
var relaySchemes = []string{"smtp", "smtps", "ses", "postmark", "sendgrid", "mailgun"}

func validRelay(r Relay) error {
	u, err := url.Parse(r.URL.Reveal())
	if err != nil || u.Host == "" {
		return errors.New("url must look like smtp://user:password@host:port, or postmark://TOKEN@api and the like")
	}
	if !slices.Contains(relaySchemes, u.Scheme) {
		return fmt.Errorf("url scheme must be smtp, smtps, ses, postmark, sendgrid or mailgun, not %q", u.Scheme)
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
