package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/herald-news/herald/internal/admin"
	"github.com/herald-news/herald/internal/config"
	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/message"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/token"
	"github.com/herald-news/herald/internal/web"
)

// sender is a mail transport the command must close.
type sender interface {
	mailer.Sender
	io.Closer
}

// outboxSender adapts the outbox, which holds no connections, to sender.
type outboxSender struct{ *mailer.Outbox }

func (outboxSender) Close() error { return nil }

// relayConfigs are the SMTP relays to send through: the one given on the
// command line, else the configured ones (none: use the outbox).
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

// transport builds the mail transport: the relay given on the command line,
// else the configured relays, else the built-in outbox in the data folder.
func transport(cfg *config.Config, relayURL string) (sender, string, error) {
	relays, err := relayConfigs(cfg, relayURL)
	if err != nil {
		return nil, "", err
	}
	if len(relays) == 0 {
		dir := filepath.Join(cfg.DataDir, "outbox")
		o, err := mailer.NewOutbox(dir, nil)
		if err != nil {
			return nil, "", err
		}
		return outboxSender{o}, "the built-in outbox (" + dir + ")", nil
	}
	m, err := mailer.New(mailer.Config{Relays: relays})
	if err != nil {
		return nil, "", err
	}
	desc := fmt.Sprintf("%d SMTP relay(s)", len(relays))
	if len(relays) == 1 {
		desc = "SMTP relay " + relays[0].Name
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
		if key, err = s.SettingOrInit(ctx, "secret_key", hex.EncodeToString(b[:])); err != nil {
			return nil, err
		}
	}
	return token.NewSigner([]byte(key))
}

// publication returns the saved publication settings, or a plain default
// for a first run.
func publication(ctx context.Context, cfg *config.Config, s *store.Store) (model.Publication, error) {
	p, err := s.GetPublication(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return defaultPublication(cfg), nil
	}
	return p, err
}

// defaultPublication stands in until publication settings are saved.
func defaultPublication(cfg *config.Config) model.Publication {
	return model.DefaultPublication(cfg.BaseURL)
}

// engine builds the delivery engine over s with the given transport.
func (e *env) engine(ctx context.Context, cfg *config.Config, s *store.Store, tr mailer.Sender) (*delivery.Engine, error) {
	sig, err := signer(ctx, cfg, s)
	if err != nil {
		return nil, err
	}
	dkim, err := dkimKeyFile(cfg)
	if err != nil {
		return nil, err
	}
	dc := delivery.Config{
		Sender:    tr,
		Signer:    sig,
		BaseURL:   cfg.BaseURL,
		Freeze:    delivery.EditionFreezer(s, defaultPublication(cfg), render.Options{ArchiveURL: cfg.BaseURL + "/archive/"}),
		Workers:   cfg.Workers,
		Lease:     cfg.Lease,
		RetryBase: cfg.RetryBase,
		DKIM:      dkim,
		Log:       e.log,
		// Tracking as the public web records it: none when the
		// configuration turns it off; no subscriber in any link when it
		// is anonymous, by configuration or by the admin's privacy setting.
		NoTracking: cfg.Tracking == string(web.TrackOff),
		Anonymous: func(ctx context.Context) (bool, error) {
			if cfg.Tracking == string(web.TrackAnonymous) {
				return true, nil
			}
			t, err := admin.LoadTracking(ctx, s)
			return t.Anonymous, err
		},
	}
	if cfg.SunsetMonths > 0 {
		if cfg.Tracking != string(web.TrackFull) {
			return nil, fmt.Errorf("config: sunset_months needs tracking = full (it is %s): without it nobody's opens and clicks are known", cfg.Tracking)
		}
		dc.Sunset = &store.SunsetPolicy{Months: cfg.SunsetMonths, Action: cfg.SunsetAction}
	}
	if dkim == nil {
		// No key file: a key generated in the admin's settings, read as
		// each campaign starts sending.
		dc.LoadDKIM = func(ctx context.Context) (*message.DKIM, error) { return admin.LoadDKIM(ctx, s) }
	}
	return delivery.New(s, dc)
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
