package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/bounce"
	"github.com/herald-news/herald/internal/config"
	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/message"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/retention"
	"github.com/herald-news/herald/internal/settings"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/token"
	"github.com/herald-news/herald/internal/unfurl"
)

// sender is a mail transport the command must close.
type sender interface {
	mailer.Sender
	io.Closer
}

// outboxSender adapts the outbox, which holds no connections, to sender,
// and reports what it stores to an observer as the relay "outbox".
type outboxSender struct {
	*mailer.Outbox
	obs mailer.Observer // nil: none
}

func (outboxSender) Close() error { return nil }

// Send stores the message in the outbox.
func (o outboxSender) Send(ctx context.Context, env mailer.Envelope, msg []byte) error {
	err := o.Outbox.Send(ctx, env, msg)
	if o.obs != nil {
		o.obs.Message("outbox", err)
	}
	return err
}

// relayConfigs are the relays (SMTP servers or email providers' HTTP
// APIs) to send through: the one given on the command line, else the
// configured ones (none: use the outbox).
func relayConfigs(cfg *config.Config, relayURL string) ([]mailer.RelayConfig, error) {
	if relayURL != "" {
		rc, err := mailer.ParseRelay(relayURL)
		if err != nil {
			return nil, fmt.Errorf("--relay: %w", err)
		}
		return []mailer.RelayConfig{rc}, nil
	}
	var relays []mailer.RelayConfig
	for _, r := range cfg.Relays {
		rc, err := mailer.ParseRelay(r.URL.Reveal())
		if err != nil {
			return nil, fmt.Errorf("relay %q: %w", r.Name, err)
		}
		rc.Name, rc.Priority, rc.Weight = r.Name, r.Priority, r.Weight
		relays = append(relays, rc)
	}
	return relays, nil
}

// outboxDir is the built-in outbox's folder.
func outboxDir(cfg *config.Config) string { return filepath.Join(cfg.DataDir, "outbox") }

// eraseFromOutbox removes the messages to an erased address from the
// outbox of the data folder, if there is one (also when relays send the
// mail now: the outbox may hold what was captured before).
func eraseFromOutbox(cfg *config.Config, email string) error {
	o, err := existingOutbox(cfg)
	if o == nil || err != nil {
		return err
	}
	_, err = o.RemoveAddressedTo(email)
	return err
}

// existingOutbox is the outbox of the data folder, nil when there is none.
func existingOutbox(cfg *config.Config) (*mailer.Outbox, error) {
	dir := outboxDir(cfg)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return mailer.NewOutbox(dir, nil)
}

// transport builds the mail transport: the relay given on the command line,
// else the configured relays, else the built-in outbox in the data folder.
// obs, when not nil, hears every message (metrics).
func transport(cfg *config.Config, relayURL string, obs mailer.Observer) (sender, string, error) {
	relays, err := relayConfigs(cfg, relayURL)
	if err != nil {
		return nil, "", err
	}
	if len(relays) == 0 {
		dir := outboxDir(cfg)
		o, err := mailer.NewOutbox(dir, nil)
		if err != nil {
			return nil, "", err
		}
		return outboxSender{Outbox: o, obs: obs}, "the built-in outbox (" + dir + ")", nil
	}
	m, err := mailer.New(mailer.Config{Relays: relays, Observer: obs})
	if err != nil {
		return nil, "", err
	}
	desc := fmt.Sprintf("%d relays", len(relays))
	if len(relays) == 1 {
		desc = fmt.Sprintf("the %s relay %s", relays[0].Kind, relays[0].Name)
	}
	return m, desc, nil
}

// signer returns the token signer: the configured secret key, or one
// generated on first use and kept in the database, so every node of a
// deployment signs alike.
func signer(ctx context.Context, cfg *config.Config, s *store.Store) (*token.Signer, error) {
	key := cfg.SecretKey.Reveal()
	if key == "" {
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		var err error
		if key, err = s.SettingOrInit(ctx, settings.KeySecret, hex.EncodeToString(b[:])); err != nil {
			return nil, err
		}
	}
	return token.NewSigner([]byte(key))
}

