package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/herald-news/herald/internal/doctor"
	"github.com/herald-news/herald/internal/message"
	"github.com/herald-news/herald/internal/store"
)

// errRecords is herald doctor's failure: the lines above say which.
var errRecords = errors.New("some DNS records are missing or wrong; publish the records above (DNS changes can take up to the records' TTL to show)")

// runDoctor looks up the sending domain's DNS records and prints one line
// per check, then the records to publish; it exits 1 unless all are right.
func runDoctor(ctx context.Context, e *env, args []string) error {
	fs := e.flags("doctor", "")
	e.configFlag(fs, "resolver", "dns_resolver", "DNS server to ask, host:port (default: the system's resolver)")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	cfg, err := e.config()
	if err != nil {
		return err
	}
	relays, err := relayConfigs(cfg, "")
	if err != nil {
		return err
	}
	// The key campaigns sign with: the configuration's key file, else the
	// one generated in the admin.
	var key *message.DKIM
	err = e.withStore(ctx, func(s *store.Store) error {
		set, err := appSettings(cfg, s)
		if err != nil {
			return err
		}
		key, err = set.SigningKey(ctx)
		return err
	})
	if err != nil {
		return err
	}
	opts, err := doctor.For(cfg.From, relays, key, cfg.BounceDomain, cfg.DNSResolver)
	if err != nil {
		return fmt.Errorf("config: from: %w", err)
	}
	checks := doctor.Run(ctx, opts)
	for _, c := range checks {
		fmt.Fprintf(e.stdout, "%-4s  %-5s  %s\n", c.Status, c.Name, c.Detail)
	}
	if doctor.AllOK(checks) {
		return nil
	}
	fmt.Fprintln(e.stdout, "\nTo fix:")
	for _, c := range checks {
		if c.Status == doctor.Fail && c.Fix != "" {
			fmt.Fprintf(e.stdout, "  %s: %s\n", c.Name, c.Fix)
		}
	}
	return &ExitError{Code: 1, Err: errRecords}
}
