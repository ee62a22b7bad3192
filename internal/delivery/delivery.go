// Package delivery sends campaigns. Starting a campaign freezes its rendered
// edition and writes one ledger row per recipient; the engine's workers then
// claim rows in batches under a lease, build each recipient's message from
// the frozen copy, hand it to the mailer and record every outcome in the
// ledger in batches. The ledger, not memory, is the position: a crash loses
// nothing, and only rows that were in flight (claimed, not yet recorded) can
// be sent twice, with the same Message-ID both times.
package delivery

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-news/herald/internal/address"
	"github.com/herald-news/herald/internal/bounce"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/message"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/retention"
	"github.com/herald-news/herald/internal/settings"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/token"
	"github.com/herald-news/herald/internal/validator"
)

// Ledger is the part of the store the engine uses.
type Ledger interface {
	Campaign(ctx context.Context, id int64) (*model.Campaign, error)
	StartCampaign(ctx context.Context, id int64, frozen model.Frozen) (int64, error)
	FrozenContent(ctx context.Context, id int64) (*model.Frozen, error)
	ListByID(ctx context.Context, id int64) (*model.List, error)
	Segment(ctx context.Context, id int64) (*model.Segment, error)
	CampaignsWithStatus(ctx context.Context, st model.CampaignStatus) ([]int64, error)
	DueCampaigns(ctx context.Context, now time.Time) ([]int64, error)
	ClaimDeliveries(ctx context.Context, campaignID int64, limit int, lease time.Duration) ([]model.Delivery, error)
	RecordOutcomes(ctx context.Context, outs []store.Outcome) error
	ReleaseLeases(ctx context.Context, all bool) (int64, error)
	FinishCampaign(ctx context.Context, id int64) (bool, error)
	NextRetry(ctx context.Context, id int64) (time.Time, error)
	SingleProcess() bool
	LockSending() (release func() error, err error)
	SetCampaignStatus(ctx context.Context, id int64, to model.CampaignStatus) error
	SetCampaignProblem(ctx context.Context, id int64, problem string) error
	SettleCampaignTransport(ctx context.Context, id int64, transport string) (string, error)
	ListenCampaigns(ctx context.Context, fn func()) error
	TryLead(ctx context.Context) (*store.Leadership, error)
	ABTestsToDecide(ctx context.Context, now time.Time) ([]int64, error)
	DecideABTest(ctx context.Context, id int64, now time.Time) (int, error)
	Sunset(ctx context.Context, p store.SunsetPolicy) (store.SunsetReport, error)
	retention.Store
	LastSunset(ctx context.Context) (store.SunsetReport, bool, error)
	Settings(ctx context.Context, keys ...string) (map[string]string, error)
	PruneAudit(ctx context.Context, before time.Time, batch int) (int64, error)
}

// Config configures an Engine. Zero values take the defaults shown.
type Config struct {
	Sender  mailer.Sender
	Signer  *token.Signer
	BaseURL string // public URL for unsubscribe, preferences and web links
	// BaseURLGuessed says BaseURL is Herald's guess from its listen
	// address (the configuration sets no base_url): links in it reach no
	// reader, so Start refuses to send through relays (CheckLinks).
	BaseURLGuessed bool
	// Freeze renders a campaign's edition when it starts.
	Freeze func(ctx context.Context, c *model.Campaign) (model.Frozen, error)

	// Workers is how many SMTP transactions run at once, each on its own
	// connection. Zero takes the sender's own capacity when it reports one
	// (a Mailer: its relays' max_conns added up), else 4. At a distance,
	// one connection carries about 1/(2×RTT) messages a second (two round
	// trips each with PIPELINING, four without), so workers, not CPU, set
	// the pace: see README.
	Workers     int
	ClaimBatch  int           // rows per claim (50)
	FlushEvery  int           // outcomes per ledger write (100)
	FlushAfter  time.Duration // longest an outcome waits for its write (200ms)
	Lease       time.Duration // how long a claim holds (5m)
	MaxAttempts int           // tries before a temporary failure is final (5)
	RetryBase   time.Duration // first retry delay, doubling per attempt, at most 1h (1m)
	Poll        time.Duration // backstop poll for work when no signal comes (500ms)
	// StateEvery is how often workers re-read which campaigns may send,
	// besides every Wake and every other node's notice (250ms): a pause or
	// cancel reaches mail already claimed within this time.
	StateEvery time.Duration

	// DKIM signs every message with a fixed key, when Settings is nil.
	DKIM *message.DKIM
	// Settings, when set, are read each time a campaign is prepared: its
	// signing key (the configuration's, or one generated in the admin,
	// which then signs the campaigns started after it), and whether
	// tracking is anonymous (the configuration's mode or the admin's
	// privacy setting): then every reader gets the same open pixel and
	// click links, so an event cannot name who caused it. A tracking mode
	// of off there leaves every campaign's links and images as they are.
	Settings          *settings.Settings
	UnsubscribeMailto string
	// WholeMessages builds every campaign message whole (its text and HTML
	// filled in, tracked, encoded and signed per reader), as Herald did
	// before it spliced messages from runs encoded once per campaign: the
	// same bytes at a higher cost, kept to compare the two (bench send).
	WholeMessages bool
	// NoTracking leaves every campaign's links and images as they are,
	// whatever the campaign asked (as Settings' mode off does).
	NoTracking   bool
	ListIDDomain string // List-Id is <list slug>.<ListIDDomain>; default: the From domain
	// Bounce, when its domain is set, makes each message's envelope sender
	// a VERP address naming its subscriber and campaign (config
	// bounce_domain); otherwise the envelope sender is the From address.
	Bounce       bounce.VERP
	NameFallback string // for subscribers without a name ("Reader")
	// Sunset, when set, is applied once a day by the scheduler leader
	// (never while tracking is off or anonymous: nobody's engagement is
	// known then).
	Sunset *store.SunsetPolicy
	// Retention, when set, is applied once a day by the scheduler leader,
	// beside sending (it folds in small batches, then gives SQLite's
	// freed pages back).
	Retention *retention.Policy
	Log       *slog.Logger
	Now       func() time.Time
}

