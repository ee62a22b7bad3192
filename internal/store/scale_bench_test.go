package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// benchRows is the audience of the scale benchmarks: HERALD_BENCH_ROWS,
// 100,000 unless set (1,000,000 and 10,000,000 are the sizes README and
// docs/scale.md quote).
func benchRows(b *testing.B) int {
	if v := os.Getenv("HERALD_BENCH_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("HERALD_BENCH_ROWS=%q", v)
		}
		return n
	}
	return 100_000
}

// sentCampaign fills s with n confirmed subscribers and a campaign to all
// of them, started; it reports how long the ledger took to write.
func sentCampaign(b *testing.B, s *store.Store, n int) (c *model.Campaign, ledger time.Duration) {
	ctx := context.Background()
	l := &model.List{Slug: "daily", Name: "Daily"}
	if err := s.CreateList(ctx, l); err != nil {
		b.Fatal(err)
	}
	batch := make([]store.ImportRow, 0, 10_000)
	for i := 0; i < n; i++ {
		batch = append(batch, store.ImportRow{Line: i + 2, Email: fmt.Sprintf("reader%08d@d%d.example", i, i%50), Name: fmt.Sprintf("Reader %d", i)})
		if len(batch) == cap(batch) || i == n-1 {
			if _, err := s.ImportBatch(ctx, batch, store.ImportOptions{ListID: l.ID, Status: model.SubConfirmed, Mode: store.ImportSkipExisting}); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	c = &model.Campaign{Name: "Daily briefing", EditionID: 1, ListIDs: []int64{l.ID}, From: "News <news@example.com>"}
	if err := s.CreateCampaign(ctx, c); err != nil {
		b.Fatal(err)
	}
	started := time.Now()
	total, err := s.StartCampaign(ctx, c.ID, model.Frozen{Subject: "Today", HTML: []byte("<p>h</p>"), Text: []byte("t"), Links: []string{"https://example.com/a"}})
	if err != nil || total != int64(n) {
		b.Fatalf("StartCampaign = %d, %v", total, err)
	}
	return c, time.Since(started)
}

// drain claims and records every row of the campaign as sent, from nodes
// goroutines with a store each (as nodes would), and with events one open
// event per row, until about limit rows are done; it returns the rows done.
func drain(b *testing.B, open func() *store.Store, id int64, nodes int, events bool, limit int64) int64 {
	var done atomic.Int64
	var wg sync.WaitGroup
	for range nodes {
		s := open()
		wg.Go(func() {
			ctx := context.Background()
			for {
				rows, err := s.ClaimDeliveries(ctx, id, 200, time.Minute)
				if err != nil {
					b.Error(err)
					return
				}
				if len(rows) == 0 {
					return
				}
				if done.Load() >= limit {
					// Past the limit: give the claim back untouched.
					outs := make([]store.Outcome, len(rows))
					for i, d := range rows {
						outs[i] = store.Outcome{ID: d.ID, Attempts: d.Attempts, Status: model.DeliveryPending, Uncount: true}
					}
					if err := s.RecordOutcomes(ctx, outs); err != nil {
						b.Error(err)
					}
					return
				}
				outs := make([]store.Outcome, len(rows))
				evs := make([]model.Event, len(rows))
				for i, d := range rows {
					outs[i] = store.Outcome{ID: d.ID, Attempts: d.Attempts, Status: model.DeliverySent, Reply: "250 2.0.0 OK"}
					evs[i] = model.Event{Kind: model.EventOpen, CampaignID: id, SubscriberID: d.SubscriberID, At: time.Now()}
				}
				if err := s.RecordOutcomes(ctx, outs); err != nil {
					b.Error(err)
					return
				}
				if events {
					if err := s.RecordEvents(ctx, evs); err != nil {
						b.Error(err)
						return
					}
				}
				done.Add(int64(len(rows)))
			}
		})
	}
	wg.Wait()
	return done.Load()
}

// BenchmarkCopyToPostgres: herald copy of an SQLite installation with
// HERALD_BENCH_ROWS subscribers and a sent campaign (its ledger and one
// event per reader) into an empty PostgreSQL schema.
//
//	HERALD_BENCH_ROWS=1000000 ./scripts/test -run - -bench CopyToPostgres -benchtime 1x -timeout 60m ./internal/store/
func BenchmarkCopyToPostgres(b *testing.B) {
	n := benchRows(b)
	s := storetest.SQLite(b)
	c, _ := sentCampaign(b, s, n)
	drain(b, func() *store.Store { return s }, c.ID, 1, true, int64(n))
	b.ResetTimer()
	for range b.N {
		target := storetest.PostgresURL(b)
		started := time.Now()
		rep, err := s.CopyTo(context.Background(), target, store.CopyOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if bad := rep.Mismatched(); len(bad) > 0 {
			b.Fatalf("counts differ: %+v", bad)
		}
		b.ReportMetric(float64(rep.Rows), "rows")
		b.ReportMetric(float64(rep.Rows)/time.Since(started).Seconds(), "rows/s")
		// What a reader costs on PostgreSQL, indexes included.
		db, err := sql.Open("pgx", target)
		if err != nil {
			b.Fatal(err)
		}
		for _, table := range []string{"subscribers", "subscriptions", "deliveries", "events"} {
			var size int64
			if err := db.QueryRow(`SELECT pg_total_relation_size($1)`, table).Scan(&size); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(size)/float64(n), table+"-bytes/row")
		}
		db.Close()
	}
}

// BenchmarkLedgerPostgres backs docs/scale.md: on PostgreSQL, a campaign to
// HERALD_BENCH_ROWS readers (ledger rows written at start), then 100,000
// of its rows (HERALD_BENCH_DRAIN) claimed and recorded as sent, without
// SMTP, by 1 node and then 3 nodes, each with its own connection pool,
// claims of 200 and outcome writes of 200.
//
//	HERALD_BENCH_ROWS=10000000 ./scripts/test -run - -bench LedgerPostgres -benchtime 1x -timeout 120m ./internal/store/
func BenchmarkLedgerPostgres(b *testing.B) {
	n := benchRows(b)
	limit := int64(100_000)
	if v := os.Getenv("HERALD_BENCH_DRAIN"); v != "" {
		limit, _ = strconv.ParseInt(v, 10, 64)
	}
	url := storetest.PostgresURL(b)
	open := func() *store.Store {
		s, err := store.Open(context.Background(), store.Options{DatabaseURL: url})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}
	c, ledger := sentCampaign(b, open(), n)
	b.ReportMetric(ledger.Seconds(), "ledger-s")
	b.ReportMetric(float64(n)/ledger.Seconds(), "ledger-rows/s")
	for _, nodes := range []int{1, 3} {
		started := time.Now()
		done := drain(b, open, c.ID, nodes, false, limit)
		b.ReportMetric(float64(done)/time.Since(started).Seconds(), fmt.Sprintf("claimed+recorded/s-%dnodes", nodes))
	}
}

// BenchmarkSQLiteCommit: one small write transaction (a suppression, as a
// complaint or an unsubscribe writes) with synchronous normal and full:
// what each setting costs a commit on this machine's disk.
//
//	go test -run - -bench SQLiteCommit -benchtime 2000x ./internal/store/
func BenchmarkSQLiteCommit(b *testing.B) {
	for _, sync := range []string{"normal", "full"} {
		b.Run(sync, func(b *testing.B) {
			ctx := context.Background()
			s, err := store.Open(ctx, store.Options{SQLitePath: b.TempDir() + "/herald.db", Synchronous: sync})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.ResetTimer()
			for i := range b.N {
				if err := s.Suppress(ctx, fmt.Sprintf("r%d@example.com", i), model.SuppressManual, ""); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
		})
	}
}
