package delivery_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/delivery/deliverytest"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestHaltKeepsClaimedMailUnsent pauses and cancels a campaign while its
// workers hold claimed rows queued for a slow relay, on one SQLite node and
// on two PostgreSQL nodes. Once Halt returns, no message of the campaign
// may reach the relay, even as the engines drain their queues and stop;
// the ledger must match what the relay received; and a resumed campaign
// reaches everyone else exactly once.
func TestHaltKeepsClaimedMailUnsent(t *testing.T) {
	for _, to := range []model.CampaignStatus{model.CampaignPaused, model.CampaignCancelled} {
		t.Run("sqlite/"+string(to), func(t *testing.T) {
			haltMidSend(t, []*store.Store{storetest.SQLite(t)}, to)
		})
		t.Run("postgres-2-nodes/"+string(to), func(t *testing.T) {
			url := storetest.PostgresURL(t)
			var nodes []*store.Store
			for range 2 {
				s, err := store.Open(context.Background(), store.Options{DatabaseURL: url})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				nodes = append(nodes, s)
			}
			haltMidSend(t, nodes, to)
		})
	}
}

func haltMidSend(t *testing.T, nodes []*store.Store, to model.CampaignStatus) {
	const recipients, workers = 400, 4
	ctx := context.Background()
	s := nodes[0]
	l := &model.List{Slug: "evening", Name: "Evening"}
	if err := s.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	rows := make([]store.ImportRow, recipients)
	for i := range rows {
		rows[i] = store.ImportRow{Line: i + 2, Email: fmt.Sprintf("reader%04d@example.com", i)}
	}
	if _, err := s.ImportBatch(ctx, rows, store.ImportOptions{ListID: l.ID, Status: model.SubConfirmed, Mode: store.ImportUpsert}); err != nil {
		t.Fatal(err)
	}
	camp := &model.Campaign{Name: "Evening", EditionID: 1, ListIDs: []int64{l.ID}, From: "The Ledger <news@example.com>"}
	if err := s.CreateCampaign(ctx, camp); err != nil {
		t.Fatal(err)
	}
	sink, m, rc := deliverytest.Relay(t, smtpsink.Options{EnvelopeOnly: true})
	engines := make([]*delivery.Engine, len(nodes))
	stops := make([]func(), len(nodes))
	for i, n := range nodes {
		if i > 0 { // each node has its own mailer and connections
			var err error
			if m, err = mailer.New(mailer.Config{Relays: []mailer.RelayConfig{rc}}); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { m.Close() })
		}
		cfg := delivery.Config{
			Sender: m, Signer: deliverytest.Signer(t), BaseURL: "https://news.example.com",
			Freeze: sampleFreeze(t), Workers: workers,
			FlushAfter: 20 * time.Millisecond, Poll: 50 * time.Millisecond,
		}
		var err error
		if engines[i], err = delivery.New(n, cfg); err != nil {
			t.Fatal(err)
		}
		stops[i] = deliverytest.Run(t, engines[i])
	}
	if _, err := engines[0].Start(ctx, camp.ID); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); sink.Count() < 20; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for mail to go out: %d received", sink.Count())
		}
	}
	// Now the relay turns slow (each reply waits 200ms): every worker is
	// inside a long SMTP transaction with claimed rows queued behind it,
	// as with a distant relay or a rate limit.
	sink.SetFaults(smtpsink.Faults{Delay: 200 * time.Millisecond})
	beforeHalt := sink.Count()
	left, err := delivery.Halt(ctx, s, camp.ID, to, engines[0].Wake)
	if err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Fatalf("Halt returned with %d rows in flight; every node is alive and should have settled", left)
	}
	atHalt := sink.Count()
	// Stopping drains every queue: rows claimed before the halt and not
	// given back would be sent now.
	for _, stop := range stops {
		stop()
	}
	if after := sink.Count() - atHalt; after > 0 {
		t.Fatalf("%d messages reached the relay after %s returned (%d received by then)", after, to, atHalt)
	}
	// While Halt waited, only messages already in their SMTP transaction
	// could finish: one per worker, or two for a worker that began its
	// next one in the moment before the status changed. The rows queued
	// behind them (up to a claim batch per node) stay unsent.
	if during, most := atHalt-beforeHalt, int64(2*workers*len(nodes)); during > most {
		t.Fatalf("%d messages reached the relay while %s settled; at most %d were in an SMTP transaction",
			during, to, most)
	}
	t.Logf("%d received before %s, %d while it settled, none after", beforeHalt, to, atHalt-beforeHalt)
	p, err := s.CampaignProgress(ctx, camp.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Sent != sink.Count() || p.Sending != 0 || p.Sent+p.Pending != recipients {
		t.Fatalf("ledger %+v after %s; the relay received %d of %d", p, to, sink.Count(), recipients)
	}
	if p.Pending == 0 {
		t.Fatalf("the campaign finished before it could be halted (%+v): nothing was tested", p)
	}
	if to == model.CampaignCancelled {
		return
	}
	// Resume on fresh engines: everyone not yet reached gets one copy.
	sink.SetFaults(smtpsink.Faults{})
	for i := range nodes {
		stops[i] = deliverytest.Run(t, engines[i])
	}
	if err := s.SetCampaignStatus(ctx, camp.ID, model.CampaignSending); err != nil {
		t.Fatal(err)
	}
	engines[0].Wake()
	sentOnceEach(t, s, camp.ID, sink, recipients, "the pause")
}

// sentOnceEach waits for a campaign to be sent and checks that every one
// of its recipients received exactly one copy across what happened
// (a pause, a stop).
func sentOnceEach(t *testing.T, s *store.Store, id int64, sink *smtpsink.Sink, recipients int, across string) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		c, err := s.Campaign(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status == model.CampaignSent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for the campaign after %s: %s, %d received", across, c.Status, sink.Count())
		}
	}
	got := byRecipient(t, sink.Messages())
	if len(got) != recipients {
		t.Fatalf("%d recipients reached, want %d", len(got), recipients)
	}
	for rcpt, k := range got {
		if k != 1 {
			t.Errorf("%s received %d copies across %s", rcpt, k, across)
		}
	}
}
