package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/herald-news/herald/internal/bounce"
	"github.com/herald-news/herald/internal/config"
	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/engage"
	"github.com/herald-news/herald/internal/inbound"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/metrics"
	"github.com/herald-news/herald/internal/series"
	"github.com/herald-news/herald/internal/settings"
	"github.com/herald-news/herald/internal/source"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/unfurl"
	"github.com/herald-news/herald/internal/web"
	"github.com/herald-news/herald/internal/webhook"
)

func runServe(ctx context.Context, e *env, args []string) error {
	fs := e.flags("serve", "[--http ADDR]")
	e.configFlag(fs, "http", "http_addr", "listen address (default 127.0.0.1:8080)")
	e.configFlag(fs, "theme", "theme", "folder with email.html and/or web.html overriding the default theme")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	cfg, err := e.config()
	if err != nil {
		return err
	}
	s, err := e.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	// A theme that is missing or does not render stops serve now, not
	// the first campaign or page that needs it.
	if _, err := renderer(ctx, cfg, s); err != nil {
		return err
	}
	// Commands run against this database freeze campaigns in the same look.
	theme := cfg.Theme
	if theme != "" {
		if theme, err = filepath.Abs(theme); err != nil {
			return fmt.Errorf("theme: %w", err)
		}
	}
	if err := settings.SaveServeTheme(ctx, s, theme); err != nil {
		return err
	}
	// Metrics are counted always (it costs little) and served only with
	// a metrics_token.
	var relayStats func() []mailer.RelayStats
	met := metrics.New(metrics.Options{Store: s, Log: e.log, Relays: func() []mailer.RelayStats {
		if relayStats == nil {
			return nil
		}
		return relayStats()
	}})
	tr, via, err := transport(cfg, "", met)
	if err != nil {
		return err
	}
	defer tr.Close()
	if m, ok := tr.(*mailer.Mailer); ok {
		relayStats = m.Stats
	}
	eng, err := e.engine(ctx, cfg, s, tr)
	if err != nil {
		return err
	}
	mail, err := e.mailQueue(ctx, cfg, s, tr)
	if err != nil {
		return err
	}
	// Opens, clicks and unsubscribes: group commits, and a spool in the
	// data folder when the database is behind (drained here and at the
	// next start).
	events, err := engage.NewRecorder(engage.Options{Store: s, SpoolDir: filepath.Join(cfg.DataDir, "spool"), Observer: met, Log: e.log})
	if err != nil {
		return err
	}
	defer func() { _ = events.Close(context.Background()) }() // on an early return; shutdown closes it first, checking
	bounces, err := e.bounceRecorder(ctx, cfg, s)
	if err != nil {
		return err
	}
	site, err := e.publicWeb(ctx, cfg, s, mail, bounces, events)
	if err != nil {
		return err
	}
	back, err := e.backOffice(ctx, cfg, s, tr, eng, met)
	if err != nil {
		return err
	}
	defer func() { _ = back.Close() }() // stops running imports; they resume from their job rows
	handler := http.NewServeMux()
	handler.Handle("/admin/", back.admin)
	handler.Handle("/api/", back.api)
	handler.Handle("GET /media/{name}", back.media)
	handler.Handle("/", site)
	if token := cfg.MetricsToken.Reveal(); token != "" {
		handler.Handle("GET /metrics", met.Handler(token))
	}

	var root http.Handler = handler
	if cfg.Role == "worker" {
		// A sending-only node answers health checks (and metrics) and
		// nothing else.
		health := http.NewServeMux()
		health.Handle("GET /healthz", site)
		if token := cfg.MetricsToken.Reveal(); token != "" {
			health.Handle("GET /metrics", met.Handler(token))
		}
		root = health
	}
	root = met.Instrument(root)

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	// The workers start once the port is ours: a second serve on a taken
	// port stops before it sends anything.
	ws, err := e.workers(cfg, s, tr, eng, met, mail)
	if err != nil {
		ln.Close()
		return err
	}
	bws, err := e.bounceWorkers(cfg, s, bounces)
	if err != nil {
		ln.Close()
		return err
	}
	ws = append(ws, bws...)
	workCtx, stopWork := context.WithCancel(context.Background())
	defer stopWork()
	running := startWorkers(workCtx, ws)
	srv := &http.Server{
		Handler:           root,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	e.log.Info("herald is serving", "addr", "http://"+ln.Addr().String(), "role", cfg.Role, "database", s.Kind(), "data", cfg.DataDir, "mail", via,
		"metrics", cfg.MetricsToken != "")

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var failed error
	select {
	case err := <-errc:
		failed = fmt.Errorf("http server: %w", err)
	case err := <-running.early:
		failed = err
	case <-ctx.Done():
	}
	// Ordered shutdown: stop taking requests and let those in flight
	// finish, then let the workers finish the messages they hold and write
	// their outcomes, then (deferred) close the transport and the database.
	e.log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		failed = errors.Join(failed, fmt.Errorf("shut down http server: %w", err))
	}
	// Queued opens and clicks are written before the workers stop.
	if err := site.Close(shutdownCtx); err != nil {
		failed = errors.Join(failed, fmt.Errorf("public web: %w", err))
	}
	if err := events.Close(shutdownCtx); err != nil {
		failed = errors.Join(failed, fmt.Errorf("events: %w", err))
	}
	stopWork()
	return errors.Join(failed, running.wait())
}

