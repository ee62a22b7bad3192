package delivery_test

import (
	"context"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/delivery/deliverytest"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestCampaignNeverFallsBackToTheOutbox is the restart of the issue: a
// campaign sends through an SMTP relay, one recipient's retry is pending,
// and the node restarts without its relay configuration (only the outbox).
// The retry must wait, unsent and unmarked, with a problem the admin shows,
// until a node with a relay sends it.
func TestCampaignNeverFallsBackToTheOutbox(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		const late = "reader0003@example.com"
		greylist := smtpsink.Faults{Rules: []*smtpsink.Rule{{Recipient: late, Stage: smtpsink.AtRcpt, Code: 451, Enhanced: [3]int{4, 7, 1}}}}
		f := newFixture(t, s, 30, greylist, func(c *delivery.Config) { c.MaxAttempts = 1000 })
		if _, err := f.engine.Start(ctx, f.camp.ID); err != nil {
			t.Fatal(err)
		}
		f.waitFor("29 sent and a retry pending", func(p model.Progress, _ *model.Campaign) bool { return p.Sent == 29 && p.Deferred == 1 })
		f.stop()

		outbox, err := mailer.NewOutbox(t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		lost, err := delivery.New(s, delivery.Config{Sender: outbox, Signer: deliverytest.Signer(t), BaseURL: "https://news.example.com"})
		if err != nil {
			t.Fatal(err)
		}
		stopLost := deliverytest.Run(t, lost)
		lost.Wake()
		f.waitFor("the campaign's problem to be recorded", waiting)
		stopLost()
		c, err := s.Campaign(ctx, f.camp.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(c.Problem, "no relay configured") || c.Status != model.CampaignSending {
			t.Errorf("campaign %s with problem %q; want it sending, waiting for a relay", c.Status, c.Problem)
		}
		if n, _ := outbox.Count(); n != 0 {
			t.Fatalf("%d messages of an SMTP campaign went into the outbox", n)
		}
		if p, err := s.CampaignProgress(ctx, f.camp.ID); err != nil || p.Sent != 29 || p.Deferred != 1 {
			t.Fatalf("progress %+v (%v); want the retry still waiting", p, err)
		}
		// The relay is back and lets the late reader in: the retry goes out
		// once, and the problem is gone.
		f.sink.SetFaults(smtpsink.Faults{})
		f.run()
		p := f.waitFor("the campaign to finish", sent)
		if p.Sent != 30 || f.sink.Count() != 30 {
			t.Fatalf("progress %+v, relay received %d; want 30", p, f.sink.Count())
		}
		if c, _ := s.Campaign(ctx, f.camp.ID); c.Problem != "" {
			t.Errorf("problem %q left after the campaign was sent", c.Problem)
		}
	})
}

// TestStartedElsewhereSettlesOnTheFirstSender: a campaign started by an
// engine that does not send (`herald campaign start` on a machine without
// relays) takes the transport of the first engine that sends it.
func TestStartedElsewhereSettlesOnTheFirstSender(t *testing.T) {
	s := storetest.SQLite(t)
	ctx := context.Background()
	f := newFixture(t, s, 5, smtpsink.Faults{}, nil)
	f.stop()
	outbox, err := mailer.NewOutbox(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	starter, err := delivery.New(s, delivery.Config{Sender: outbox, Signer: deliverytest.Signer(t), BaseURL: "https://news.example.com",
		Freeze: sampleFreeze(t)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := starter.Start(ctx, f.camp.ID); err != nil {
		t.Fatal(err)
	}
	f.run()
	f.waitFor("the campaign to finish", sent)
	if f.sink.Count() != 5 {
		t.Fatalf("relay received %d of 5", f.sink.Count())
	}
	if frozen, _ := s.FrozenContent(ctx, f.camp.ID); frozen.Transport != mailer.TransportSMTP {
		t.Errorf("recorded transport %q, want smtp", frozen.Transport)
	}
}

// TestOutboxCampaignNeverReachesARelay is the other way round: a campaign
// started into the outbox (a trial on a fresh install) is not sent to real
// readers because a relay was configured since.
func TestOutboxCampaignNeverReachesARelay(t *testing.T) {
	s := storetest.SQLite(t)
	ctx := context.Background()
	f := newFixture(t, s, 10, smtpsink.Faults{}, nil)
	f.stop()
	outbox, err := mailer.NewOutbox(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	trial, err := delivery.New(s, delivery.Config{Sender: outbox, Signer: deliverytest.Signer(t), BaseURL: "https://news.example.com",
		Freeze: sampleFreeze(t)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trial.Start(ctx, f.camp.ID); err != nil {
		t.Fatal(err)
	}
	// The outbox sent first (on a fresh install, say), which fixes the
	// campaign's transport; then a relay was configured.
	if got, err := s.SettleCampaignTransport(ctx, f.camp.ID, mailer.TransportOutbox); err != nil || got != mailer.TransportOutbox {
		t.Fatalf("settle transport: %q, %v", got, err)
	}
	f.run() // the relay-backed engine
	f.waitFor("the campaign's problem to be recorded", waiting)
	f.stop()
	if f.sink.Count() != 0 {
		t.Fatalf("%d messages of an outbox campaign reached the relay", f.sink.Count())
	}
	c, _ := s.Campaign(ctx, f.camp.ID)
	if !strings.Contains(c.Problem, "outbox") {
		t.Errorf("problem %q does not say why", c.Problem)
	}
}

// TestMissingPinnedRelayWaits: a campaign pinned to a relay that is no
// longer configured waits (it is neither paused nor sent another way).
func TestMissingPinnedRelayWaits(t *testing.T) {
	s := storetest.SQLite(t)
	ctx := context.Background()
	f := newFixture(t, s, 10, smtpsink.Faults{}, nil)
	f.stop()
	pinned := &model.Campaign{Name: "Pinned", EditionID: 1, ListIDs: f.camp.ListIDs, From: f.camp.From, Relay: "gone"}
	if err := s.CreateCampaign(ctx, pinned); err != nil {
		t.Fatal(err)
	}
	f.camp = pinned
	if _, err := f.engine.Start(ctx, pinned.ID); err != nil {
		t.Fatal(err)
	}
	f.run()
	f.waitFor("the campaign's problem to be recorded", waiting)
	f.stop()
	c, _ := s.Campaign(ctx, pinned.ID)
	if c.Status != model.CampaignSending || !strings.Contains(c.Problem, `"gone"`) || f.sink.Count() != 0 {
		t.Fatalf("campaign %s, problem %q, %d sent; want it sending and waiting for relay \"gone\"", c.Status, c.Problem, f.sink.Count())
	}
}

// waiting holds once a campaign's problem is recorded, or (wrongly) once it
// was sent, which the test then reports.
func waiting(_ model.Progress, c *model.Campaign) bool {
	return c.Problem != "" || c.Status == model.CampaignSent
}
