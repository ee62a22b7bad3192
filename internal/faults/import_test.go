package faults_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	_ "modernc.org/sqlite" // "sqlite" driver, to check the file behind the store's back

	"github.com/herald-news/herald/internal/faults"
	"github.com/herald-news/herald/internal/store"
)

// TestSQLiteImportKilled kills a single SQLite node with SIGKILL in the
// middle of a 150,000-row import, then checks that the database file is
// intact (PRAGMA integrity_check), that the store opens, and that running
// the same import again finishes with every good row present exactly once.
func TestSQLiteImportKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 150,000 rows twice")
	}
	const rows = 150000
	rng := newRand(t)
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "data", "herald.db")
	env := []string{"HERALD_DATA=" + filepath.Join(dir, "data"), "HERALD_LOG_LEVEL=warn"}

	// Every 250th row is bad, in turn: a malformed address, a duplicate of
	// the row before, a row with too few fields.
	csvPath := filepath.Join(dir, "readers.csv")
	good := map[string]bool{}
	f, err := os.Create(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("email,name,city\n")
	for i := range rows {
		addr := faults.Recipient(i)
		switch {
		case i%250 == 249 && i%750 == 249:
			fmt.Fprintf(w, "reader%06d@@example.com,Reader %d,York\n", i, i)
		case i%250 == 249 && i%750 == 499:
			fmt.Fprintf(w, "%s,Again %d,York\n", faults.Recipient(i-1), i)
		case i%250 == 249:
			fmt.Fprintf(w, "%s,Reader %d\n", addr, i)
		default:
			fmt.Fprintf(w, "%s,Reader %d,York\n", addr, i)
			good[addr] = true
		}
	}
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		t.Fatal(err)
	}

	runHerald(t, env, "lists", "create", "readers", "--name", "Readers")
	importArgs := []string{"import", "--list", "readers", "--status", "confirmed", csvPath}
	node, err := faults.StartNode(herald, "import", env, importArgs...)
	if err != nil {
		t.Fatal(err)
	}
	defer node.Kill()

	// Watch the file from outside, as another reader would, and kill the
	// import once a random share of the rows is in.
	watch, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	// Up to half: the import runs fast, and a target near the end could
	// be passed and finished between two looks on a busy machine.
	target := int64(len(good)/10 + rng.IntN(len(good)*4/10))
	var n int64
	deadline := time.Now().Add(2 * time.Minute)
	for n < target {
		select {
		case <-node.Done():
			t.Fatalf("the import finished before the kill (%d rows in):\n%s", n, node.Output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d rows imported after 2 minutes", n)
		}
		time.Sleep(20 * time.Millisecond)
		watch.QueryRow(`SELECT COUNT(*) FROM subscribers`).Scan(&n)
	}
	node.Kill()
	watch.Close()
	t.Logf("killed the import with %d of %d good rows in (target %d)", n, len(good), target)

	check, err := sql.Open("sqlite", "file:"+dbPath)
	if err != nil {
		t.Fatal(err)
	}
	var verdict string
	if err := check.QueryRow(`PRAGMA integrity_check`).Scan(&verdict); err != nil || verdict != "ok" {
		t.Fatalf("integrity check after the kill: %q, %v", verdict, err)
	}
	check.Close()
	ctx := context.Background()
	s, err := store.Open(ctx, store.Options{SQLitePath: dbPath})
	if err != nil {
		t.Fatalf("store does not open after the kill: %v", err)
	}
	s.Close()

	// Run the import again: exit status 3 says some rows were rejected,
	// which the bad rows are.
	again, err := faults.StartNode(herald, "import again", env, importArgs...)
	if err != nil {
		t.Fatal(err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var exit *exec.ExitError
	if err := again.Wait(waitCtx); err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 3) {
		t.Fatalf("import again: %v\n%s", err, again.Output())
	}

	s, err = store.Open(ctx, store.Options{SQLitePath: dbPath})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l, err := s.ListBySlug(ctx, "readers")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	err = s.ExportSubscribers(ctx, store.ExportFilter{ListID: l.ID}, func(r store.ExportRow) error {
		seen[r.Email]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for addr, c := range seen {
		if !good[addr] {
			t.Errorf("%s is on the list but was not a good row", addr)
		} else if c != 1 {
			t.Errorf("%s is on the list %d times", addr, c)
		}
	}
	for addr := range good {
		if seen[addr] == 0 {
			t.Fatalf("%s is missing from the list", addr)
		}
	}
	total, err := s.CountSubscribers(ctx, store.SubscriberFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if total != int64(len(good)) || len(seen) != len(good) {
		t.Errorf("%d subscribers, %d on the list; want %d good rows exactly once", total, len(seen), len(good))
	}
	t.Logf("after the second import: %d subscribers, each good row once", total)
}
