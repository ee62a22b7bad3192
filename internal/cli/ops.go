package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/progress"
	"github.com/herald-news/herald/internal/store"
)

// runBackup copies the SQLite database to a new file while Herald may be
// running and writing to it.
func runBackup(ctx context.Context, e *env, args []string) error {
	fset := e.flags("backup", "FILE [--force]")
	force := fset.Bool("force", false, "replace FILE if it exists")
	pos, err := parse(fset, args, 1)
	if err != nil {
		return err
	}
	cfg, err := e.config()
	if err != nil {
		return err
	}
	if cfg.DatabaseURL.Reveal() != "" {
		return errors.New("herald backup copies the embedded SQLite database, and this Herald runs on PostgreSQL: " +
			"back that up with PostgreSQL's own tools, e.g. pg_dump --format=custom --file=herald.dump \"$HERALD_DATABASE_URL\" " +
			"(pg_restore brings it back), or the server's continuous archiving")
	}
	src, dst := cfg.SQLitePath(), pos[0]
	started := time.Now()
	var bar *progress.Reporter
	size, err := store.BackupSQLite(ctx, src, dst, store.BackupOptions{
		Replace: *force,
		Progress: func(copied, total int64) {
			if bar == nil {
				bar = progress.New(e.stderr, progress.Options{Description: "backing up", Total: total, Bytes: true})
			}
			bar.Add(copied - bar.Done())
		},
	})
	if bar != nil {
		bar.Finish()
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists; choose another name, or pass --force to replace it", dst)
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(e.stdout, "backed up %s to %s: %s, checked, in %s\n", src, dst, progress.FormatBytes(size), time.Since(started).Round(time.Millisecond))
	return nil
}

// runHealthcheck asks a running herald serve on this machine (or at --url)
// for /healthz, and fails unless it answers 200: a container's health check
// in an image without curl.
func runHealthcheck(ctx context.Context, e *env, args []string) error {
	fset := e.flags("healthcheck", "[--url URL]")
	target := fset.String("url", "", "the health endpoint to ask (default: /healthz on this machine at http_addr's port)")
	timeout := fset.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	if _, err := parse(fset, args, 0); err != nil {
		return err
	}
	if *target == "" {
		cfg, err := e.config()
		if err != nil {
			return err
		}
		host, port, err := net.SplitHostPort(cfg.HTTPAddr)
		if err != nil {
			return fmt.Errorf("http_addr %q: %w", cfg.HTTPAddr, err)
		}
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			host = "127.0.0.1" // listening everywhere: ask over loopback
		}
		*target = "http://" + net.JoinHostPort(host, port) + "/healthz"
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *target, nil)
	if err != nil {
		return usageErrorf("--url %q is not a URL", *target)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("unhealthy: no answer from %s: %w", *target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("unhealthy: %s answered %s: %s", *target, resp.Status, strings.TrimSpace(string(body)))
	}
	fmt.Fprintln(e.stdout, "healthy")
	return nil
}
