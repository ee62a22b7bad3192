package mailer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// APIConfig is what an HTTP API relay needs besides the settings every
// relay shares (MaxConns, Rate, Priority, Weight, Name, TLSConfig).
type APIConfig struct {
	// Endpoint is the API's base URL, such as https://api.postmarkapp.com
	// (the provider's public API by default). It must be https, except on
	// a loopback host, where tests run their stand-in servers.
	Endpoint string
	// Key is the credential: Postmark's server token, SendGrid's API key,
	// Mailgun's API key, or SES's secret access key.
	Key string
	// AccessKeyID and SessionToken (temporary credentials only) go with
	// Key for SES.
	AccessKeyID  string
	SessionToken string
	// Region is SES's region, such as eu-west-1.
	Region string
	// ConfigurationSet names an SES configuration set (optional).
	ConfigurationSet string
	// Stream is the Postmark message stream (default: the server's
	// transactional stream, "outbound"; newsletters belong in a broadcast
	// stream).
	Stream string
	// Domain is the Mailgun sending domain.
	Domain string
}

// The providers' public API endpoints.
var defaultEndpoints = map[Kind]string{
	KindPostmark: "https://api.postmarkapp.com",
	KindSendGrid: "https://api.sendgrid.com",
	KindMailgun:  "https://api.mailgun.net",
}

// apiHelp shows each API relay's URL form in error messages.
var apiHelp = map[Kind]string{
	KindSES:      "ses://ACCESS_KEY_ID:SECRET_ACCESS_KEY@REGION",
	KindPostmark: "postmark://SERVER_TOKEN@api",
	KindSendGrid: "sendgrid://API_KEY@api",
	KindMailgun:  "mailgun://API_KEY@api/SENDING_DOMAIN",
}

var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)

// parseAPIRelay reads an API relay URL:
//
//	ses://ACCESS_KEY_ID:SECRET_ACCESS_KEY@REGION?configuration_set=NAME&session_token=TOKEN
//	postmark://SERVER_TOKEN@api?stream=broadcast
//	sendgrid://API_KEY@api
//	mailgun://API_KEY@api/SENDING_DOMAIN
//
// The host "api" means the provider's public API; another host names it
// (api.eu.mailgun.net, api.eu.sendgrid.com), and endpoint=URL overrides
// the whole base URL. SES also takes access_key= and secret_key= instead
// of the user part. Secrets must be percent-encoded where they hold
// reserved characters (an AWS secret's "/" as %2F, "+" as %2B).
func parseAPIRelay(u *url.URL) (RelayConfig, error) {
	c := RelayConfig{Kind: Kind(u.Scheme)}
	q := u.Query()
	if err := c.commonParams(q); err != nil {
		return RelayConfig{}, err
	}
	if v := q.Get("allow_plain"); v != "" {
		b, err := parseBool(v)
		if err != nil {
			return RelayConfig{}, fmt.Errorf("relay parameter allow_plain=%q: want true or false", v)
		}
		c.AllowPlain = b
	}
	a := &c.API
	var user, pass string
	if u.User != nil {
		user = u.User.Username()
		pass, _ = u.User.Password()
	}
	host := u.Hostname()
	switch c.Kind {
	case KindSES:
		a.AccessKeyID, a.Key = user, pass
		if v := q.Get("access_key"); v != "" {
			a.AccessKeyID = v
		}
		if v := q.Get("secret_key"); v != "" {
			a.Key = v
		}
		a.SessionToken = q.Get("session_token")
		a.ConfigurationSet = q.Get("configuration_set")
		a.Region = host
		if a.Region != "" {
			a.Endpoint = "https://email." + a.Region + ".amazonaws.com"
		}
	default:
		// The credential is the user part, or its password when both are
		// given (mailgun://api:KEY@api/domain, as Mailgun's docs write it).
		a.Key = user
		if pass != "" {
			a.Key = pass
		}
		switch {
		case host == "":
			return RelayConfig{}, fmt.Errorf("%s relay URL has no host: use %s", c.Kind, apiHelp[c.Kind])
		case host == "api":
			a.Endpoint = defaultEndpoints[c.Kind]
		default:
			a.Endpoint = "https://" + u.Host
		}
		a.Stream = q.Get("stream")
		if c.Kind == KindMailgun {
			a.Domain = strings.Trim(u.Path, "/")
		}
	}
	if v := q.Get("endpoint"); v != "" {
		a.Endpoint = strings.TrimSuffix(v, "/")
	}
	c.setDefaults()
	return c, c.validate()
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "1", "t", "true", "yes":
		return true, nil
	case "0", "f", "false", "no":
		return false, nil
	}
	return false, errors.New("not a boolean")
}

