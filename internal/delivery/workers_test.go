package delivery_test

import (
	"context"
	"fmt"
	"strconv"
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

// TestEngineSendsOnOneConnectionPerWorker holds every MAIL command at the
// sink until as many transactions are open at once as the engine has
// workers: each worker must then be in a transaction of its own, on a
// connection of its own. Without Workers set, the engine takes its worker
// count from the relay's max_conns. Counting sessions at the sink, not
// timing them, is what shows the concurrency.
func TestEngineSendsOnOneConnectionPerWorker(t *testing.T) {
	for _, tc := range []struct {
		name              string
		workers, maxConns int
		want              int
	}{
		{"workers set", 12, 12, 12},
		{"workers from the relay's max_conns", 0, 9, 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s := storetest.SQLite(t)
			hold := make(chan struct{})
			released := false
			release := func() {
				if !released {
					released = true
					close(hold)
				}
			}
			sink, err := smtpsink.Start(smtpsink.Options{EnvelopeOnly: true, Faults: smtpsink.Faults{Hold: hold}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sink.Close() })
			rc, err := mailer.ParseRelay(sink.URL() + "&max_conns=" + strconv.Itoa(tc.maxConns))
			if err != nil {
				t.Fatal(err)
			}
			m, err := mailer.New(mailer.Config{Relays: []mailer.RelayConfig{rc}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { m.Close() })

			recipients := 5 * tc.want
			l := &model.List{Slug: "daily", Name: "Daily"}
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
			eng, err := delivery.New(s, delivery.Config{
				Sender: m, Signer: deliverytest.Signer(t), BaseURL: "https://news.example.com",
				Freeze: sampleFreeze(t), Workers: tc.workers, FlushAfter: 20 * time.Millisecond, Poll: 50 * time.Millisecond,
			})
			if err != nil {
				t.Fatal(err)
			}
			camp := &model.Campaign{Name: "Evening", EditionID: 1, ListIDs: []int64{l.ID}, From: "The Ledger <news@example.com>"}
			if err := s.CreateCampaign(ctx, camp); err != nil {
				t.Fatal(err)
			}
			if _, err := eng.Start(ctx, camp.ID); err != nil {
				t.Fatal(err)
			}
			deliverytest.Run(t, eng)
			t.Cleanup(release) // before the engine stops: cleanups run last first

			// Waits for an outcome; it asserts no duration.
			for deadline := time.Now().Add(60 * time.Second); sink.Held() < int64(tc.want); time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("%d transactions open at once, want %d (one per worker)", sink.Held(), tc.want)
				}
			}
			if open := sink.OpenConnections(); open != int64(tc.want) {
				t.Errorf("%d connections open while %d transactions wait, want one each", open, tc.want)
			}
			release()
			for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				c, err := s.Campaign(ctx, camp.ID)
				if err != nil {
					t.Fatal(err)
				}
				if c.Status == model.CampaignSent {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("campaign still %s", c.Status)
				}
			}
			if sink.Count() != int64(recipients) {
				t.Errorf("sink received %d messages, want %d", sink.Count(), recipients)
			}
			if sink.PeakConnections() != int64(tc.want) || sink.Connections() != int64(tc.want) {
				t.Errorf("%d connections opened, at most %d at once; want %d, reused", sink.Connections(), sink.PeakConnections(), tc.want)
			}
		})
	}
}
