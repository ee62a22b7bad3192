// Package metrics owns Herald's Prometheus registry and serves it at
// /metrics. The packages it watches never import Prometheus: Metrics
// implements their small observer interfaces (mailer.Observer,
// importer.Observer, webhook.Observer, engage.Observer), wraps the HTTP handler to count
// requests by route pattern, and reads queue and ledger depths from the
// store when it is scraped.
//
// Contract: label values are bounded: relays are the configured ones,
// routes are net/http patterns (never raw paths, which carry subscribers'
// tokens), campaigns are those sending or paused. No metric carries an
// address, a token or a secret, and the endpoint answers only the bearer
// token it was given.
package metrics

import (
	"context"
	"crypto/subtle"

	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/store"
)

// Source is what a scrape reads from the store: *store.Store.
type Source interface {
	LedgerDepths(ctx context.Context) ([]store.LedgerDepth, error)
	MailBacklog(ctx context.Context) (int64, error)
	WebhookBacklog(ctx context.Context) (int64, error)
}

// Options configure New.
type Options struct {
	// Store is read at each scrape for ledger and queue depths (nil: no
	// depths are reported).
	Store Source
	// Relays reports the configured relays' state at each scrape
	// (*mailer.Mailer's Stats; nil without relays).
	Relays func() []mailer.RelayStats
	// Log gets relays leaving and rejoining the rotation, and scrape
	// errors.
	Log *slog.Logger
	// KeepChanges is how many relay rotation changes RelayChanges keeps
	// (20).
	KeepChanges int
}

// Metrics is Herald's registry with the collectors it feeds. Safe for
// concurrent use.
type Metrics struct {
	reg  *prometheus.Registry
	log  *slog.Logger
	keep int

	messages       *prometheus.CounterVec
	smtp           *prometheus.HistogramVec
	rotations      *prometheus.CounterVec
	requests       *prometheus.CounterVec
	requestTime    *prometheus.HistogramVec
	importRows     *prometheus.CounterVec
	importsRunning prometheus.Gauge
	webhookTries   *prometheus.CounterVec
	events         *prometheus.CounterVec

	mu      sync.Mutex
	changes []mailer.RotationEvent // oldest first, at most keep
}

// New builds the registry: Herald's metrics, the Go runtime's and the
// process's.
func New(o Options) *Metrics {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.KeepChanges <= 0 {
		o.KeepChanges = 20
	}
	m := &Metrics{reg: prometheus.NewRegistry(), log: o.Log, keep: o.KeepChanges}
	m.messages = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_mail_messages_total",
		Help: "Messages handed to the mail transport, by relay (the one that answered last; outbox for the built-in outbox, none when no relay could be tried) and result: sent, deferred (a temporary failure, tried again later) or failed.",
	}, []string{"relay", "result"})
	m.smtp = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "herald_smtp_transaction_seconds",
		Help:    "Time to hand one message to a relay, from taking a connection to the relay's last answer or the failure that ended it, by relay.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"relay"})
	m.rotations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_relay_rotation_changes_total",
		Help: "Relays taken out of rotation after repeated failures (change=out) and put back after a successful trial (change=in).",
	}, []string{"relay", "change"})
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_http_requests_total",
		Help: "HTTP requests by route pattern (unmatched when no route took the request) and status code.",
	}, []string{"route", "code"})
	m.requestTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "herald_http_request_duration_seconds",
		Help:    "Time to answer an HTTP request, by route pattern (event streams last as long as the page is open).",
		Buckets: prometheus.DefBuckets,
	}, []string{"route"})
	m.importRows = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_import_rows_total",
		Help: "CSV import rows by result: imported (new subscribers), updated, skipped or rejected.",
	}, []string{"result"})
	m.importsRunning = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "herald_imports_running",
		Help: "CSV imports running in this process.",
	})
	m.webhookTries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_webhook_attempts_total",
		Help: "Outgoing webhook posts by result: delivered (2xx), retried (to be tried again) or failed (no tries left).",
	}, []string{"result"})
	m.events = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_events_total",
		Help: "Opens, clicks and unsubscribes handed to the event recorder, by result: written (committed to the database), spooled (kept in the local spool while the database was behind; written later, counted again as written) or lost (neither the database nor the spool took them).",
	}, []string{"result"})
	for _, r := range []string{"written", "spooled", "lost"} {
		m.events.WithLabelValues(r)
	}
	for _, r := range []string{"imported", "updated", "skipped", "rejected"} {
		m.importRows.WithLabelValues(r)
	}
	for _, r := range []string{"delivered", "retried", "failed"} {
		m.webhookTries.WithLabelValues(r)
	}
	m.reg.MustRegister(m.messages, m.smtp, m.rotations, m.requests, m.requestTime, m.importRows, m.importsRunning, m.webhookTries, m.events,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&scrape{src: o.Store, relays: o.Relays, log: o.Log})
	return m
}

