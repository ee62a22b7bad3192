package mailer

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/herald-news/herald/internal/smtpsink"
)

// BenchmarkSend sends ~25 KB messages through the pool into a count-only
// sink over loopback from several goroutines, with BDAT (the sink offers
// CHUNKING) and with DATA (it does not); both pipelined.
func BenchmarkSend(b *testing.B) {
	for _, bench := range []struct {
		name       string
		noChunking bool
		workers    int
	}{{"bdat/workers=4", false, 4}, {"bdat/workers=8", false, 8}, {"data/workers=4", true, 4}, {"data/workers=8", true, 8}} {
		workers := bench.workers
		b.Run(bench.name, func(b *testing.B) {
			sink := startSink(b, smtpsink.Options{CountOnly: true, NoChunking: bench.noChunking})
			m := newMailer(b, Config{Relays: []RelayConfig{relayFor(b, sink.URL()+fmt.Sprintf("&max_conns=%d", workers))}})
			var body bytes.Buffer
			body.WriteString("From: Desk <desk@ledger.example>\r\nTo: r@readers.example\r\nSubject: Evening\r\n\r\n")
			for body.Len() < 25000 {
				body.WriteString("The council's harbour committee met on Tuesday and agreed on nothing at all.=20\r\n")
			}
			msg := body.Bytes()
			env := Envelope{From: "bounces@ledger.example", To: "r@readers.example"}
			var next atomic.Int64
			b.SetBytes(int64(len(msg)))
			b.ResetTimer()
			b.SetParallelism((workers + 1) / 2) // GOMAXPROCS is 2 here
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					next.Add(1)
					if err := m.Send(context.Background(), env, msg); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(next.Load())/b.Elapsed().Seconds(), "msgs/s")
			if sink.Count() != next.Load() {
				b.Errorf("sink counted %d of %d", sink.Count(), next.Load())
			}
		})
	}
}
