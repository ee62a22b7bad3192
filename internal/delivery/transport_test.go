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

// TestCampaignNeverFallsBackToTheOutbox starts a campaign through an SMTP
// relay, then runs a node that has lost its relay configuration (only the
// outbox): the mail must wait, unsent and unmarked, with a problem the admin
// shows, until a node with a relay sends it.
func TestCampaignNeverFallsBackToTheOutbox(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s, 30, smtpsink.Faults{}, nil)
		f.stop() // started below, sent by other engines
		if _, err := f.engine.Start(ctx, f.camp.ID); err != nil {
			t.Fatal(err)
		}
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
		if p, err := s.CampaignProgress(ctx, f.camp.ID); err != nil || p.Pending != 30 {
			t.Fatalf("progress %+v (%v); want all 30 rows still pending", p, err)
		}
		// The relay is back: everything goes out once, and the problem is gone.
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
