package faults_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/cli"
	"github.com/herald-news/herald/internal/faults"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store"
)

// childEnv carries the herald arguments of TestHeraldChild, joined by the
// unit separator.
const childEnv = "HERALD_FAULTS_CHILD_ARGS"

// TestHeraldChild is not a test: it is the herald process the fault suite
// starts (and kills). The test binary re-executes itself to get one.
func TestHeraldChild(t *testing.T) {
	args := os.Getenv(childEnv)
	if args == "" {
		t.Skip("the herald child process of the fault suite")
	}
	os.Exit(cli.Run(context.Background(), strings.Split(args, "\x1f"), strings.NewReader(""), os.Stdout, os.Stderr))
}

// herald is the Launcher of the fault suite: this test binary as a herald
// child.
func herald(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHeraldChild$")
	cmd.Env = append(os.Environ(), childEnv+"="+strings.Join(args, "\x1f"))
	return cmd
}

var _ faults.Launcher = herald

// newRand returns a seeded source and logs the seed, so a failing run can
// be replayed by reading the log.
func newRand(t *testing.T) *rand.Rand {
	seed := uint64(time.Now().UnixNano())
	t.Logf("random seed %d", seed)
	return rand.New(rand.NewPCG(seed, 7))
}

// runHerald runs one herald command to completion and fails the test if it
// does not succeed.
func runHerald(t *testing.T, env []string, args ...string) string {
	t.Helper()
	n, err := faults.StartNode(herald, strings.Join(args, " "), env, args...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := n.Wait(ctx); err != nil {
		t.Fatalf("herald %s: %v\n%s", strings.Join(args, " "), err, n.Output())
	}
	return n.Output()
}

// waitFor polls cond every 2ms until it holds, failing the test after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// checkLedger asserts the campaign is sent with want rows sent and failed
// and nothing left to do, and returns its progress.
func checkLedger(t *testing.T, s *store.Store, id int64, total, sent, failed int64) model.Progress {
	t.Helper()
	ctx := context.Background()
	c, err := s.Campaign(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.CampaignProgress(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ledger: campaign %s, %+v", c.Status, p)
	if c.Status != model.CampaignSent {
		t.Errorf("campaign is %s, want sent", c.Status)
	}
	if p.Total != total || p.Sent != sent || p.Failed != failed || p.Pending+p.Sending+p.Deferred+p.Skipped != 0 {
		t.Errorf("ledger %+v, want %d rows: %d sent, %d failed, none pending, sending, deferred or skipped", p, total, sent, failed)
	}
	return p
}

// seeded opens the store at dbURL and seeds a campaign of n recipients.
func seeded(t *testing.T, dbURL string, n int) (*store.Store, int64) {
	t.Helper()
	s, err := store.Open(context.Background(), store.Options{DatabaseURL: dbURL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	id, err := faults.Seed(context.Background(), s, n)
	if err != nil {
		t.Fatal(err)
	}
	return s, id
}

// envelopeSink starts an SMTP sink that keeps who got which Message-ID.
func envelopeSink(t *testing.T) *smtpsink.Sink {
	t.Helper()
	sink, err := smtpsink.Start(smtpsink.Options{EnvelopeOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	return sink
}

// startRunners starts campaign id and count herald nodes running it
// against dbURL into the relay at relayURL, with the given claim lease.
func startRunners(t *testing.T, dbURL string, id int64, relayURL string, count int, lease string) []*faults.Node {
	t.Helper()
	// An explicit base_url: mail to readers through a relay needs one.
	env := []string{"HERALD_DATABASE_URL=" + dbURL, "HERALD_DATA=" + t.TempDir(), "HERALD_LEASE=" + lease, "HERALD_LOG_LEVEL=warn",
		"HERALD_BASE_URL=http://127.0.0.1:8080"}
	runHerald(t, env, "campaign", "start", fmt.Sprint(id), "--no-check", "--yes") // a fault test may send an edition again
	var nodes []*faults.Node
	for i := range count {
		n, err := faults.StartNode(herald, fmt.Sprintf("node %d", i+1), env, "campaign", "run", fmt.Sprint(id), "--relay", relayURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Kill() })
		nodes = append(nodes, n)
	}
	return nodes
}