func (c *Config) setDefaults() {
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
	if s, ok := c.Sender.(interface{ MaxConns() int }); ok && c.Workers <= 0 {
		c.Workers = s.MaxConns()
	}
	def(&c.Workers, 4)
	def(&c.ClaimBatch, 50)
	def(&c.FlushEvery, 100)
	def(&c.MaxAttempts, 5)
	defDur(&c.FlushAfter, 200*time.Millisecond)
	defDur(&c.Lease, 5*time.Minute)
	defDur(&c.RetryBase, time.Minute)
	defDur(&c.Poll, 500*time.Millisecond)
	defDur(&c.StateEvery, 250*time.Millisecond)
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	c.BaseURL = strings.TrimSuffix(c.BaseURL, "/")
}

// Engine runs campaigns. Create it with New, run it with Run, and call Wake
// (or Start) when a campaign may have work.
type Engine struct {
	ledger Ledger
	cfg    Config
	wake   chan struct{}
	// recheck asks the state watcher to re-read campaign statuses now.
	recheck chan struct{}

	mu       sync.Mutex
	prepared map[int64]*campaignRun // by campaign ID
	// waitReported is when this engine last reported why a campaign's
	// mail waits (see reportWaiting).
	waitReported map[int64]time.Time
	// startFailed is why each scheduled campaign this engine could not
	// start failed last (reportNotStarted).
	startFailed map[int64]string
	// running is set while Run runs: this engine sends.
	running atomic.Bool
	// relayDownUntil (unix nanoseconds) holds claiming back after no relay
	// took a message, so an outage defers a few rows, not the whole list.
	relayDownUntil atomic.Int64
	// retaining is set while a retention run (started by the leader, once
	// a day) works beside sending; Run waits for it before returning.
	retaining atomic.Bool
	retention sync.WaitGroup
	// finished is closed (and replaced) each time this engine marks a
	// campaign sent; see Finished.
	finished chan struct{}
}

// New returns an engine over ledger.
func New(ledger Ledger, cfg Config) (*Engine, error) {
	cfg.setDefaults()
	if cfg.Sender == nil || cfg.Signer == nil {
		return nil, errors.New("delivery: a sender and a token signer are required")
	}
	return &Engine{ledger: ledger, cfg: cfg, wake: make(chan struct{}, 1), recheck: make(chan struct{}, 1),
		prepared: map[int64]*campaignRun{}, waitReported: map[int64]time.Time{}, startFailed: map[int64]string{}, finished: make(chan struct{})}, nil
}

// Finished returns a channel closed the next time this engine marks a
// campaign sent (its last outcome recorded), so a caller waiting for a
// campaign looks at once instead of on its next tick.
func (e *Engine) Finished() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.finished
}