func (c *RelayConfig) setAPIDefaults() {
	if c.MaxConns <= 0 {
		c.MaxConns = 4
	}
	if c.Weight <= 0 {
		c.Weight = 1
	}
	if c.API.Endpoint == "" {
		c.API.Endpoint = defaultEndpoints[c.Kind]
	}
	if u, err := url.Parse(c.API.Endpoint); err == nil {
		c.Host = u.Hostname()
		c.TLS = TLSImplicit
		if u.Scheme == "http" {
			c.TLS = TLSNone
		}
	}
	if c.Name == "" {
		c.Name = string(c.Kind)
	}
}

func (c *RelayConfig) validateAPI() error {
	a := c.API
	help := apiHelp[c.Kind]
	if help == "" {
		return fmt.Errorf("relay %s: unknown kind %q (smtp, ses, postmark, sendgrid or mailgun)", c.Name, c.Kind)
	}
	u, err := url.Parse(a.Endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("relay %s: endpoint must be an absolute https URL such as %s", c.Name, defaultOr(c.Kind))
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) && !c.AllowPlain {
		return fmt.Errorf("relay %s: an http:// endpoint is only allowed on a loopback host (keys and mail would travel in clear text); set allow_plain=true to do it anyway", c.Name)
	}
	if a.Key == "" {
		what := map[Kind]string{KindSES: "secret access key", KindPostmark: "server token", KindSendGrid: "API key", KindMailgun: "API key"}[c.Kind]
		return fmt.Errorf("relay %s: no %s: use %s", c.Name, what, help)
	}
	if strings.ContainsAny(a.Key+a.AccessKeyID+a.SessionToken, " \t\r\n") {
		return fmt.Errorf("relay %s: the credentials hold a space or line break (percent-encode a + in them as %%2B)", c.Name)
	}
	switch c.Kind {
	case KindSES:
		if a.AccessKeyID == "" {
			return fmt.Errorf("relay %s: no access key ID: use %s", c.Name, help)
		}
		if !regionRE.MatchString(a.Region) {
			return fmt.Errorf("relay %s: %q is not an AWS region such as eu-west-1: use %s", c.Name, a.Region, help)
		}
	case KindMailgun:
		if a.Domain == "" || strings.ContainsAny(a.Domain, "/?#@ ") {
			return fmt.Errorf("relay %s: no sending domain: use %s", c.Name, help)
		}
	}
	return nil
}

func defaultOr(k Kind) string {
	if e := defaultEndpoints[k]; e != "" {
		return e
	}
	return "https://email.eu-west-1.amazonaws.com"
}

