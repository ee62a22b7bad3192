package mailer

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// TLSMode is how a relay connection is secured.
type TLSMode string

// TLS modes.
const (
	TLSNone     TLSMode = "none"     // plain text: loopback only unless AllowPlain
	TLSStartTLS TLSMode = "starttls" // upgrade with STARTTLS (required, not opportunistic)
	TLSImplicit TLSMode = "tls"      // TLS from the first byte (port 465)
)

// Kind is the protocol a relay speaks: SMTP, or one provider's HTTP API.
type Kind string

// Relay kinds, as their URL schemes name them.
const (
	KindSMTP     Kind = "smtp"     // an SMTP relay (smtp:// or smtps://)
	KindSES      Kind = "ses"      // Amazon SES API v2, SendEmail with raw content
	KindPostmark Kind = "postmark" // Postmark's /email/batch
	KindSendGrid Kind = "sendgrid" // SendGrid's v3 mail/send
	KindMailgun  Kind = "mailgun"  // Mailgun's messages.mime
)

// RelayConfig describes one relay: an SMTP server, or an email provider's
// HTTP API. Build it with ParseRelay or by hand.
type RelayConfig struct {
	// Kind is the protocol (default KindSMTP).
	Kind Kind
	// Name identifies the relay in logs, errors and SetRelayLimits; it
	// defaults to host:port, or to the provider's name for an API relay.
	Name     string
	Host     string
	Port     int
	Username string
	Password string
	TLS      TLSMode
	// TLSConfig overrides the TLS client configuration (e.g. RootCAs for a
	// private CA). ServerName defaults to Host.
	TLSConfig *tls.Config
	// AllowPlain permits TLSNone (and AUTH without TLS) to a host that is
	// not loopback. Off by default: credentials and mail would travel in
	// clear text.
	AllowPlain bool
	// MaxConns caps concurrent connections (default 4).
	MaxConns int
	// Rate caps messages per second (0: no limit).
	Rate float64
	// MaxPerConn closes a connection after this many messages (0: never).
	MaxPerConn int
	// Priority orders relays: lower numbers are tried first. Weight shares
	// traffic among relays of equal priority (default 1).
	Priority int
	Weight   int
	// HelloName is the EHLO name (default "localhost").
	HelloName string
	// NoPipelining waits for each reply even when the relay offers
	// PIPELINING (RFC 2920), for a relay that offers it and gets it wrong.
	NoPipelining bool
	// NoChunking sends with DATA even when the relay offers CHUNKING (RFC
	// 3030, BDAT), for a relay that offers it and gets it wrong.
	NoChunking bool

	// API relays (Kind other than KindSMTP); see api.go.
	API APIConfig
}

// ParseRelay parses a relay URL:
//
//	smtp://user:pass@host:port?tls=none|starttls|tls&max_conns=4&rate=100&priority=0&weight=1&name=primary
//
// Other parameters: max_per_conn, helo, allow_plain=true, pipelining=false,
// chunking=false. The scheme smtps
// means tls=tls. Without tls=, loopback hosts use none, port 465 uses tls
// and everything else starttls.
//
// The schemes ses, postmark, sendgrid and mailgun name HTTP API relays
// (see ParseAPIRelay); max_conns, rate, priority, weight and name work
// for them too. Errors never quote the URL (it may hold a password).
func ParseRelay(raw string) (RelayConfig, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return RelayConfig{}, errors.New("relay URL does not parse (expected smtp://user:pass@host:port?tls=..., or ses://, postmark://, sendgrid://, mailgun://)")
	}
	var c RelayConfig
	switch u.Scheme {
	case "smtp":
	case "smtps":
		c.TLS = TLSImplicit
	case string(KindSES), string(KindPostmark), string(KindSendGrid), string(KindMailgun):
		return parseAPIRelay(u)
	default:
		return RelayConfig{}, fmt.Errorf("relay URL scheme %q: want smtp, smtps, ses, postmark, sendgrid or mailgun", u.Scheme)
	}
	c.Host = u.Hostname()
	if c.Host == "" {
		return RelayConfig{}, errors.New("relay URL has no host")
	}
	if p := u.Port(); p != "" {
		c.Port, err = strconv.Atoi(p)
		if err != nil || c.Port <= 0 || c.Port > 65535 {
			return RelayConfig{}, fmt.Errorf("relay port %q is not a port number", p)
		}
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	q := u.Query()
	if err := c.commonParams(q); err != nil {
		return RelayConfig{}, err
	}
	if err := intParam(q, "max_per_conn", &c.MaxPerConn); err != nil {
		return RelayConfig{}, err
	}
	if v := q.Get("tls"); v != "" {
		c.TLS = TLSMode(strings.ToLower(v))
	}
	if v := q.Get("allow_plain"); v != "" {
		c.AllowPlain, err = strconv.ParseBool(v)
		if err != nil {
			return RelayConfig{}, fmt.Errorf("relay parameter allow_plain=%q: want true or false", v)
		}
	}
	if v := q.Get("pipelining"); v != "" {
		on, err := strconv.ParseBool(v)
		if err != nil {
			return RelayConfig{}, fmt.Errorf("relay parameter pipelining=%q: want true or false", v)
		}
		c.NoPipelining = !on
	}
	if v := q.Get("chunking"); v != "" {
		on, err := strconv.ParseBool(v)
		if err != nil {
			return RelayConfig{}, fmt.Errorf("relay parameter chunking=%q: want true or false", v)
		}
		c.NoChunking = !on
	}
	c.HelloName = q.Get("helo")
	c.setDefaults()
	return c, c.validate()
}