// authOptions configures sign-in: reset links signed with the token key,
// passkeys and single sign-on redirects at base_url, and the [oidc.NAME]
// providers.
func authOptions(ctx context.Context, cfg *config.Config, s *store.Store) (auth.Options, error) {
	sig, err := signer(ctx, cfg, s)
	if err != nil {
		return auth.Options{}, err
	}
	o := auth.Options{Signer: sig, BaseURL: cfg.BaseURL, Issuer: "Herald"}
	if pub, err := s.GetPublication(ctx); err == nil && pub.Name != "" {
		o.Issuer = pub.Name
	}
	for _, p := range cfg.OIDC {
		pc := auth.ProviderConfig{Name: p.Name, Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret.Reveal(),
			AllowedDomains: p.AllowedDomains, RoleClaim: p.RoleClaim, RoleMap: map[string]auth.Role{},
			DefaultRole: auth.Role(p.DefaultRole), AutoCreate: p.AutoCreate, TrustUnverifiedEmail: p.TrustUnverifiedEmail}
		for g, r := range p.RoleMap {
			pc.RoleMap[g] = auth.Role(r)
		}
		o.Providers = append(o.Providers, pc)
	}
	return o, nil
}

// verpOf is the configuration's VERP: envelope senders
// bounces+TOKEN@bounce_domain, signed with the token signer; off without a
// bounce_domain.
func verpOf(ctx context.Context, cfg *config.Config, s *store.Store) (bounce.VERP, error) {
	if cfg.BounceDomain == "" {
		return bounce.VERP{}, nil
	}
	sig, err := signer(ctx, cfg, s)
	if err != nil {
		return bounce.VERP{}, err
	}
	return bounce.VERP{Signer: sig, Domain: cfg.BounceDomain}, nil
}

// bounceRecorder records every bounce and complaint, from the webhooks and
// by mail, with the configured soft-bounce limit.
func (e *env) bounceRecorder(ctx context.Context, cfg *config.Config, s *store.Store) (*bounce.Recorder, error) {
	verp, err := verpOf(ctx, cfg, s)
	if err != nil {
		return nil, err
	}
	return &bounce.Recorder{Store: s, VERP: verp, SoftLimit: cfg.SoftBounceLimit, Log: e.log}, nil
}

// publication returns the saved publication settings, or a plain default
// for a first run.
func publication(ctx context.Context, cfg *config.Config, s *store.Store) (model.Publication, error) {
	return settings.LoadPublication(ctx, s, defaultPublication(cfg))
}

// renderOptions are the options of every renderer the commands build: the
// configured theme, and archive links on the public site.
func renderOptions(cfg *config.Config) render.Options {
	return render.Options{ThemeDir: cfg.Theme, ArchiveURL: cfg.BaseURL + "/archive/"}
}

// renderer builds a renderer for the saved publication settings.
func renderer(ctx context.Context, cfg *config.Config, s *store.Store) (*render.Renderer, error) {
	pub, err := publication(ctx, cfg, s)
	if err != nil {
		return nil, err
	}
	return render.New(pub, renderOptions(cfg))
}

// defaultPublication stands in until publication settings are saved.
func defaultPublication(cfg *config.Config) model.Publication {
	return model.DefaultPublication(cfg.BaseURL)
}

// campaignRenderOptions are the render options campaigns freeze with: the
// configuration's theme, or else the one `herald serve` renders with on
// this database (recorded at its start), so that a campaign started from
// the command line looks like what the editor approved in the admin.
func (e *env) campaignRenderOptions(ctx context.Context, cfg *config.Config, s *store.Store) (render.Options, error) {
	opts := renderOptions(cfg)
	if opts.ThemeDir != "" {
		return opts, nil
	}
	dir, err := settings.ServeTheme(ctx, s)
	if err != nil || dir == "" {
		return opts, err
	}
	if _, err := os.Stat(dir); err != nil {
		return opts, fmt.Errorf("herald serve renders with the theme in %s, which this machine cannot read (%v): give the same theme with --theme or the theme key, so readers get what the admin shows", dir, err)
	}
	opts.ThemeDir = dir
	return opts, nil
}

