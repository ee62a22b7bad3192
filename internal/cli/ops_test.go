package cli

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

// TestBackupCommand backs up a data folder while another connection keeps
// writing to it (as herald serve would), restores the copy by opening it,
// and checks the refusals: an existing file without --force, PostgreSQL.
func TestBackupCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	data := t.TempDir()
	s, err := store.Open(ctx, store.Options{SQLitePath: filepath.Join(data, "herald.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l := &model.List{Slug: "daily", Name: "Daily"}
	if err := s.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	var next atomic.Int64
	add := func() {
		rows := make([]store.ImportRow, 100)
		for i := range rows {
			rows[i] = store.ImportRow{Line: i + 2, Email: fmt.Sprintf("r%07d@example.com", next.Add(1))}
		}
		if _, err := s.ImportBatch(ctx, rows, store.ImportOptions{ListID: l.ID, Status: model.SubConfirmed, Mode: store.ImportUpsert}); err != nil {
			t.Error(err)
		}
	}
	for range 50 {
		add()
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				add()
			}
		}
	})
	dst := filepath.Join(t.TempDir(), "herald-backup.db")
	out, errs, code := herald(t, nil, nil, "backup", dst, "--data", data)
	close(stop)
	wg.Wait()
	if code != 0 || !strings.Contains(out, "backed up "+filepath.Join(data, "herald.db")+" to "+dst) || !strings.Contains(out, "checked") {
		t.Fatalf("backup: %d %q %q", code, out, errs)
	}

	// Restore: the copy opens as a Herald database, whole.
	db, err := sql.Open("sqlite", "file:"+dst+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	var check string
	var subs, subscriptions int64
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q %v", check, err)
	}
	if err := db.QueryRow("SELECT (SELECT count(*) FROM subscribers), (SELECT count(*) FROM subscriptions)").Scan(&subs, &subscriptions); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if subs < 5000 || subs != subscriptions {
		t.Errorf("backup holds %d subscribers, %d subscriptions", subs, subscriptions)
	}
	restored := t.TempDir()
	b, _ := os.ReadFile(dst)
	os.WriteFile(filepath.Join(restored, "herald.db"), b, 0o600)
	out, errs, code = herald(t, nil, nil, "subscribers", "count", "--data", restored)
	if code != 0 || strings.TrimSpace(out) != fmt.Sprint(subs) {
		t.Errorf("restored count: %d %q %q, want %d", code, out, errs, subs)
	}

	_, errs, code = herald(t, nil, nil, "backup", dst, "--data", data)
	if code != 1 || !strings.Contains(errs, dst+" already exists; choose another name, or pass --force to replace it") {
		t.Errorf("existing file: %d %q", code, errs)
	}
	if _, errs, code = herald(t, nil, nil, "backup", dst, "--force", "--data", data); code != 0 {
		t.Errorf("--force: %d %q", code, errs)
	}
	_, errs, code = herald(t, map[string]string{"HERALD_DATABASE_URL": "postgres://herald@db.invalid/herald"}, nil, "backup", filepath.Join(t.TempDir(), "x.db"))
	if code != 1 || !strings.Contains(errs, "runs on PostgreSQL") || !strings.Contains(errs, "pg_dump") {
		t.Errorf("PostgreSQL: %d %q", code, errs)
	}
	_, errs, code = herald(t, nil, nil, "backup", filepath.Join(t.TempDir(), "x.db"), "--data", filepath.Join(t.TempDir(), "empty"))
	if code != 1 || !strings.Contains(errs, "there is no SQLite database at") {
		t.Errorf("no database: %d %q", code, errs)
	}
}

func TestHealthcheckCommand(t *testing.T) {
	t.Parallel()
	healthy := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		if !healthy {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	// Listening on every interface, as in a container: asked over loopback.
	out, errs, code := herald(t, map[string]string{"HERALD_HTTP_ADDR": "0.0.0.0:" + port}, nil, "healthcheck")
	if code != 0 || out != "healthy\n" {
		t.Fatalf("healthy: %d %q %q", code, out, errs)
	}
	healthy = false
	_, errs, code = herald(t, nil, nil, "healthcheck", "--url", srv.URL+"/healthz")
	if code != 1 || !strings.Contains(errs, "unhealthy: "+srv.URL+"/healthz answered 503 Service Unavailable: database unavailable") {
		t.Errorf("unhealthy: %d %q", code, errs)
	}
	srv.Close()
	_, errs, code = herald(t, map[string]string{"HERALD_HTTP_ADDR": "127.0.0.1:" + port}, nil, "healthcheck")
	if code != 1 || !strings.Contains(errs, "unhealthy: no answer from http://127.0.0.1:"+port+"/healthz") {
		t.Errorf("nobody listening: %d %q", code, errs)
	}
}
