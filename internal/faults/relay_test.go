package faults_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/faults"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
	"github.com/herald-news/herald/internal/token"
)

// relayOutage is how long the relay stays down in TestRelayFaults.
const relayOutage = 30 * time.Second

// TestRelayFaults sends a 5,000-recipient campaign from two delivery
// engines (two nodes, in process, each with its own database pool and
// mailer) on one PostgreSQL through a relay that misbehaves in phases:
//
//  1. until half the mail is in: 421 and 451 at RCPT, 451 after DATA and
//     connections cut mid-DATA, each for a share of messages, and 550 5.1.1
//     for a random 2% of the addresses; for 3 seconds from 20% it is also
//     slow (20 ms before each reply);
//  2. then the relay goes down (its listener closed) for 30 seconds;
//  3. then it comes back on the same address, still refusing the 2%.
//
// The campaign completes; the ledger shows sent + failed = recipients with
// exactly the 550 addresses failed, each suppressed; the sink holds every
// sent recipient and none of the refused ones, duplicates only from
// messages cut off by the outage, with one Message-ID per recipient.
func TestRelayFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("keeps a relay down for 30 seconds")
	}
	const recipients = 5000
	rng := newRand(t)
	ctx := context.Background()
	url := storetest.PostgresURL(t)
	s, id := seeded(t, url, recipients)

	// 2% of the addresses do not exist.
	refused := map[string]bool{}
	var rules []*smtpsink.Rule
	for len(refused) < recipients/50 {
		addr := faults.Recipient(rng.IntN(recipients))
		if !refused[addr] {
			refused[addr] = true
			rules = append(rules, &smtpsink.Rule{Recipient: addr, Stage: smtpsink.AtRcpt, Code: 550, Enhanced: [3]int{5, 1, 1}, Text: "no such user"})
		}
	}
	permanent := smtpsink.Faults{Rules: rules}
	noisy := smtpsink.Faults{Rules: append(append([]*smtpsink.Rule(nil), rules...),
		&smtpsink.Rule{Fraction: 0.03, Stage: smtpsink.AtRcpt, Code: 451, Enhanced: [3]int{4, 3, 0}, Text: "try again later"},
		&smtpsink.Rule{Fraction: 0.01, Stage: smtpsink.AtRcpt, Code: 421, Enhanced: [3]int{4, 4, 2}, Text: "closing"},
		&smtpsink.Rule{Fraction: 0.02, Stage: smtpsink.AtData, Code: 451, Enhanced: [3]int{4, 3, 0}, Text: "queue full"},
		&smtpsink.Rule{Fraction: 0.02, Stage: smtpsink.AtData, Drop: true},
	)}
	slow := noisy
	slow.Delay = 20 * time.Millisecond

	sink, err := smtpsink.Start(smtpsink.Options{EnvelopeOnly: true, Faults: noisy})
	if err != nil {
		t.Fatal(err)
	}
	addr := sink.Addr()
	sinks := []*smtpsink.Sink{sink}
	defer func() {
		for _, k := range sinks {
			k.Close()
		}
	}()

	// Two nodes.
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { stop(); wg.Wait() }()
	var engines []*delivery.Engine
	for range 2 {
		ns, err := store.Open(ctx, store.Options{DatabaseURL: url})
		if err != nil {
			t.Fatal(err)
		}
		defer ns.Close()
		eng := relayEngine(t, ns, "smtp://"+addr+"?tls=none")
		engines = append(engines, eng)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := eng.Run(runCtx); err != nil {
				t.Errorf("engine: %v", err)
			}
		}()
	}
	started := time.Now()
	if n, err := engines[0].Start(ctx, id); err != nil || n != recipients {
		t.Fatalf("start: %d recipients, %v", n, err)
	}

	waitFor(t, time.Minute, "20% sent", func() bool { return sink.Count() >= recipients/5 })
	sink.SetFaults(slow)
	t.Logf("relay slow at %.1fs", time.Since(started).Seconds())
	time.Sleep(3 * time.Second)
	sink.SetFaults(noisy)
	t.Logf("relay fast again at %.1fs after %d messages", time.Since(started).Seconds(), sink.Count())
	waitFor(t, time.Minute, "50% sent", func() bool { return sink.Count() >= recipients/2 })
	sink.Close()
	t.Logf("relay down at %.1fs after %d messages, %d faults injected", time.Since(started).Seconds(), sink.Count(), sink.Rejected())
	time.Sleep(relayOutage)
	// The port was free for the outage: another socket may hold it as its
	// local end for a moment (an outgoing connection's ephemeral port), so
	// try again for a while before calling it a failure.
	var back *smtpsink.Sink
	waitFor(t, 30*time.Second, "the relay's port to be free again", func() bool {
		back, err = smtpsink.Start(smtpsink.Options{Addr: addr, EnvelopeOnly: true, Faults: permanent})
		return err == nil
	})
	sinks = append(sinks, back)
	t.Logf("relay back at %.1fs", time.Since(started).Seconds())

	waitFor(t, 3*time.Minute, "the campaign to finish", func() bool {
		c, err := s.Campaign(ctx, id)
		return err == nil && c.Status == model.CampaignSent
	})
	stop()
	wg.Wait()
	t.Logf("campaign done at %.1fs; the relay received %d messages after it came back", time.Since(started).Seconds(), back.Count())

	// The ledger: everything sent but the refused addresses, which failed
	// and are suppressed.
	sent := int64(recipients - len(refused))
	checkLedger(t, s, id, recipients, sent, int64(len(refused)))
	fails, err := s.DeliveryFailures(ctx, id, recipients)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fails {
		if !refused[f.Email] || !strings.HasPrefix(f.Reply, "550") {
			t.Errorf("%s failed with %q; only the 550 addresses should fail", f.Email, f.Reply)
		}
	}
	for a := range refused {
		sup, err := s.Suppression(ctx, a)
		if err != nil {
			t.Errorf("%s was refused with 550 but is not suppressed: %v", a, err)
		} else if sup.Reason != model.SuppressHardBounce {
			t.Errorf("%s suppressed as %s, want %s", a, sup.Reason, model.SuppressHardBounce)
		}
	}
	if n, err := s.CountSuppressions(ctx); err != nil || n != int64(len(refused)) {
		t.Errorf("%d suppressions (%v), want %d", n, err, len(refused))
	}

	// The sink: every sent recipient, none refused; duplicates only from
	// messages whose 250 the outage cut off (two nodes of 4 workers).
	tally := faults.Count(sinks[0].Messages(), back.Messages())
	t.Logf("sink: %d messages for %d recipients, %d duplicates", tally.Messages, tally.Recipients, tally.Duplicates)
	if int64(tally.Recipients) != sent {
		t.Errorf("%d recipients received mail, want %d", tally.Recipients, sent)
	}
	for i := range recipients {
		a := faults.Recipient(i)
		if refused[a] != (tally.Got[a] == 0) {
			t.Fatalf("%s: refused %v, received %d", a, refused[a], tally.Got[a])
		}
	}
	if tally.Duplicates > 2*4 {
		t.Errorf("%d duplicates; at most the 8 messages in flight when the relay went down may repeat", tally.Duplicates)
	}
	if len(tally.MixedIDs) > 0 {
		t.Errorf("%d recipients received different Message-IDs, such as %s", len(tally.MixedIDs), tally.MixedIDs[0])
	}
}

