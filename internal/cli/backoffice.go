package cli

import (
	"context"
	"net/http"
	"os"
	"path/filepath"

	"github.com/herald-news/herald/internal/admin"
	"github.com/herald-news/herald/internal/api"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/config"
	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/importer"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/metrics"
	"github.com/herald-news/herald/internal/store"
)

// backOffice is the newsroom's side of the server: the admin pages, the
// JSON API and the uploaded media they link to.
type backOffice struct {
	admin   *admin.Admin
	api     http.Handler
	media   http.Handler
	imports *importer.Runner
}

// Close stops the imports still running; they resume at the next start.
func (b *backOffice) Close() error {
	b.imports.Close()
	return b.admin.Close()
}

// backOffice builds the admin and API, creating the first owner account on
// the first run (HERALD_ADMIN_PASSWORD, or a one-time password printed once).
func (e *env) backOffice(ctx context.Context, cfg *config.Config, s *store.Store, tr sender, eng *delivery.Engine, met *metrics.Metrics) (*backOffice, error) {
	ao, err := authOptions(ctx, cfg, s)
	if err != nil {
		return nil, err
	}
	ao.Log = e.log
	authn := auth.New(s, ao)
	if _, err := auth.Bootstrap(ctx, s, cfg.AdminEmail, cfg.AdminPassword.Reveal(), 12, e.stdout); err != nil {
		return nil, err
	}
	relays, err := relayConfigs(cfg, "")
	if err != nil {
		return nil, err
	}
	set, err := appSettings(cfg, s)
	if err != nil {
		return nil, err
	}
	var outbox *mailer.Outbox
	if ob, ok := tr.(outboxSender); ok {
		outbox = ob.Outbox
	}
	var relayStats func() []mailer.RelayStats
	if m, ok := tr.(*mailer.Mailer); ok {
		relayStats = m.Stats
	}
	verp, err := verpOf(ctx, cfg, s)
	if err != nil {
		return nil, err
	}
	tmp := filepath.Join(cfg.DataDir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, err
	}
	// CSV imports run in the background, their uploads kept in the data
	// folder until they end.
	imports := importer.NewRunner(s, tmp, e.log, met)
	adm, err := admin.New(admin.Deps{Store: s, Auth: authn, Engine: eng, Sender: tr, Outbox: outbox, Relays: relays,
		RelayStats: relayStats, RelayChanges: met.RelayChanges, Imports: imports,
		BounceDomain: cfg.BounceDomain, DNSResolver: cfg.DNSResolver, Precheck: e.editionChecks(cfg, s),
		Settings: set, Bounce: verp, BaseURL: cfg.BaseURL, BaseURLGuessed: cfg.BaseURLGuessed, From: cfg.From, ThemeDir: cfg.Theme, Sunset: sunsetPolicy(cfg), TempDir: tmp, TrustProxy: cfg.TrustProxy, Log: e.log,
		WebhookAllow: webhookAllow(cfg)})
	if err != nil {
		imports.Close()
		return nil, err
	}
	direct, err := e.direct(ctx, cfg, s, tr)
	if err != nil {
		imports.Close()
		return nil, err
	}
	apiH, err := api.New(api.Deps{Store: s, Auth: authn, Engine: eng, Direct: direct, From: cfg.From, BaseURL: cfg.BaseURL, Log: e.log, ImportObserver: met,
		TrustProxy: cfg.TrustProxy, WebhookAllow: webhookAllow(cfg), Precheck: e.editionChecks(cfg, s)})
	if err != nil {
		imports.Close()
		return nil, err
	}
	return &backOffice{admin: adm, api: apiH, media: admin.Media(s), imports: imports}, nil
}

// direct builds the transactional sender of POST /api/messages: the
// transport campaigns use, the same token signer and DKIM key (the
// configured one, else the one generated in the admin).
func (e *env) direct(ctx context.Context, cfg *config.Config, s *store.Store, tr mailer.Sender) (*delivery.Direct, error) {
	sig, set, verp, err := mailIdentity(ctx, cfg, s)
	if err != nil {
		return nil, err
	}
	return delivery.NewDirect(delivery.DirectConfig{Store: s, Sender: tr, Signer: sig, BaseURL: cfg.BaseURL, BaseURLGuessed: cfg.BaseURLGuessed, From: cfg.From,
		Settings: set, Bounce: verp, Render: renderOptions(cfg), Log: e.log})
}