// apiString writes an API relay as a URL with its secrets redacted.
func (c RelayConfig) apiString() string {
	u := url.URL{Scheme: string(c.Kind), Host: c.Addr()}
	q := url.Values{}
	switch c.Kind {
	case KindSES:
		u.Host = c.API.Region
		u.User = url.UserPassword(c.API.AccessKeyID, "xxxxx")
		if c.API.ConfigurationSet != "" {
			q.Set("configuration_set", c.API.ConfigurationSet)
		}
		if c.API.SessionToken != "" {
			q.Set("session_token", "xxxxx")
		}
	default:
		u.User = url.User("xxxxx")
		if c.API.Stream != "" {
			q.Set("stream", c.API.Stream)
		}
		if c.API.Domain != "" {
			u.Path = "/" + c.API.Domain
		}
	}
	if c.API.Endpoint != defaultEndpoints[c.Kind] && c.Kind != KindSES || c.Kind == KindSES && c.API.Endpoint != "https://email."+c.API.Region+".amazonaws.com" {
		q.Set("endpoint", c.API.Endpoint)
	}
	q.Set("max_conns", fmt.Sprint(c.MaxConns))
	if c.Rate > 0 {
		q.Set("rate", fmt.Sprint(c.Rate))
	}
	q.Set("priority", fmt.Sprint(c.Priority))
	q.Set("weight", fmt.Sprint(c.Weight))
	q.Set("name", c.Name)
	u.RawQuery = q.Encode()
	return u.String()
}

// provider is one email service's HTTP API: how a message becomes a
// request, and how a response becomes a verdict on each message.
type provider interface {
	// batchMax is how many messages one request may carry.
	batchMax() int
	// prepare turns one message into what the request carries. A message
	// the API cannot carry is refused here, alone.
	prepare(env Envelope, msg []byte) (any, *Error)
	// request builds the HTTP request for prepared messages.
	request(ctx context.Context, endpoint string, prepared []any) (*http.Request, error)
	// read turns a response into one answer per message, or into one
	// answer for all of them.
	read(status int, header http.Header, body []byte, n int) []answer
}

// answer is a verdict on one message (err nil: accepted) and what it says
// about the relay.
type answer struct {
	err    *Error
	health health
}

// apiLink sends through an HTTP API, at most max requests at a time.
// Messages that arrive while every request slot is busy wait in a queue,
// and whoever takes the next free slot carries as many of them as the API
// takes in one request (Postmark's batch endpoint): batches form under
// load only, and a lone message never waits for company.
type apiLink struct {
	cfg       *RelayConfig
	api       provider
	client    *http.Client
	transport *http.Transport
	timeout   time.Duration

	mu      sync.Mutex
	queue   []*apiItem
	busy    int
	max     int
	closed  bool
	changed chan struct{} // closed and replaced when a slot frees or an item is taken
}

// apiItem is one message waiting for, or riding in, a request.
type apiItem struct {
	prepared any
	taken    bool          // in a request: its answer will come
	done     chan struct{} // closed once ans is set
	ans      answer
}

func newAPILink(cfg *RelayConfig, t Timeouts, idleFor time.Duration) (*apiLink, error) {
	var api provider
	switch cfg.Kind {
	case KindSES:
		api = &sesAPI{cfg: cfg}
	case KindPostmark:
		api = &postmarkAPI{cfg: cfg}
	case KindSendGrid:
		api = &sendGridAPI{cfg: cfg}
	case KindMailgun:
		api = &mailgunAPI{cfg: cfg}
	default:
		return nil, fmt.Errorf("relay %s: unknown kind %q", cfg.Name, cfg.Kind)
	}
	tlsConfig := cfg.TLSConfig
	if tlsConfig == nil {
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	// Connections are kept alive and reused; over TLS, HTTP/2 carries
	// every request in flight on one connection.
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: t.Connect, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsConfig.Clone(),
		TLSHandshakeTimeout:   t.Connect,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          max(cfg.MaxConns, 2),
		MaxIdleConnsPerHost:   max(cfg.MaxConns, 2),
		IdleConnTimeout:       max(idleFor, 90*time.Second),
		ResponseHeaderTimeout: t.Data,
	}
	return &apiLink{cfg: cfg, api: api, client: &http.Client{Transport: tr, CheckRedirect: noRedirects},
		transport: tr, timeout: t.Data, max: cfg.MaxConns, changed: make(chan struct{})}, nil
}

// noRedirects: an API that redirects a send is misconfigured; following
// it could post the message, and the credentials, somewhere else.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func (l *apiLink) notifyLocked() {
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *apiLink) setMax(n int) {
	l.mu.Lock()
	l.max = n
	l.notifyLocked()
	l.mu.Unlock()
}

