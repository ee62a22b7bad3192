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
	"time"

	"github.com/herald-news/herald/internal/admin"
	"github.com/herald-news/herald/internal/config"
	"github.com/herald-news/herald/internal/engage"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/metrics"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/store"
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
	// Opens, clicks and unsubscribes: group commits, and a spool in the
	// data folder when the database is behind (drained here and at the
	// next start).
	events, err := engage.NewRecorder(engage.Options{Store: s, SpoolDir: filepath.Join(cfg.DataDir, "spool"), Observer: met, Log: e.log})
	if err != nil {
		return err
	}
	defer events.Close(context.Background()) // on an early return; shutdown closes it first
	site, err := e.publicWeb(ctx, cfg, s, tr, events)
	if err != nil {
		return err
	}
	back, err := e.backOffice(ctx, cfg, s, tr, eng, met)
	if err != nil {
		return err
	}
	defer back.Close()
	handler := http.NewServeMux()
	handler.Handle("/admin/", back.admin)
	handler.Handle("/api/", back.api)
	handler.Handle("GET /media/{name}", back.media)
	handler.Handle("/", site)
	if token := cfg.MetricsToken.Reveal(); token != "" {
		handler.Handle("GET /metrics", met.Handler(token))
	}

	workCtx, stopWork := context.WithCancel(context.Background())
	defer stopWork()
	worked := make(chan error, 1)
	hooked := make(chan error, 1)
	deskDone := func() {}
	if cfg.Role == "web" {
		worked <- nil // this node serves pages only; others send
		hooked <- nil
	} else {
		go func() { worked <- eng.Run(workCtx) }()
		// Outgoing webhooks are posted by the sending nodes, each claiming
		// its share of the due deliveries.
		hooks := webhook.NewSender(s, webhook.Options{Log: e.log, Observer: met})
		go func() { hooked <- hooks.Run(workCtx) }()
		deskDone = e.runDesk(workCtx, cfg, s, tr)
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
	case err := <-worked:
		worked <- err // for the shutdown path below
		if cfg.Role != "web" {
			failed = fmt.Errorf("delivery workers stopped: %w", err)
		} else {
			<-ctx.Done()
		}
	case <-ctx.Done():
	}
	// Ordered shutdown: stop taking requests and let those in flight
	// finish, then let the workers finish the messages they hold and write
	// their outcomes, then (deferred) close the transport and the database.
	e.log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		failed = errors.Join(failed, fmt.Errorf("shut down http server: %w", err))
	}
	// Queued opens, clicks and confirmation mail go out before the workers stop.
	if err := site.Close(shutdownCtx); err != nil {
		failed = errors.Join(failed, fmt.Errorf("public web: %w", err))
	}
	if err := events.Close(shutdownCtx); err != nil {
		failed = errors.Join(failed, fmt.Errorf("events: %w", err))
	}
	stopWork()
	deskDone()
	if err := <-worked; err != nil {
		failed = errors.Join(failed, fmt.Errorf("delivery workers: %w", err))
	}
	if err := <-hooked; err != nil {
		failed = errors.Join(failed, fmt.Errorf("webhook sender: %w", err))
	}
	return failed
}

// publicWeb builds the public site (subscribe, unsubscribe, preferences,
// archive, feeds, tracking, webhooks) from the configuration.
func (e *env) publicWeb(ctx context.Context, cfg *config.Config, s *store.Store, tr mailer.Sender, events *engage.Recorder) (*web.Server, error) {
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
	csrf, err := s.SettingOrInit(ctx, "web_csrf_key", hex.EncodeToString(b[:]))
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
	if cfg.SendGridKey != "" {
		key, err := web.ParseSendGridKey(cfg.SendGridKey)
		if err != nil {
			return nil, fmt.Errorf("webhook_sendgrid_key: %w", err)
		}
		opts.Webhooks.SendGridKey = key
	}
	// The admin's privacy setting can make tracking anonymous at any time;
	// the configuration can still turn it off altogether.
	anonymous := func(ctx context.Context) (bool, error) {
		t, err := admin.LoadTracking(ctx, s)
		return t.Anonymous, err
	}
	// Archive pages and feeds render with the configured theme.
	themed := func(ctx context.Context) (*render.Renderer, error) { return renderer(ctx, cfg, s) }
	return web.NewServer(web.Deps{Store: s, Signer: sig, Mailer: tr, Renderer: themed, Anonymous: anonymous, BaseURL: cfg.BaseURL,
		Log: e.log, Options: opts, Events: events, Classifier: classifier})
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
