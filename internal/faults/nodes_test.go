package faults_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/faults"
	"github.com/herald-news/herald/internal/store/storetest"
)

// The engine the CLI builds: 4 workers, claims of 50, outcomes written in
// 100s. A node can hold at most this many rows claimed and not yet
// recorded, which is the most mail a killed node can cause to go out twice.
const inFlightWindow = 2*50 + 4 + 100

// nodeLease is the claim lease of the child nodes: a killed node's rows go
// back to pending this long after it claimed them. Short for the test, long
// enough that a live node on a busy 2-core machine never overruns it.
const nodeLease = "8s"

// TestThreeNodesOneKilled sends one 50,000-recipient campaign from three
// herald nodes on one PostgreSQL and kills one with SIGKILL at a random
// moment. The two others finish the campaign, including the killed node's
// claimed rows once their lease expires: every recipient gets mail, the
// only duplicates are the killed node's in-flight rows, with one Message-ID
// per recipient, and the ledger shows every row sent.
func TestThreeNodesOneKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 50,000 messages from three processes")
	}
	const recipients = 50000
	rng := newRand(t)
	ctx := context.Background()
	url := storetest.PostgresURL(t)
	s, id := seeded(t, url, recipients)
	sink := envelopeSink(t)
	nodes := startRunners(t, url, id, sink.URL(), 3, nodeLease)
	started := time.Now()

	// Kill a random node at a random moment between 10% and 70% sent.
	target := int64(recipients/10 + rng.IntN(recipients*6/10))
	victim := nodes[rng.IntN(len(nodes))]
	waitFor(t, 2*time.Minute, fmt.Sprintf("%d messages", target), func() bool {
		for _, n := range nodes {
			select {
			case <-n.Done():
				t.Fatalf("%s exited before the kill:\n%s", n.Name, n.Output())
			default:
			}
		}
		return sink.Count() >= target
	})
	victim.Kill()
	t.Logf("killed %s after %d messages received (%.1fs)", victim.Name, sink.Count(), time.Since(started).Seconds())

	waitCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	for _, n := range nodes {
		if n == victim {
			continue
		}
		if err := n.Wait(waitCtx); err != nil {
			t.Fatalf("%s: %v\n%s", n.Name, err, n.Output())
		}
		if want := fmt.Sprintf("campaign %d sent: %d delivered", id, recipients); !strings.Contains(n.Output(), want) {
			t.Errorf("%s output lacks %q:\n%s", n.Name, want, n.Output())
		}
	}
	t.Logf("campaign done in %.1fs", time.Since(started).Seconds())

	tally := faults.Count(sink.Messages())
	t.Logf("sink: %d messages for %d recipients, %d duplicates (bound %d)", tally.Messages, tally.Recipients, tally.Duplicates, inFlightWindow)
	if tally.Recipients != recipients {
		t.Errorf("%d recipients received mail, want %d", tally.Recipients, recipients)
	}
	for i := range recipients {
		if tally.Got[faults.Recipient(i)] == 0 {
			t.Fatalf("%s received nothing", faults.Recipient(i))
		}
	}
	if tally.Duplicates > inFlightWindow {
		t.Errorf("%d duplicates; the killed node's in-flight window allows at most %d", tally.Duplicates, inFlightWindow)
	}
	if len(tally.MixedIDs) > 0 {
		t.Errorf("%d recipients received different Message-IDs, such as %s", len(tally.MixedIDs), tally.MixedIDs[0])
	}
	checkLedger(t, s, id, recipients, recipients, 0)
}
