package cli

import (
	"context"
	"fmt"

	"github.com/herald-news/herald/internal/config"
	"github.com/herald-news/herald/internal/secretbox"
	"github.com/herald-news/herald/internal/store"
)

// masterBox is the sealer of the secrets kept in the database: the
// configured master key (and the previous one during a rotation), or nil
// when none is set.
func masterBox(cfg *config.Config) (*secretbox.Box, error) {
	if cfg.MasterKey.Reveal() == "" {
		if cfg.MasterKeyPrevious.Reveal() != "" {
			return nil, fmt.Errorf("config: master_key_previous is set without master_key: give the new key as master_key")
		}
		return nil, nil
	}
	box, err := secretbox.New(cfg.MasterKey.Reveal(), cfg.MasterKeyPrevious.Reveal())
	if err != nil {
		return nil, fmt.Errorf("config: master_key: %w", err)
	}
	return box, nil
}

func secretsCommands() []command {
	return []command{
		{"secrets reseal", "", "seal the secrets kept in the database with the master key (after setting or changing HERALD_MASTER_KEY)", runSecretsReseal},
	}
}

// runSecretsReseal seals every secret kept in the database with the
// current master key: ones kept clear before a key was set, and ones
// sealed with master_key_previous (a rotation).
func runSecretsReseal(ctx context.Context, e *env, args []string) error {
	fs := e.flags("secrets reseal", "")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	return e.withStore(ctx, func(s *store.Store) error {
		n, err := s.ResealSecrets(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "sealed %d secrets with the current master key\n", n)
		return nil
	})
}
