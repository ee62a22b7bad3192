package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/herald-news/herald/internal/web"
)

func runServe(ctx context.Context, e *env, args []string) error {
	fs := e.flags("serve", "[--http ADDR]")
	e.configFlag(fs, "http", "http_addr", "listen address (default 127.0.0.1:8080)")
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
	tr, via, err := transport(cfg, "")
	if err != nil {
		return err
	}
	defer tr.Close()
	eng, err := e.engine(ctx, cfg, s, tr)
	if err != nil {
		return err
	}
	workCtx, stopWork := context.WithCancel(context.Background())
	defer stopWork()
	worked := make(chan error, 1)
	go func() { worked <- eng.Run(workCtx) }()

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	srv := &http.Server{
		Handler:           web.New(s, e.log),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	e.log.Info("herald is serving", "addr", "http://"+ln.Addr().String(), "database", s.Kind(), "data", cfg.DataDir, "mail", via)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var failed error
	select {
	case err := <-errc:
		failed = fmt.Errorf("http server: %w", err)
	case err := <-worked:
		worked <- err // for the shutdown path below
		failed = fmt.Errorf("delivery workers stopped: %w", err)
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
	stopWork()
	if err := <-worked; err != nil {
		failed = errors.Join(failed, fmt.Errorf("delivery workers: %w", err))
	}
	return failed
}
