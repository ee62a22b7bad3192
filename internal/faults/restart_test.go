package faults_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver for the schema setup

	"github.com/herald-news/herald/internal/faults"
)

// The PostgreSQL server TestPostgresRestart may restart, and the command
// that restarts it; ./scripts/test provides both with
// HERALD_TEST_PG_RESTART=1 (CI sets it). Never the shared test server.
const (
	restartURLEnv = "HERALD_TEST_PG_RESTART_URL"
	restartCmdEnv = "HERALD_TEST_PG_RESTART_CMD"
)

// TestPostgresRestart restarts PostgreSQL twice under two herald nodes
// sending a 10,000-recipient campaign. Every connection of both nodes dies
// each time; the nodes reconnect and finish: every recipient gets mail,
// duplicates stay within the two nodes' in-flight windows with one
// Message-ID each, and the ledger shows all sent.
func TestPostgresRestart(t *testing.T) {
	base, restart := os.Getenv(restartURLEnv), os.Getenv(restartCmdEnv)
	if base == "" || restart == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s and %s are not set: CI must run this test (.ci/run sets HERALD_TEST_PG_RESTART=1 for ./scripts/test)", restartURLEnv, restartCmdEnv)
		}
		t.Skipf("needs a PostgreSQL it may restart: run HERALD_TEST_PG_RESTART=1 ./scripts/test (sets %s and %s)", restartURLEnv, restartCmdEnv)
	}
	if testing.Short() {
		t.Skip("sends 10,000 messages from two processes")
	}
	const recipients, nodeCount = 10000, 2
	ctx := context.Background()
	dbURL := freshSchema(t, base)
	s, id := seeded(t, dbURL, recipients)
	sink := envelopeSink(t)
	// A long lease: no node dies here, and a node retries writing its
	// outcomes for half a lease, which must outlast a restart and the
	// reconnecting on a busy machine.
	nodes := startRunners(t, dbURL, id, sink.URL(), nodeCount, "30s")
	started := time.Now()
	for _, share := range []int64{25, 60} {
		waitFor(t, 2*time.Minute, fmt.Sprintf("%d%% sent", share), func() bool { return sink.Count() >= recipients*share/100 })
		cmdCtx, cancel := context.WithTimeout(ctx, 90*time.Second)
		out, err := exec.CommandContext(cmdCtx, "sh", "-c", restart).CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("restart PostgreSQL: %v\n%s", err, out)
		}
		t.Logf("PostgreSQL restarted at %.1fs after %d messages", time.Since(started).Seconds(), sink.Count())
	}

	waitCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	for _, n := range nodes {
		if err := n.Wait(waitCtx); err != nil {
			t.Fatalf("%s did not finish cleanly: %v\n%s", n.Name, err, n.Output())
		}
		if want := fmt.Sprintf("campaign %d sent: %d delivered", id, recipients); !strings.Contains(n.Output(), want) {
			t.Errorf("%s output lacks %q:\n%s", n.Name, want, n.Output())
		}
		// Proof that the restarts hit the node: it logged database errors.
		t.Logf("%s logged %d errors while PostgreSQL restarted", n.Name, strings.Count(n.Output(), "level=ERROR"))
	}
	t.Logf("campaign done in %.1fs", time.Since(started).Seconds())

	tally := faults.Count(sink.Messages())
	t.Logf("sink: %d messages for %d recipients, %d duplicates (bound %d)", tally.Messages, tally.Recipients, tally.Duplicates, nodeCount*inFlightWindow)
	if tally.Recipients != recipients {
		t.Errorf("%d recipients received mail, want %d", tally.Recipients, recipients)
	}
	if tally.Duplicates > nodeCount*inFlightWindow {
		t.Errorf("%d duplicates; the in-flight windows allow at most %d", tally.Duplicates, nodeCount*inFlightWindow)
	}
	if len(tally.MixedIDs) > 0 {
		t.Errorf("%d recipients received different Message-IDs, such as %s", len(tally.MixedIDs), tally.MixedIDs[0])
	}
	checkLedger(t, s, id, recipients, recipients, 0)
}

// freshSchema creates an empty schema on the server at base, dropped when
// the test ends, and returns a URL that uses it.
func freshSchema(t *testing.T, base string) string {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	schema := "herald_faults_" + hex.EncodeToString(b[:])
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err == nil {
			db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
			db.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