// Registry is the registry, for tests and for adding collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in Prometheus's text format to requests that
// carry token as a bearer token (Authorization: Bearer TOKEN) and refuses
// every other with 401. token must not be empty.
func (m *Metrics) Handler(token string) http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, ErrorLog: logAdapter{m.log}})
	want := []byte(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || len(want) == 0 || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="herald metrics"`)
			http.Error(w, "unauthorized: send the metrics_token as Authorization: Bearer TOKEN", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// logAdapter passes promhttp's errors to slog.
type logAdapter struct{ log *slog.Logger }

func (l logAdapter) Println(v ...any) {
	l.log.Error("metrics scrape", "err", strings.TrimSpace(fmt.Sprintln(v...)))
}

// Instrument counts every request next answers by the route pattern that
// took it (r.Pattern as the innermost net/http mux set it) and its status
// code, and times it.
func (m *Metrics) Instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		code := sw.status
		if code == 0 {
			code = http.StatusOK
		}
		m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
		m.requestTime.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

// statusWriter remembers the status code of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer (flushes of
// event streams, deadlines of downloads).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Message counts one message by relay and result (mailer.Observer).
func (m *Metrics) Message(relay string, err error) {
	if relay == "" {
		relay = "none"
	}
	m.messages.WithLabelValues(relay, Result(err)).Inc()
}

// Result names a send's result as herald_mail_messages_total does: sent,
// deferred or failed.
func Result(err error) string {
	switch {
	case err == nil:
		return "sent"
	case mailer.Classify(err) == mailer.Temporary:
		return "deferred"
	}
	return "failed"
}

// Transaction times one SMTP transaction (mailer.Observer).
func (m *Metrics) Transaction(relay string, took time.Duration) {
	m.smtp.WithLabelValues(relay).Observe(took.Seconds())
}

// Rotation logs a relay leaving or rejoining the rotation, counts it and
// keeps it for RelayChanges (mailer.Observer).
func (m *Metrics) Rotation(e mailer.RotationEvent) {
	if e.In {
		m.log.Info("relay back in rotation", "relay", e.Relay)
		m.rotations.WithLabelValues(e.Relay, "in").Inc()
	} else {
		m.log.Warn("relay taken out of rotation after repeated failures; mail goes to the other relays meanwhile", "relay", e.Relay, "reason", e.Reason)
		m.rotations.WithLabelValues(e.Relay, "out").Inc()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.changes = append(m.changes, e)
	if len(m.changes) > m.keep {
		m.changes = append(m.changes[:0], m.changes[len(m.changes)-m.keep:]...)
	}
}

// RelayChanges returns the relays' recent rotation changes on this node,
// newest first.
func (m *Metrics) RelayChanges() []mailer.RotationEvent {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]mailer.RotationEvent, len(m.changes))
	for i, e := range m.changes {
		out[len(out)-1-i] = e
	}
	return out
}

// ImportRunning counts imports in progress (importer.Observer).
func (m *Metrics) ImportRunning(delta int) { m.importsRunning.Add(float64(delta)) }

// ImportRows counts import rows by result (importer.Observer).
func (m *Metrics) ImportRows(result string, n int) {
	if n > 0 {
		m.importRows.WithLabelValues(result).Add(float64(n))
	}
}

// WebhookTried counts one webhook post by result (webhook.Observer).
func (m *Metrics) WebhookTried(result string) { m.webhookTries.WithLabelValues(result).Inc() }

// EventsRecorded implements engage.Observer.
func (m *Metrics) EventsRecorded(result string, n int) {
	m.events.WithLabelValues(result).Add(float64(n))
}

// scrape reads depths and relay states when Prometheus asks.
type scrape struct {
	src    Source
	relays func() []mailer.RelayStats
	log    *slog.Logger
}

var (
	ledgerDesc = prometheus.NewDesc("herald_ledger_rows",
		"Ledger rows of campaigns that are sending or paused, by campaign and state: pending, sending (claimed by a worker) or deferred (waiting for a retry).",
		[]string{"campaign", "state"}, nil)
	mailQueueDesc = prometheus.NewDesc("herald_mail_queue_messages",
		"Confirmation and welcome messages waiting in the queue, due or not.", nil, nil)
	webhookQueueDesc = prometheus.NewDesc("herald_webhook_queue_deliveries",
		"Outgoing webhook deliveries still to be made, due or not.", nil, nil)
	relayDesc = prometheus.NewDesc("herald_relay_in_rotation",
		"1 when the relay is in rotation on this node, 0 while it is out after repeated failures (or on trial).",
		[]string{"relay"}, nil)
	relayConnsDesc = prometheus.NewDesc("herald_relay_connections",
		"Open SMTP connections to the relay on this node.", []string{"relay"}, nil)
)

func (c *scrape) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{ledgerDesc, mailQueueDesc, webhookQueueDesc, relayDesc, relayConnsDesc} {
		ch <- d
	}
}

func (c *scrape) Collect(ch chan<- prometheus.Metric) {
	if c.relays != nil {
		for _, r := range c.relays() {
			up := 0.0
			if r.Breaker == mailer.BreakerClosed {
				up = 1
			}
			ch <- prometheus.MustNewConstMetric(relayDesc, prometheus.GaugeValue, up, r.Name)
			ch <- prometheus.MustNewConstMetric(relayConnsDesc, prometheus.GaugeValue, float64(r.OpenConns), r.Name)
		}
	}
	if c.src == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fail := func(d *prometheus.Desc, what string, err error) {
		ch <- prometheus.NewInvalidMetric(d, fmt.Errorf("%s: %w", what, err))
	}
	if depths, err := c.src.LedgerDepths(ctx); err != nil {
		fail(ledgerDesc, "read the ledger", err)
	} else {
		for _, d := range depths {
			id := strconv.FormatInt(d.CampaignID, 10)
			ch <- prometheus.MustNewConstMetric(ledgerDesc, prometheus.GaugeValue, float64(d.Pending), id, "pending")
			ch <- prometheus.MustNewConstMetric(ledgerDesc, prometheus.GaugeValue, float64(d.Sending), id, "sending")
			ch <- prometheus.MustNewConstMetric(ledgerDesc, prometheus.GaugeValue, float64(d.Deferred), id, "deferred")
		}
	}
	for _, q := range []struct {
		desc *prometheus.Desc
		what string
		read func(context.Context) (int64, error)
	}{
		{mailQueueDesc, "count queued mail", c.src.MailBacklog},
		{webhookQueueDesc, "count webhook deliveries", c.src.WebhookBacklog},
	} {
		n, err := q.read(ctx)
		if err != nil {
			fail(q.desc, q.what, err)
			continue
		}
		ch <- prometheus.MustNewConstMetric(q.desc, prometheus.GaugeValue, float64(n))
	}
}