// commonParams reads the parameters every kind of relay takes: max_conns,
// rate, priority, weight and name.
func (c *RelayConfig) commonParams(q url.Values) error {
	for key, dst := range map[string]*int{"max_conns": &c.MaxConns, "priority": &c.Priority, "weight": &c.Weight} {
		if err := intParam(q, key, dst); err != nil {
			return err
		}
	}
	if v := q.Get("rate"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r < 0 {
			return fmt.Errorf("relay parameter rate=%q: want messages per second >= 0", v)
		}
		c.Rate = r
	}
	c.Name = q.Get("name")
	return nil
}

func intParam(q url.Values, key string, dst *int) error {
	if v := q.Get(key); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("relay parameter %s=%q: want a whole number >= 0", key, v)
		}
		*dst = n
	}
	return nil
}

func (c *RelayConfig) setDefaults() {
	if c.Kind == "" {
		c.Kind = KindSMTP
	}
	if c.Kind != KindSMTP {
		c.setAPIDefaults()
		return
	}
	if c.TLS == "" {
		switch {
		case isLoopback(c.Host):
			c.TLS = TLSNone
		case c.Port == 465:
			c.TLS = TLSImplicit
		default:
			c.TLS = TLSStartTLS
		}
	}
	if c.Port == 0 {
		c.Port = 587
		if c.TLS == TLSImplicit {
			c.Port = 465
		}
	}
	if c.MaxConns <= 0 {
		c.MaxConns = 4
	}
	if c.Weight <= 0 {
		c.Weight = 1
	}
	if c.HelloName == "" {
		c.HelloName = "localhost"
	}
	if c.Name == "" {
		c.Name = c.Addr()
	}
}

func (c *RelayConfig) validate() error {
	if c.Kind != KindSMTP {
		return c.validateAPI()
	}
	switch c.TLS {
	case TLSNone, TLSStartTLS, TLSImplicit:
	default:
		return fmt.Errorf("relay %s: tls=%q: want none, starttls or tls", c.Name, c.TLS)
	}
	if c.TLS == TLSNone && !isLoopback(c.Host) && !c.AllowPlain {
		return fmt.Errorf("relay %s: tls=none is only allowed for loopback hosts; set allow_plain=true to send in clear text anyway", c.Name)
	}
	if strings.ContainsAny(c.HelloName, " \r\n") {
		return fmt.Errorf("relay %s: helo name %q has spaces or line breaks", c.Name, c.HelloName)
	}
	return nil
}

// Addr is host:port: the SMTP server, or the API's host.
func (c RelayConfig) Addr() string {
	if c.Kind != KindSMTP && c.Kind != "" {
		if u, err := url.Parse(c.API.Endpoint); err == nil {
			return u.Host
		}
	}
	return net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
}

// String is the relay as a URL with the password, or the API's secrets,
// redacted.
func (c RelayConfig) String() string {
	if c.Kind != KindSMTP && c.Kind != "" {
		return c.apiString()
	}
	u := url.URL{Scheme: "smtp", Host: c.Addr()}
	if c.Username != "" {
		if c.Password != "" {
			u.User = url.UserPassword(c.Username, "xxxxx")
		} else {
			u.User = url.User(c.Username)
		}
	}
	q := url.Values{}
	q.Set("tls", string(c.TLS))
	q.Set("max_conns", strconv.Itoa(c.MaxConns))
	if c.Rate > 0 {
		q.Set("rate", strconv.FormatFloat(c.Rate, 'f', -1, 64))
	}
	q.Set("priority", strconv.Itoa(c.Priority))
	q.Set("weight", strconv.Itoa(c.Weight))
	q.Set("name", c.Name)
	if c.NoPipelining {
		q.Set("pipelining", "false")
	}
	if c.NoChunking {
		q.Set("chunking", "false")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// LogValue keeps passwords out of slog output.
func (c RelayConfig) LogValue() slog.Value { return slog.StringValue(c.String()) }

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