// worker is one of a node's background jobs: it runs until ctx ends.
type worker struct {
	name string
	run  func(ctx context.Context) error
}

// workers are the background jobs of this node's role. Every node sends
// the confirmation and welcome messages its signups queue (others' too:
// one queue in the store); a web node runs nothing else (other nodes
// send); the others send campaigns, post outgoing webhooks (each node
// claiming its share of the due deliveries), poll feeds and run the series
// scheduler, all coordinated through the store.
func (e *env) workers(cfg *config.Config, s *store.Store, tr mailer.Sender, eng *delivery.Engine, met *metrics.Metrics, mail *delivery.MailQueue) ([]worker, error) {
	// At shutdown the messages in hand get as long as the HTTP server.
	ws := []worker{{"mail queue", func(ctx context.Context) error { return mail.Run(ctx, shutdownGrace) }}}
	// Erasures on any node clear this node's outbox too.
	if o, err := existingOutbox(cfg); err != nil {
		return nil, err
	} else if o != nil {
		ws = append(ws, worker{"outbox erasure sweep", func(ctx context.Context) error { return delivery.KeepOutboxErased(ctx, s, o, e.log) }})
	}
	if cfg.Role == "web" {
		return ws, nil
	}
	set, err := appSettings(cfg, s)
	if err != nil {
		return nil, err
	}
	hooks := webhook.NewSender(s, webhook.Options{Log: e.log, Observer: met, Allow: webhookAllow(cfg)})
	poller := &source.Poller{Store: s, Client: unfurl.NewClient(unfurl.Options{}), Log: e.log}
	sched := &series.Scheduler{Store: s, Check: delivery.SeriesCheck(s, cfg.From), Log: e.log,
		Remind: delivery.Reminders(tr, set, cfg.From, cfg.BaseURL)}
	return append(ws,
		worker{"delivery workers", eng.Run},
		worker{"webhook sender", hooks.Run},
		worker{"feed poller", poller.Run},
		worker{"series scheduler", sched.Run},
	), nil
}

// shutdownGrace bounds each step of the shutdown: requests in flight, then
// the messages the workers hold.
const shutdownGrace = 20 * time.Second

// mailQueue builds the queue of confirmation and welcome messages, sent
// through tr, signed with the configured or generated DKIM key.
func (e *env) mailQueue(ctx context.Context, cfg *config.Config, s *store.Store, tr mailer.Sender) (*delivery.MailQueue, error) {
	sig, set, verp, err := mailIdentity(ctx, cfg, s)
	if err != nil {
		return nil, err
	}
	return delivery.NewMailQueue(delivery.MailQueueConfig{Store: s, Sender: tr, Signer: sig, Settings: set, Bounce: verp,
		BaseURL: cfg.BaseURL, BaseURLGuessed: cfg.BaseURLGuessed, Log: e.log})
}

// runningWorkers are workers started by startWorkers.
type runningWorkers struct {
	early chan error // a worker that stopped before its context ended
	wg    sync.WaitGroup
	mu    sync.Mutex
	errs  []error
}

// startWorkers runs each worker in its own goroutine until ctx ends.
func startWorkers(ctx context.Context, ws []worker) *runningWorkers {
	r := &runningWorkers{early: make(chan error, len(ws))}
	for _, w := range ws {
		r.wg.Go(func() {
			err := w.run(ctx)
			if ctx.Err() == nil {
				// Stopped on its own: serve stops too.
				r.early <- fmt.Errorf("%s stopped: %w", w.name, errors.Join(err, errStoppedEarly))
				return
			}
			if err != nil {
				r.mu.Lock()
				r.errs = append(r.errs, fmt.Errorf("%s: %w", w.name, err))
				r.mu.Unlock()
			}
		})
	}
	return r
}

// errStoppedEarly: a worker returned before its context ended.
var errStoppedEarly = errors.New("before shutdown")

// wait waits for every worker to return and joins their errors.
func (r *runningWorkers) wait() error {
	r.wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	return errors.Join(r.errs...)
}

