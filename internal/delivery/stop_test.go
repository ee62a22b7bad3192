package delivery_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/delivery/deliverytest"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestStopGivesClaimedRowsBack stops an engine while its workers hold
// claimed rows queued behind a slow relay. Only the messages already in
// their SMTP transaction may finish (one a worker, two for one that began
// its next in the moment before the stop); every other claimed row goes
// back to pending at once, without a try counted, and a later run sends
// everyone else exactly once. Before, a stop sent the whole queue: with 2
// workers and a slow relay, 94 rows and 56 seconds.
func TestStopGivesClaimedRowsBack(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		const recipients, workers = 300, 2
		ctx := context.Background()
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
		sink, m, _ := deliverytest.Relay(t, smtpsink.Options{EnvelopeOnly: true})
		cfg := delivery.Config{
			Sender: m, Signer: deliverytest.Signer(t), BaseURL: "https://news.example.com",
			Freeze: sampleFreeze(t), Workers: workers, ClaimBatch: 100,
			FlushAfter: 20 * time.Millisecond, Poll: 50 * time.Millisecond,
		}
		eng, err := delivery.New(s, cfg)
		if err != nil {
			t.Fatal(err)
		}
		stop := deliverytest.Run(t, eng)
		if _, err := eng.Start(ctx, camp.ID); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(60 * time.Second); sink.Count() < 10; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("gave up waiting for mail to go out: %d received", sink.Count())
			}
		}
		sink.SetFaults(smtpsink.Faults{Delay: 100 * time.Millisecond})
		before := sink.Count()
		stop()
		during := sink.Count() - before
		if most := int64(2 * workers); during > most {
			t.Fatalf("%d messages reached the relay while the engine stopped; at most %d were in an SMTP transaction", during, most)
		}
		p, err := s.CampaignProgress(ctx, camp.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p.Sending != 0 || p.Sent != sink.Count() || p.Sent+p.Pending != recipients || p.Pending == 0 {
			t.Fatalf("ledger %+v after the stop; the relay received %d", p, sink.Count())
		}
		t.Logf("%d received before the stop, %d while it stopped; %d rows pending", before, during, p.Pending)

		// The next run sends everyone else once.
		sink.SetFaults(smtpsink.Faults{})
		eng2, err := delivery.New(s, cfg)
		if err != nil {
			t.Fatal(err)
		}
		deliverytest.Run(t, eng2)
		eng2.Wake()
		sentOnceEach(t, s, camp.ID, sink, recipients, "the stop")
	})
}