// InFlightLimit is the most rows that can be claimed and not yet recorded at
// once: the bound on mail sent twice after a crash.
func (e *Engine) InFlightLimit() int {
	return 2*e.cfg.ClaimBatch + e.cfg.Workers + e.cfg.FlushEvery
}

// Wake tells the engine that campaigns changed: there may be new work (a
// campaign started or resumed), or mail already claimed must stay unsent (a
// campaign paused or cancelled). It never blocks.
func (e *Engine) Wake() {
	for _, ch := range []chan struct{}{e.wake, e.recheck} {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Start freezes a draft or scheduled campaign's edition, writes its ledger,
// and wakes the workers. It returns the number of recipients.
func (e *Engine) Start(ctx context.Context, id int64) (int64, error) {
	c, err := e.ledger.Campaign(ctx, id)
	if err != nil {
		return 0, err
	}
	if e.cfg.Freeze == nil {
		return 0, errors.New("delivery: no renderer configured to start campaigns")
	}
	if err := e.CheckLinks(); err != nil {
		return 0, err
	}
	frozen, err := e.cfg.Freeze(ctx, c)
	if err != nil {
		return 0, fmt.Errorf("render campaign %d: %w", id, err)
	}
	if e.running.Load() {
		// This engine sends what it starts: its transport is the
		// campaign's. (An engine built only to start a campaign, as
		// `herald campaign start` does, leaves that to the first engine
		// that sends it.)
		frozen.Transport = transportOf(e.cfg.Sender)
	}
	n, err := e.ledger.StartCampaign(ctx, id, frozen)
	if err != nil {
		return 0, err
	}
	e.cfg.Log.Info("campaign started", "campaign", id, "recipients", n)
	e.Wake()
	return n, nil
}

// campaignRun is what every message of one campaign shares, built once.
type campaignRun struct {
	id int64
	// halted is set once the campaign is no longer sending (paused,
	// cancelled): its claimed rows are given back unsent.
	halted   atomic.Bool
	sender   mailer.Sender // the campaign's relay, or the engine's sender
	tracking bool
	// anonymous keeps subscriber IDs out of tracking URLs.
	anonymous bool
	links     map[string]bool // the edition's links, which clicks may go to
	copy      *variantRun     // the edition's copy and headers
	// variants are an A/B test's copies (variant i+1 at index i); rows
	// held for the winner (variant 0) go out with variants[winner-1].
	variants []*variantRun
	winner   atomic.Int32
	web      string // the campaign's web version, the same for every reader
	bounce   string // envelope sender without VERP
	domain   string // Message-ID domain
}

func (e *Engine) prepare(ctx context.Context, id int64) (*campaignRun, error) {
	e.mu.Lock()
	run := e.prepared[id]
	e.mu.Unlock()
	if run != nil {
		return run, nil
	}
	c, err := e.ledger.Campaign(ctx, id)
	if err != nil {
		return nil, err
	}
	frozen, err := e.ledger.FrozenContent(ctx, id)
	if err != nil {
		return nil, err
	}
	if have := transportOf(e.cfg.Sender); frozen.Transport == "" && have != "" {
		if frozen.Transport, err = e.ledger.SettleCampaignTransport(ctx, id, have); err != nil {
			return nil, err
		}
	}
	if err := e.checkTransport(c, frozen); err != nil {
		return nil, err
	}
	// A campaign started elsewhere (into the outbox, or by a node with
	// base_url) waits on a node that would send it through a relay with
	// links no reader can reach.
	if err := CheckLinks(e.cfg.Sender, e.cfg.BaseURL, e.cfg.BaseURLGuessed); err != nil {
		return nil, &waitError{"this server sends through relays but has no base_url, so its links would reach no reader: set base_url"}
	}
	dkim := e.cfg.DKIM
	if e.cfg.Settings != nil {
		if dkim, err = e.cfg.Settings.SigningKey(ctx); err != nil {
			return nil, fmt.Errorf("campaign %d DKIM key: %w", id, err)
		}
	}
	list, err := CampaignList(ctx, e.ledger, c)
	if err != nil {
		return nil, err
	}
	mc, err := Identity{From: c.From, ReplyTo: c.ReplyTo, List: list, ListIDDomain: e.cfg.ListIDDomain, DKIM: dkim,
		UnsubscribeMailto: e.cfg.UnsubscribeMailto}.Config(id, frozen.Subject)
	if err != nil {
		return nil, fmt.Errorf("campaign %d: %w", id, err)
	}
	tmpl, err := message.New(mc)
	if err != nil {
		return nil, fmt.Errorf("campaign %d headers: %w", id, err)
	}
	sender := e.cfg.Sender
	if c.Relay != "" {
		picker, ok := e.cfg.Sender.(relayPicker)
		if !ok {
			return nil, &waitError{fmt.Sprintf("it must go through the relay %q, but this server has no relays configured", c.Relay)}
		}
		if sender, err = picker.Only(c.Relay); err != nil {
			return nil, &waitError{fmt.Sprintf("it must go through the relay %q, which is not in this server's configuration: %v", c.Relay, err)}
		}
	}
	tracking, anonymous := c.Tracking && !e.noTracking(), false
	if tracking && e.cfg.Settings != nil {
		if anonymous, err = e.cfg.Settings.Anonymous(ctx); err != nil {
			return nil, fmt.Errorf("campaign %d privacy setting: %w", id, err)
		}
	}
	links := make(map[string]bool, len(frozen.Links))
	for _, l := range frozen.Links {
		links[l] = true
	}
	run = &campaignRun{
		id:        id,
		sender:    sender,
		tracking:  tracking,
		anonymous: anonymous,
		links:     links,
		web:       Links{BaseURL: e.cfg.BaseURL, Signer: e.cfg.Signer}.Web(id),
		bounce:    mc.From.Email,
		domain:    address.Domain(mc.From.Email),
	}
	if run.copy, err = e.newVariant(run, render.Thaw(*frozen, e.cfg.NameFallback), tmpl); err != nil {
		return nil, fmt.Errorf("campaign %d: %w", id, err)
	}
	for i, v := range frozen.Variants {
		// Each variant differs in its subject (headers) and preheader
		// (copy); the placeholders share the campaign's prefix.
		vc, err := Identity{From: c.From, ReplyTo: c.ReplyTo, List: list, ListIDDomain: e.cfg.ListIDDomain, DKIM: dkim,
			UnsubscribeMailto: e.cfg.UnsubscribeMailto}.Config(id, v.Subject)
		if err != nil {
			return nil, fmt.Errorf("campaign %d A/B variant %d: %w", id, i+1, err)
		}
		vt, err := message.New(vc)
		if err != nil {
			return nil, fmt.Errorf("campaign %d A/B variant %d headers: %w", id, i+1, err)
		}
		vcopy := model.Frozen{Subject: v.Subject, Prefix: frozen.Prefix, HTML: v.HTML, Text: v.Text, Links: frozen.Links}
		vr, err := e.newVariant(run, render.Thaw(vcopy, e.cfg.NameFallback), vt)
		if err != nil {
			return nil, fmt.Errorf("campaign %d A/B variant %d: %w", id, i+1, err)
		}
		run.variants = append(run.variants, vr)
	}
	run.winner.Store(int32(c.ABWinner))
	if c.Problem != "" {
		// This node can send it: whatever held its mail is resolved.
		if err := e.ledger.SetCampaignProblem(ctx, id, ""); err != nil {
			return nil, err
		}
		e.cfg.Log.Info("campaign mail no longer waits", "campaign", id)
	}
	e.mu.Lock()
	e.prepared[id] = run
	delete(e.waitReported, id)
	e.mu.Unlock()
	return run, nil
}

// variantRun is one copy of a campaign (the edition's, or an A/B
// variant's: its subject and preheader differ) and its headers, ready to
// be built per reader both ways: whole (email, template), or spliced from
// runs encoded once (spliced, with the holes of html and text filled per
// reader).
type variantRun struct {
	email      *render.Email
	template   *message.Template
	spliced    *message.Spliced
	html, text render.Cut
}

// newVariant prepares one copy. With tracking, its HTML is rewritten for
// tracking once, with the reader's tracking URLs left as holes (or, when
// tracking is anonymous, the URLs every reader gets written in).
func (e *Engine) newVariant(run *campaignRun, email *render.Email, tmpl *message.Template) (*variantRun, error) {
	v := &variantRun{email: email, template: tmpl}
	cut := email
	if run.tracking {
		l := Links{BaseURL: e.cfg.BaseURL, Signer: e.cfg.Signer}
		cut = email.Track(func(html []byte, click, open, hidden string) []byte {
			if run.anonymous {
				click, open, hidden = l.Click(0, run.id, ""), l.Open(0, run.id), l.Hidden(0, run.id)
			}
			return track(nil, html, run.links, func(target string) string { return click + url.QueryEscape(target) }, open, hidden)
		})
	}
	v.html, v.text = cut.CutHTML(), cut.CutText()
	var err error
	if v.spliced, err = tmpl.Splice(message.Layout{Static: v.text.Static()}, message.Layout{Static: v.html.Static()}); err != nil {
		return nil, err
	}
	return v, nil
}

// pick returns the copy a row is sent with, or ok false for a row held
// for an A/B winner that this node does not know yet.
func (r *campaignRun) pick(variant int) (*variantRun, bool) {
	if len(r.variants) == 0 {
		return r.copy, true
	}
	if variant == 0 {
		variant = int(r.winner.Load())
	}
	if variant < 1 || variant > len(r.variants) {
		return nil, false
	}
	return r.variants[variant-1], true
}

// transportOf names the kind of transport a sender is (see mailer's
// Transport constants), or "" for one that does not say.
func transportOf(s mailer.Sender) string {
	if t, ok := s.(interface{ Transport() string }); ok {
		return t.Transport()
	}
	return ""
}

// CheckLinks is CheckLinks for the mail this engine sends: its transport
// and base URL.
func (e *Engine) CheckLinks() error {
	return CheckLinks(e.cfg.Sender, e.cfg.BaseURL, e.cfg.BaseURLGuessed)
}

// CheckLinks refuses to send mail to readers through relays (SMTP or an
// email provider's API) while the public address its links are built on
// is unknown: baseURL empty, or guessed from the listen address (guessed:
// the configuration sets no base_url), as http://127.0.0.1:8080 is, dead
// for every reader. The built-in outbox, which reaches no reader, may still
// take it; an explicit base_url, even a loopback one for tests, is
// respected. The error is a *validator.Error on the field "base_url", which
// every front door shows as it shows any refused input.
func CheckLinks(s mailer.Sender, baseURL string, guessed bool) error {
	if transportOf(s) != mailer.TransportSMTP || (baseURL != "" && !guessed) {
		return nil
	}
	return validator.New("base_url", "admin.validator.base_url", "Guess", cmp.Or(baseURL, "/"))
}

// checkTransport refuses to send a campaign through another kind of
// transport than the one it started with (recorded by the engine that
// started it, when that engine sends, or else by the first to send it): a campaign started through SMTP
// relays never lands in the outbox because a restart lost the relay
// configuration (its mail would be marked sent and reach nobody), and one
// started into the outbox never reaches real readers by surprise.
func (e *Engine) checkTransport(c *model.Campaign, frozen *model.Frozen) error {
	have := transportOf(e.cfg.Sender)
	if frozen.Transport == "" || have == "" || frozen.Transport == have {
		return nil
	}
	if frozen.Transport == mailer.TransportSMTP {
		return &waitError{"it started sending through SMTP relays, but this server has no relay configured (only the built-in outbox); " +
			"its mail waits until a relay is configured again"}
	}
	return &waitError{fmt.Sprintf("it started sending into the built-in outbox, but this server now sends through %s; "+
		"its mail waits (cancel it and send a new campaign to reach readers)", have)}
}

// waitError is why a campaign cannot be sent by this engine as configured:
// its rows wait, unsent, until a node that can send them claims them.
type waitError struct{ why string }

func (e *waitError) Error() string { return "mail waits: " + e.why }

// relayPicker is a transport with named relays (mailer.Mailer).
type relayPicker interface {
	Only(name string) (mailer.Sender, error)
}

// Links builds the public URLs that act for a subscriber.
type Links struct {
	BaseURL string
	Signer  *token.Signer
}

// Unsubscribe is the page (GET) and RFC 8058 one-click target (POST).
func (l Links) Unsubscribe(subscriberID, campaignID int64) string {
	return l.BaseURL + "/unsubscribe/" + l.Signer.Sign(token.Claims{Purpose: token.Unsubscribe, SubscriberID: subscriberID, CampaignID: campaignID})
}

// Preferences is the subscriber's preference centre.
func (l Links) Preferences(subscriberID int64) string {
	return l.BaseURL + "/preferences/" + l.Signer.Sign(token.Claims{Purpose: token.Preferences, SubscriberID: subscriberID})
}

// Web is the campaign's edition on the web. It carries a signed key, so an
// edition kept out of the public archive cannot be read by guessing
// campaign numbers.
func (l Links) Web(campaignID int64) string {
	return fmt.Sprintf("%s/archive/campaign/%d?k=%s", l.BaseURL, campaignID,
		l.Signer.Sign(token.Claims{Purpose: token.View, CampaignID: campaignID}))
}
