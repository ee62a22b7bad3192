// Package web serves Herald's public HTTP surface: everything a reader or a
// mail provider touches. Subscribe pages and the embeddable form (single and
// double opt-in: the confirmation and welcome messages are queued in the
// store and sent by delivery.MailQueue), confirm, unsubscribe (a page with
// one button, and the RFC 8058 one-click POST), the preference centre
// (lists, name, download my data, erase me), the public archive and its
// feeds, the open pixel and click redirect, and the thin handlers of the
// bounce and complaint webhooks (package inbound reads them, package bounce
// records them).
//
// Contract: no response tells a stranger whether an address is subscribed;
// every link that acts for a subscriber carries a token from package token,
// and a bad token gets one plain error page; the click redirect only goes to
// links frozen with the campaign; opens and clicks are classified (package
// engage) and handed to an engage.Recorder, never written on the request
// path; pages are
// server-rendered with embedded assets under a strict Content-Security-Policy
// and never show raw error text. Every route is registered in routes.go.
package web

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/herald-news/herald/internal/bounce"
	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/engage"
	"github.com/herald-news/herald/internal/inbound"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/settings"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/token"
)

// TrackingMode says what opens and clicks record (settings.TrackingMode).
type TrackingMode = settings.TrackingMode

// Tracking modes.
const (
	TrackFull      = settings.TrackFull
	TrackAnonymous = settings.TrackAnonymous
	TrackOff       = settings.TrackOff
)

// Deps are the services the public web uses. Store, Signer and BaseURL are
// required.
type Deps struct {
	Store  *store.Store
	Signer *token.Signer
	// Mail is the queue that sends the confirmation and welcome messages
	// signups and confirmations queue in the store (a
	// delivery.MailQueue): it is woken after each. Nil: the messages wait
	// for a node that sends them.
	Mail Waker
	// Settings are where the publication (archive pages and feeds, cached
	// for a minute) and the admin's privacy setting (events without the
	// subscriber, asked at most every few seconds, so a change applies on
	// every node without a restart) are read. Nil: the settings kept in
	// Store, with no fixed choices.
	Settings *settings.Settings
	// ThemeDir is the theme folder archive pages render with (empty: the
	// default theme).
	ThemeDir string
	// BaseURL is the public URL of this server, e.g. https://news.example.com.
	BaseURL string
	// Bounces records the webhooks' bounce and complaint reports, as
	// reports by mail are recorded. Nil: a recorder over Store with
	// Options.Webhooks' soft-bounce settings.
	Bounces *bounce.Recorder
	Log     *slog.Logger
	Options Options
	// Events records opens, clicks and unsubscribes. Nil: the server
	// starts its own, spooling to a temporary folder, and closes it in
	// Close (tests; serve passes one spooling in the data folder).
	Events *engage.Recorder
	// Classifier tells readers from scanners and proxies (nil: the
	// default signatures).
	Classifier *engage.Classifier
}

// Options tune the public web. DefaultOptions gives working values; zero
// fields of an Options passed to NewServer take the same defaults.
type Options struct {
	// Tracking is the global tracking mode (default full): the most that
	// is recorded. Deps.Anonymous can make full anonymous. A campaign with
	// Tracking off records nothing whatever this says.
	Tracking TrackingMode
	// RateLimit limits form posts per client IP.
	RateLimit RateLimit
	// TrustProxy takes the client IP from the last X-Forwarded-For entry
	// (set it only behind a reverse proxy that sets that header).
	TrustProxy bool
	// Secret keys the CSRF tokens of forms. Empty: a random key per
	// process (forms then only work against the node that served them).
	Secret []byte

	// ConfirmTTL is how long a confirmation link works, as the pages say
	// (delivery.DefaultConfirmTTL; the mail queue's setting makes it so).
	ConfirmTTL time.Duration
	// Welcome queues a welcome message once a subscription is confirmed.
	Welcome bool

	// EventFlush is the longest an event waits in memory for its commit
	// (100ms), for the recorder the server starts itself (Deps.Events nil).
	EventFlush time.Duration
	// CampaignCache is how long a campaign's link allowlist and tracking
	// flag are kept in memory (1 minute).
	CampaignCache time.Duration
	// PrivacyCache is how long an answer of Deps.Anonymous is trusted (5s).
	PrivacyCache time.Duration

	// ArchivePageSize is the number of editions per archive page (20).
	ArchivePageSize int
	// Webhooks configures the bounce and complaint endpoints.
	Webhooks WebhookOptions
}