// relayEngine builds one node's delivery engine: its own mailer on the
// relay, retries from 500ms doubling (so rows deferred through a 30 s
// outage come back within about 30 s of its end), and a 2 s circuit
// breaker cooldown.
func relayEngine(t *testing.T, s *store.Store, relayURL string) *delivery.Engine {
	t.Helper()
	rc, err := mailer.ParseRelay(relayURL)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mailer.New(mailer.Config{Relays: []mailer.RelayConfig{rc}, BreakerCooldown: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	signer, err := token.NewSigner(bytes.Repeat([]byte("s"), 32))
	if err != nil {
		t.Fatal(err)
	}
	r, err := render.New(sample.Publication(), render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := delivery.New(s, delivery.Config{
		Sender:  m,
		Signer:  signer,
		BaseURL: "https://news.example.com",
		Freeze: func(ctx context.Context, c *model.Campaign) (model.Frozen, error) {
			ed, err := s.GetEdition(ctx, c.EditionID)
			if err != nil {
				return model.Frozen{}, err
			}
			em, err := r.Email(ed)
			if err != nil {
				return model.Frozen{}, err
			}
			return em.Freeze(), nil
		},
		RetryBase:   500 * time.Millisecond,
		MaxAttempts: 15,
		FlushAfter:  50 * time.Millisecond,
		Poll:        250 * time.Millisecond,
		Lease:       time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}
