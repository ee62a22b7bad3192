package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

// backupFixture is a SQLite store with one list of n subscribers.
func backupFixture(t *testing.T, n int) (s *store.Store, path string, add func(k int)) {
	t.Helper()
	ctx := context.Background()
	path = filepath.Join(t.TempDir(), "herald.db")
	s, err := store.Open(ctx, store.Options{SQLitePath: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	l := &model.List{Slug: "daily", Name: "Daily"}
	if err := s.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	var next atomic.Int64
	add = func(k int) {
		rows := make([]store.ImportRow, k)
		for i := range rows {
			id := next.Add(1)
			rows[i] = store.ImportRow{Line: int(id), Email: fmt.Sprintf("reader%07d@example.com", id), Name: strings.Repeat("n", 200)}
		}
		// One transaction: a subscriber and their subscription together.
		if _, err := s.ImportBatch(ctx, rows, store.ImportOptions{ListID: l.ID, Status: model.SubConfirmed, Mode: store.ImportUpsert}); err != nil {
			t.Error(err)
		}
	}
	for range n / 1000 {
		add(1000)
	}
	return s, path, add
}

// counts opens a backup as a plain SQLite file and returns its integrity
// check and its subscriber and subscription counts.
func counts(t *testing.T, path string) (check string, subscribers, subscriptions int64) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT (SELECT count(*) FROM subscribers), (SELECT count(*) FROM subscriptions)").Scan(&subscribers, &subscriptions); err != nil {
		t.Fatal(err)
	}
	return check, subscribers, subscriptions
}

// TestBackupIsTheSnapshotItBeganWith writes to the database between every
// two steps of the backup (deterministically, from the progress callback),
// as a running herald serve would. The backup must finish (a copy that
// restarted at every write never would), pass integrity_check, hold exactly
// the rows of the moment it began, and open as a Herald database.
func TestBackupIsTheSnapshotItBeganWith(t *testing.T) {
	ctx := context.Background()
	s, path, add := backupFixture(t, 20_000)
	before, err := s.CountSubscribers(ctx, store.SubscriberFilter{})
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "backup.db")
	steps, writes := 0, 0
	var last int64
	size, err := store.BackupSQLite(ctx, path, dst, store.BackupOptions{StepPages: 64, Progress: func(copied, total int64) {
		steps++
		if copied < last || copied > total {
			t.Errorf("progress went from %d to %d of %d", last, copied, total)
		}
		last = copied
		if copied < total && writes < 200 {
			add(50)
			writes++
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if steps < 10 || writes < 10 {
		t.Fatalf("%d steps with %d writes between them: the test did not write during the backup", steps, writes)
	}
	if info, err := os.Stat(dst); err != nil || info.Size() != size || size != last {
		t.Errorf("backup size %d, reported %d, last progress %d (%v)", info.Size(), size, last, err)
	}
	check, subs, subscriptions := counts(t, dst)
	if check != "ok" {
		t.Fatalf("integrity_check: %s", check)
	}
	if subs != before || subscriptions != before {
		t.Errorf("backup holds %d subscribers and %d subscriptions, want the %d of the moment it began", subs, subscriptions, before)
	}
	now, _ := s.CountSubscribers(ctx, store.SubscriberFilter{})
	if now != before+int64(50*writes) {
		t.Errorf("live database has %d subscribers, want %d", now, before+int64(50*writes))
	}

	// Restored: Herald opens it as its database.
	restored, err := store.Open(ctx, store.Options{SQLitePath: dst, NoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	if n, err := restored.CountSubscribers(ctx, store.SubscriberFilter{}); err != nil || n != before {
		t.Errorf("restored store counts %d subscribers (%v), want %d", n, err, before)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(dst), ".backup.db.partial-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestBackupWhileAnotherWriterRuns backs up while a goroutine keeps
// committing import batches. Whatever moment it caught, the copy is whole:
// every subscriber came with their subscription in one transaction, so the
// two counts agree.
func TestBackupWhileAnotherWriterRuns(t *testing.T) {
	ctx := context.Background()
	_, path, add := backupFixture(t, 10_000)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var batches atomic.Int64
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			add(20)
			batches.Add(1)
		}
	})
	dst := filepath.Join(t.TempDir(), "backup.db")
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var steps, first int64
	_, err := store.BackupSQLite(ctx, path, dst, store.BackupOptions{StepPages: 16, Progress: func(copied, total int64) {
		// A copy that starts over at every write would never end: stop
		// it once it has taken far more steps than the pages it began
		// with need.
		if first == 0 {
			first = total
		}
		if steps++; steps > 4*(first/(16*4096)+1) {
			cancel()
		}
		for start := batches.Load(); copied < total && batches.Load() == start && ctx.Err() == nil; {
			runtime.Gosched() // let the writer commit once between steps
		}
	}})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("after %d steps: %v", steps, err)
	}
	check, subs, subscriptions := counts(t, dst)
	if check != "ok" || subs != subscriptions || subs < 10_000 {
		t.Errorf("integrity %s, %d subscribers, %d subscriptions", check, subs, subscriptions)
	}
}

func TestBackupRefusesToOverwriteOrToCopyOntoItself(t *testing.T) {
	ctx := context.Background()
	_, path, _ := backupFixture(t, 1000)
	dir := t.TempDir()
	dst := filepath.Join(dir, "backup.db")
	os.WriteFile(dst, []byte("an older backup"), 0o600)

	_, err := store.BackupSQLite(ctx, path, dst, store.BackupOptions{})
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("backup over an existing file: %v, want fs.ErrExist", err)
	}
	if b, _ := os.ReadFile(dst); string(b) != "an older backup" {
		t.Fatal("the existing file was changed")
	}
	if _, err := store.BackupSQLite(ctx, path, dst, store.BackupOptions{Replace: true}); err != nil {
		t.Fatal(err)
	}
	if check, subs, _ := counts(t, dst); check != "ok" || subs != 1000 {
		t.Errorf("replaced backup: %s, %d subscribers", check, subs)
	}

	_, err = store.BackupSQLite(ctx, path, path, store.BackupOptions{Replace: true})
	if err == nil || !strings.Contains(err.Error(), "is the database itself") {
		t.Errorf("backup onto itself: %v", err)
	}
	missing := filepath.Join(dir, "none", "herald.db")
	_, err = store.BackupSQLite(ctx, missing, filepath.Join(dir, "b2.db"), store.BackupOptions{})
	if err == nil || !strings.Contains(err.Error(), "there is no SQLite database at") {
		t.Errorf("missing database: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "none")); !errors.Is(err, fs.ErrNotExist) {
		t.Error("a missing database was created")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("files left beside the backup: %v", entries)
	}
}