// RateLimit is a token bucket per client IP for form posts.
type RateLimit struct {
	// Off disables rate limiting (load tests).
	Off bool
	// PerMinute is the sustained rate (default 20); Burst the bucket size
	// (default 10).
	PerMinute int
	Burst     int
}

// WebhookOptions configure the bounce and complaint webhooks.
type WebhookOptions struct {
	// Secret authenticates every webhook: as the password of HTTP basic
	// auth (any user name), the X-Herald-Webhook-Secret header, or the
	// "secret" query parameter. Empty disables the webhooks (404).
	Secret string
	// SNSCertHosts are the host patterns the SNS signing certificate may
	// be fetched from ("*" matches one DNS label). Default:
	// sns.*.amazonaws.com and sns.*.amazonaws.com.cn.
	SNSCertHosts []string
	// SNSClient fetches signing certificates and confirms subscriptions
	// (default: an HTTPS client with a 10s timeout).
	SNSClient *http.Client
	// SNSTopics, when set, are the only topic ARNs whose messages the SES
	// webhook takes (others are refused before anything is fetched).
	SNSTopics []string
	// SendGridKey, when set, is the public key of SendGrid's signed Event
	// Webhook: every SendGrid post must then carry a valid signature (see
	// inbound.ParseSendGridKey).
	SendGridKey *ecdsa.PublicKey
	// Mailgun, when set, turns on /webhooks/mailgun: every post must carry
	// Mailgun's signature, made with the domain's webhook signing key,
	// within the replay window (see inbound.MailgunVerifier). That
	// endpoint needs no Secret.
	Mailgun *inbound.MailgunVerifier
	// SoftBounceThreshold soft bounces within SoftBounceWindow of each
	// other suppress an address (3 within 7 days).
	SoftBounceThreshold int
	SoftBounceWindow    time.Duration
}

// DefaultOptions returns options that work with no configuration: full
// tracking, forms limited to 20 posts a minute per IP, double opt-in
// confirmations valid for a week, no welcome message, webhooks off.
func DefaultOptions() Options {
	var o Options
	o.setDefaults()
	return o
}

func (o *Options) setDefaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if o.Tracking == "" {
		o.Tracking = TrackFull
	}
	def(&o.RateLimit.PerMinute, 20)
	def(&o.RateLimit.Burst, 10)
	defDur(&o.ConfirmTTL, delivery.DefaultConfirmTTL)
	defDur(&o.EventFlush, 100*time.Millisecond)
	defDur(&o.CampaignCache, time.Minute)
	defDur(&o.PrivacyCache, 5*time.Second)
	def(&o.ArchivePageSize, 20)
	if len(o.Webhooks.SNSCertHosts) == 0 {
		o.Webhooks.SNSCertHosts = []string{"sns.*.amazonaws.com", "sns.*.amazonaws.com.cn"}
	}
	if o.Webhooks.SNSClient == nil {
		o.Webhooks.SNSClient = &http.Client{Timeout: 10 * time.Second}
	}
	def(&o.Webhooks.SoftBounceThreshold, 3)
	defDur(&o.Webhooks.SoftBounceWindow, 7*24*time.Hour)
}

// Server is the public web. Create it with NewServer, serve it as an
// http.Handler, and Close it after the HTTP server has shut down.
type Server struct {
	store   *store.Store
	signer  *token.Signer
	log     *slog.Logger
	opts    Options
	base    string // BaseURL without trailing slash
	secure  bool   // BaseURL is https: cookies are Secure
	handler http.Handler
	pages   *pages
	csrf    csrfKey
	limiter *limiter

	events    *engage.Recorder
	ownEvents bool // events was started here: Close closes it
	classify  *engage.Classifier
	mail      Waker
	campaigns *campaignCache
	privacy   *privacySetting
	renderer  *rendererCache
	answers   answerCache // the page each list's signups are answered with
	sns       *inbound.SNSVerifier
	bounces   *bounce.Recorder
	feeds     feedCache

	closeOnce sync.Once
	closeErr  error
}