func (l *apiLink) stats() (open, idle, max int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.busy, 0, l.max
}

func (l *apiLink) close() {
	l.mu.Lock()
	l.closed = true
	l.notifyLocked()
	l.mu.Unlock()
	l.transport.CloseIdleConnections()
}

// deliver queues the message and either waits for a request to carry it
// or, given a free slot, sends one itself with what is queued.
func (l *apiLink) deliver(ctx context.Context, clock Clock, env Envelope, msg []byte) (*Error, health) {
	prepared, perr := l.api.prepare(env, msg)
	if perr != nil {
		return perr, unknown
	}
	it := &apiItem{prepared: prepared, done: make(chan struct{})}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return transportError(l.cfg.Name, StageConnect, "mailer closed", errors.New("mailer closed")), unknown
	}
	l.queue = append(l.queue, it)
	for {
		if it.taken {
			l.mu.Unlock()
			<-it.done
			return it.ans.err, it.ans.health
		}
		if l.busy < l.max {
			batch := l.takeLocked(it)
			l.busy++
			l.mu.Unlock()
			l.send(ctx, batch)
			l.mu.Lock()
			l.busy--
			l.notifyLocked()
			l.mu.Unlock()
			return it.ans.err, it.ans.health
		}
		ch := l.changed
		l.mu.Unlock()
		select {
		case <-ch:
			l.mu.Lock()
		case <-ctx.Done():
			l.mu.Lock()
			if it.taken {
				continue // already on its way: wait for the answer
			}
			l.removeLocked(it)
			l.mu.Unlock()
			return transportError(l.cfg.Name, StageConnect, "waiting for a free request slot", ctx.Err()), unknown
		}
	}
}

// takeLocked takes own and as many other queued messages as one request
// carries, oldest first.
func (l *apiLink) takeLocked(own *apiItem) []*apiItem {
	l.removeLocked(own)
	own.taken = true
	batch := []*apiItem{own}
	n := min(len(l.queue), l.api.batchMax()-1)
	for _, it := range l.queue[:n] {
		it.taken = true
		batch = append(batch, it)
	}
	l.queue = append(l.queue[:0], l.queue[n:]...)
	if n > 0 {
		l.notifyLocked() // wake the callers whose messages ride along
	}
	return batch
}

func (l *apiLink) removeLocked(it *apiItem) {
	for i, q := range l.queue {
		if q == it {
			l.queue = append(l.queue[:i], l.queue[i+1:]...)
			return
		}
	}
}

// send posts one request and hands every message of the batch its answer.
func (l *apiLink) send(ctx context.Context, batch []*apiItem) {
	if len(batch) > 1 {
		// Other callers' messages ride along: one caller giving up must
		// not cancel them half-way, leaving them neither sent nor not.
		ctx = context.WithoutCancel(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	prepared := make([]any, len(batch))
	for i, it := range batch {
		prepared[i] = it.prepared
	}
	answers := l.post(ctx, prepared)
	for i, it := range batch {
		a := answers[0]
		if len(answers) == len(batch) {
			a = answers[i]
		}
		it.ans = a
		close(it.done)
	}
}

// post sends one request and reads the provider's verdicts.
func (l *apiLink) post(ctx context.Context, prepared []any) []answer {
	name := l.cfg.Name
	req, err := l.api.request(ctx, l.cfg.API.Endpoint, prepared)
	if err != nil {
		return []answer{{&Error{Class: Permanent, Stage: StageData, Relay: name, Text: "request not built: " + err.Error(), Err: err}, unknown}}
	}
	var wrote bool
	var traceMu sync.Mutex
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { traceMu.Lock(); wrote = true; traceMu.Unlock() },
	}))
	resp, err := l.client.Do(req)
	traceMu.Lock()
	sent := wrote
	traceMu.Unlock()
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return []answer{{transportError(name, StageData, "cancelled", err), unknown}}
		}
		if !sent {
			// Nothing reached the API: another relay may take it.
			e := transportError(name, StageConnect, "cannot reach the API: "+describe(err), err)
			e.failover = true
			return []answer{{e, faulty}}
		}
		// The request went out and no answer came: the API may have
		// taken the message, so it is not sent again elsewhere now.
		return []answer{{transportError(name, StageData, "no answer from the API: "+describe(err), err), faulty}}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return []answer{{transportError(name, StageData, "answer cut short: "+describe(err), err), faulty}}
	}
	return l.api.read(resp.StatusCode, resp.Header, body, len(prepared))
}