// publicWeb builds the public site (subscribe, unsubscribe, preferences,
// archive, feeds, tracking, webhooks) from the configuration.
func (e *env) publicWeb(ctx context.Context, cfg *config.Config, s *store.Store, mail *delivery.MailQueue, bounces *bounce.Recorder, events *engage.Recorder) (*web.Server, error) {
	classifier, err := classifier(cfg)
	if err != nil {
		return nil, err
	}
	sig, err := signer(ctx, cfg, s)
	if err != nil {
		return nil, err
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	// One key for every node, so a form served by one validates on another.
	csrf, err := s.SettingOrInit(ctx, settings.KeyCSRF, hex.EncodeToString(b[:]))
	if err != nil {
		return nil, err
	}
	opts := web.DefaultOptions()
	opts.Secret = []byte(csrf)
	opts.Tracking = web.TrackingMode(cfg.Tracking)
	opts.RateLimit.Off = cfg.FormRateLimit == 0
	if cfg.FormRateLimit > 0 {
		opts.RateLimit.PerMinute = cfg.FormRateLimit
	}
	opts.TrustProxy = cfg.TrustProxy
	opts.Welcome = cfg.Welcome
	opts.Webhooks.Secret = cfg.WebhookSecret.Reveal()
	opts.Webhooks.SNSTopics = cfg.SNSTopics
	opts.Webhooks.SoftBounceThreshold = cfg.SoftBounceLimit
	if cfg.SendGridKey != "" {
		key, err := inbound.ParseSendGridKey(cfg.SendGridKey)
		if err != nil {
			return nil, fmt.Errorf("webhook_sendgrid_key: %w", err)
		}
		opts.Webhooks.SendGridKey = key
	}
	if key := cfg.MailgunKey.Reveal(); key != "" {
		v, err := inbound.NewMailgunVerifier(key)
		if err != nil {
			return nil, fmt.Errorf("webhook_mailgun_key: %w", err)
		}
		opts.Webhooks.Mailgun = v
	}
	// The admin's privacy setting can make tracking anonymous at any time;
	// the configuration can still turn it off altogether.
	set, err := appSettings(cfg, s)
	if err != nil {
		return nil, err
	}
	// Archive pages and feeds render with the configured theme.
	return web.NewServer(web.Deps{Store: s, Signer: sig, Mail: mail, Settings: set, ThemeDir: cfg.Theme, BaseURL: cfg.BaseURL,
		Bounces: bounces, Log: e.log, Options: opts, Events: events, Classifier: classifier})
}

// classifier builds the engagement classifier: the built-in signatures and
// those of the engagement_signatures file.
func classifier(cfg *config.Config) (*engage.Classifier, error) {
	if cfg.EngagementSignatures == "" {
		return engage.NewClassifier(), nil
	}
	data, err := os.ReadFile(cfg.EngagementSignatures)
	if err != nil {
		return nil, fmt.Errorf("engagement_signatures: %w", err)
	}
	extra, err := engage.ParseSignatures(data)
	if err != nil {
		return nil, fmt.Errorf("engagement_signatures %s: %w", cfg.EngagementSignatures, err)
	}
	return engage.NewClassifier(extra...), nil
}

// bounceWorkers take bounce reports by mail: the SMTP listener
// (bounce_smtp_addr) on any node it is configured for (a front door, like
// HTTP: its port is bound here, before anything runs), and the mailbox
// poller (bounce_imap_url) on the sending nodes, one of them at a time.
func (e *env) bounceWorkers(cfg *config.Config, s *store.Store, rec *bounce.Recorder) ([]worker, error) {
	var ws []worker
	if raw := cfg.BounceIMAPURL.Reveal(); raw != "" && cfg.Role != "web" {
		u, err := bounce.ParseMailboxURL(raw)
		if err != nil {
			return nil, fmt.Errorf("config: bounce_imap_url: %w", err)
		}
		box := &bounce.Mailbox{URL: u, Rec: rec, Leases: s}
		e.log.Info("reading bounce reports from a mailbox", "mailbox", u.Name())
		ws = append(ws, worker{"bounce mailbox", box.Run})
	}
	if cfg.BounceSMTPAddr != "" {
		if cfg.BounceDomain == "" {
			return nil, errors.New("config: bounce_smtp_addr needs bounce_domain: the listener takes mail for that domain only")
		}
		ln, err := net.Listen("tcp", cfg.BounceSMTPAddr)
		if err != nil {
			return nil, fmt.Errorf("bounce listener on %s: %w", cfg.BounceSMTPAddr, err)
		}
		l := bounce.NewListener(rec, cfg.BounceDomain)
		e.log.Info("taking bounce reports by SMTP", "addr", ln.Addr().String(), "domain", cfg.BounceDomain)
		ws = append(ws, worker{"bounce listener", func(ctx context.Context) error {
			served := make(chan error, 1)
			go func() { served <- l.Serve(ln) }()
			select {
			case err := <-served:
				return err
			case <-ctx.Done():
			}
			sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
			defer cancel()
			return errors.Join(l.Shutdown(sctx), <-served)
		}})
	}
	return ws, nil
}