// Waker is told when a message was queued (delivery.MailQueue).
type Waker interface{ Wake() }

// NewServer builds the public web and starts its event writer. Call Close
// to flush and stop it.
func NewServer(d Deps) (*Server, error) {
	if d.Store == nil || d.Signer == nil {
		return nil, errors.New("web: a store and a token signer are required")
	}
	u, err := url.Parse(d.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("web: base URL %q is not an absolute http(s) URL", d.BaseURL)
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	opts := d.Options
	opts.setDefaults()
	switch opts.Tracking {
	case TrackFull, TrackAnonymous, TrackOff:
	default:
		return nil, fmt.Errorf("web: unknown tracking mode %q (full, anonymous or off)", opts.Tracking)
	}
	key := opts.Secret
	if len(key) == 0 {
		key = make([]byte, 32)
		rand.Read(key)
	}
	set := d.Settings
	if set == nil {
		set = settings.New(d.Store, strings.TrimSuffix(d.BaseURL, "/"))
	}
	p, err := loadPages()
	if err != nil {
		return nil, err
	}
	s := &Server{
		store:     d.Store,
		signer:    d.Signer,
		log:       d.Log,
		opts:      opts,
		base:      strings.TrimSuffix(d.BaseURL, "/"),
		secure:    u.Scheme == "https",
		pages:     p,
		csrf:      csrfKey(key),
		limiter:   newLimiter(opts.RateLimit),
		campaigns: newCampaignCache(d.Store, opts.CampaignCache),
		privacy:   &privacySetting{read: set.Anonymous, ttl: opts.PrivacyCache, log: d.Log},
		sns:       inbound.NewSNSVerifier(opts.Webhooks.SNSCertHosts, opts.Webhooks.SNSClient),
		bounces:   d.Bounces,
	}
	if s.bounces == nil {
		s.bounces = &bounce.Recorder{Store: d.Store, SoftLimit: opts.Webhooks.SoftBounceThreshold,
			SoftWindow: opts.Webhooks.SoftBounceWindow, Log: d.Log}
	}
	s.renderer = &rendererCache{settings: set, opts: render.Options{ThemeDir: d.ThemeDir, ArchiveURL: s.base + "/archive/"}}
	s.events, s.classify = d.Events, d.Classifier
	if s.classify == nil {
		s.classify = engage.NewClassifier()
	}
	if s.events == nil {
		if s.events, err = engage.NewRecorder(engage.Options{Store: d.Store, Window: opts.EventFlush, Log: d.Log}); err != nil {
			return nil, err
		}
		s.ownEvents = true
	}
	s.mail = d.Mail
	s.handler = s.secureHeaders(s.logRequests(s.cleanInput(s.routes())))
	return s, nil
}

// ServeHTTP serves the public web.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Close stops taking events and writes the queued ones, waiting at most
// until ctx is done. Call it after the HTTP server has stopped; it is safe
// to call twice.
func (s *Server) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		if s.ownEvents {
			s.closeErr = s.events.Close(ctx)
		}
	})
	return s.closeErr
}

// wakeMail tells the mail queue a message was queued.
func (s *Server) wakeMail() {
	if s.mail != nil {
		s.mail.Wake()
	}
}

// Stats are counters of the event recorder, for health views and tests.
type Stats struct {
	// Events is the event recorder's counters.
	Events engage.Stats
}

// Stats returns the current counters.
func (s *Server) Stats() Stats {
	st := Stats{}
	st.Events = s.events.Stats()
	return st
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.store.Ping(ctx); err != nil {
		s.log.Error("health check: database does not answer", "err", err)
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ok\n"))
}

// now is the clock for token checks.
func now() time.Time { return time.Now() }

// listByID is a small helper shared by handlers.
func (s *Server) listByID(ctx context.Context, id int64) (*model.List, error) {
	return s.store.ListByID(ctx, id)
}