// describe words a transport error without the request URL (no secrets
// ride in URLs, but the error reads better without one).
func describe(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

// apiAnswer classifies a provider's refusal by HTTP status, for what a
// provider does not classify more precisely itself: credentials or an
// account refused (401, 403) and an API out of service (502-504) take
// the relay out of rotation and let another take the message; a rate
// limit (429) does too; other 5xx are temporary and counted against the
// message; other 4xx refuse this message for good.
func apiAnswer(relay, provider string, status int, detail string) answer {
	e := &Error{Relay: relay, Text: fmt.Sprintf("%s answered HTTP %d: %s", provider, status, oneLine(detail))}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		e.Class, e.Stage, e.failover = Temporary, StageConnect, true
		return answer{e, faulty}
	case status == http.StatusTooManyRequests:
		e.Class, e.Stage, e.failover = Temporary, StageLimit, true
		return answer{e, faulty}
	case status == http.StatusRequestTimeout:
		e.Class, e.Stage, e.failover = Temporary, StageData, true
		return answer{e, faulty}
	case status == http.StatusBadGateway || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout:
		e.Class, e.Stage, e.failover = Temporary, StageConnect, true
		return answer{e, faulty}
	case status >= 500:
		e.Class, e.Stage, e.failover = Temporary, StageData, true
		return answer{e, faulty}
	case status >= 400:
		e.Class, e.Stage = Permanent, StageData
		return answer{e, healthy}
	}
	// A status no provider documents for a send: the message may or may
	// not have been taken.
	e.Class, e.Stage = Temporary, StageData
	return answer{e, faulty}
}

// relayRefused is a provider saying the relay's account or sender cannot
// send now (suspended, paused, unverified, out of credits): nothing about
// the message, so it waits without using a try and another relay may
// take it.
func relayRefused(relay, text string) answer {
	return answer{&Error{Class: Temporary, Stage: StageConnect, Relay: relay, Text: oneLine(text), failover: true}, faulty}
}

// oneLine keeps a provider's text fit for one ledger line.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	if s == "" {
		s = "(no detail)"
	}
	return s
}

// Title is the relay kind as people name it: "SMTP", "Amazon SES",
// "Postmark", "SendGrid", "Mailgun".
func (k Kind) Title() string {
	switch k {
	case KindSES:
		return "Amazon SES"
	case KindPostmark:
		return "Postmark"
	case KindSendGrid:
		return "SendGrid"
	case KindMailgun:
		return "Mailgun"
	}
	return "SMTP"
}

// ProbeAPI opens a connection to an API relay's endpoint, with the TLS
// handshake for an https one, and closes it: everything but sending.
// (Credentials are checked by the first send: the providers' APIs have no
// side-effect-free call that every kind of key may make.)
func ProbeAPI(ctx context.Context, rc RelayConfig) error {
	u, err := url.Parse(rc.API.Endpoint)
	if err != nil || u.Host == "" {
		return errors.New("the endpoint is not a URL")
	}
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	d := net.Dialer{Timeout: 10 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return errors.New("could not connect (check the endpoint, and that this server may reach the internet)")
	}
	defer conn.Close()
	if u.Scheme == "https" {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if rc.TLSConfig != nil {
			cfg = rc.TLSConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = u.Hostname()
		}
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return errors.New("connected, but the TLS handshake failed (check the endpoint's certificate)")
		}
	}
	return nil
}
