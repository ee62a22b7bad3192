package cli

import (
	"context"
	"fmt"

	"github.com/herald-news/herald/internal/store"
)

func runMigrate(ctx context.Context, e *env, args []string) error {
	fs := e.flags("migrate", "")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	cfg, err := e.config()
	if err != nil {
		return err
	}
	if err := e.privateDataDir(cfg.DataDir); err != nil {
		return err
	}
	s, err := store.Open(ctx, store.Options{DatabaseURL: cfg.DatabaseURL.Reveal(), SQLitePath: cfg.SQLitePath(), Synchronous: cfg.SQLiteSynchronous, NoMigrate: true})
	if err != nil {
		return err
	}
	defer s.Close()
	applied, err := s.Migrate(ctx)
	for _, name := range applied {
		fmt.Fprintln(e.stdout, "applied", name)
	}
	if err != nil {
		return err
	}
	v, _ := s.SchemaVersion()
	fmt.Fprintf(e.stdout, "%s database at schema version %d\n", s.Kind(), v)
	return nil
}