// engine builds the delivery engine over s with the given transport.
func (e *env) engine(ctx context.Context, cfg *config.Config, s *store.Store, tr mailer.Sender) (*delivery.Engine, error) {
	sig, set, verp, err := mailIdentity(ctx, cfg, s)
	if err != nil {
		return nil, err
	}
	opts, err := e.campaignRenderOptions(ctx, cfg, s)
	if err != nil {
		return nil, err
	}
	dc := delivery.Config{
		Bounce:  verp,
		Sender:  tr,
		Signer:  sig,
		BaseURL: cfg.BaseURL,
		// No base_url configured: no campaign goes to readers through
		// relays with links to the listen address (delivery.CheckLinks).
		BaseURLGuessed: cfg.BaseURLGuessed,
		Freeze:         delivery.EditionFreezer(s, defaultPublication(cfg), opts),
		Workers:        cfg.Workers,
		Lease:          cfg.Lease,
		RetryBase:      cfg.RetryBase,
		// The signing key, and tracking as the public web records it.
		Settings: set,
		Log:      e.log,
	}
	if cfg.SunsetMonths > 0 {
		if cfg.Tracking != string(settings.TrackFull) {
			return nil, fmt.Errorf("config: sunset_months needs tracking = full (it is %s): without it nobody's opens and clicks are known", cfg.Tracking)
		}
		dc.Sunset = sunsetPolicy(cfg)
	}
	if ret := retentionPolicy(cfg); !ret.Off() {
		if err := ret.Check(cfg.SunsetMonths); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		ret.Pause = 20 * time.Millisecond // let sending's writes in between batches
		dc.Retention = &ret
	}
	return delivery.New(s, dc)
}

// sunsetPolicy is the configuration's sunset policy, nil when it sets
// none.
func sunsetPolicy(cfg *config.Config) *store.SunsetPolicy {
	if cfg.SunsetMonths == 0 {
		return nil
	}
	return &store.SunsetPolicy{Months: cfg.SunsetMonths, Action: cfg.SunsetAction, SuppressAfter: cfg.SunsetSuppressAfter}
}

// mailIdentity is what every builder of Herald's mail needs (campaigns,
// transactional messages, the mail queue): the token signer, the settings
// (DKIM key, publication) and the VERP envelope sender.
func mailIdentity(ctx context.Context, cfg *config.Config, s *store.Store) (*token.Signer, *settings.Settings, bounce.VERP, error) {
	sig, set, err := signerAndSettings(ctx, cfg, s)
	if err != nil {
		return nil, nil, bounce.VERP{}, err
	}
	verp, err := verpOf(ctx, cfg, s)
	if err != nil {
		return nil, nil, bounce.VERP{}, err
	}
	return sig, set, verp, nil
}

// signerAndSettings are the token signer and the settings every mail
// builder needs: links it signs, the DKIM key and publication it reads.
func signerAndSettings(ctx context.Context, cfg *config.Config, s *store.Store) (*token.Signer, *settings.Settings, error) {
	sig, err := signer(ctx, cfg, s)
	if err != nil {
		return nil, nil, err
	}
	set, err := appSettings(cfg, s)
	if err != nil {
		return nil, nil, err
	}
	return sig, set, nil
}

// appSettings are the settings kept in the database under what the
// configuration fixes: its DKIM key file (else a key generated in the
// admin, read as each message or campaign needs it) and its tracking mode.
func appSettings(cfg *config.Config, s *store.Store) (*settings.Settings, error) {
	dkim, err := dkimKeyFile(cfg)
	if err != nil {
		return nil, err
	}
	set := settings.New(s, cfg.BaseURL)
	set.DKIM, set.Tracking = dkim, settings.TrackingMode(cfg.Tracking)
	return set, nil
}

// retentionPolicy is the configuration's retention.
func retentionPolicy(cfg *config.Config) retention.Policy {
	return retention.Policy{EventsDays: cfg.RetentionEventsDays, LedgerDays: cfg.RetentionLedgerDays}
}

// dkimKeyFile is the DKIM signing key of the configuration (key file,
// selector, domain), or nil when none is configured.
func dkimKeyFile(cfg *config.Config) (*message.DKIM, error) {
	if cfg.DKIMKeyFile == "" {
		return nil, nil
	}
	key, err := message.LoadKey(cfg.DKIMKeyFile)
	if err != nil {
		return nil, fmt.Errorf("config: dkim_key_file: %w", err)
	}
	return &message.DKIM{Domain: cfg.DKIMDomain, Selector: cfg.DKIMSelector, Key: key}, nil
}

// webhookAllow is where outgoing webhooks may post besides public
// addresses: everywhere when the operator set webhook_allow_private.
func webhookAllow(cfg *config.Config) []netip.Prefix {
	if cfg.WebhookAllowPrivate {
		return unfurl.Everywhere
	}
	return nil
}
