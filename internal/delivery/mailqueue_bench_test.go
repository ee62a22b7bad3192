package delivery_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/delivery/deliverytest"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/message"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/settings"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// BenchmarkMailQueueDrain measures the confirmation queue alone: signups
// queue HERALD_BENCH_MAILS (10000) confirmations first, then a queue as
// serve runs it (default workers, DKIM-signed with the key kept in the
// store, one relay of 8 connections to an in-process SMTP sink) sends
// them all. It reports the queue's own rate, which is what it can keep
// pace with, and its CPU a message (the sink's included):
//
//	go test -run - -bench MailQueueDrain -benchtime 1x ./internal/delivery/
func BenchmarkMailQueueDrain(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("HERALD_BENCH_MAILS")); err == nil && v > 0 {
		n = v
	}
	for _, algo := range []string{"ed25519", "rsa"} {
		b.Run(algo, func(b *testing.B) {
			pem, err := message.GenerateKey(algo)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				b.StopTimer()
				s := storetest.SQLite(b)
				queueConfirmations(b, s, pem, n)
				b.StartTimer()
				rate, cpu := drainQueue(b, s, n)
				b.ReportMetric(rate, "mails/s")
				b.ReportMetric(float64(cpu.Microseconds()), "cpu-µs/mail")
			}
		})
	}
}

// queueConfirmations saves the DKIM key and queues n confirmations by
// signups to a double opt-in list.
func queueConfirmations(b *testing.B, s *store.Store, pem []byte, n int) {
	b.Helper()
	ctx := context.Background()
	if err := settings.SaveDKIM(ctx, s, pem, "bench", "news.example"); err != nil {
		b.Fatal(err)
	}
	l := &model.List{Slug: "drain", Name: "Drain", OptIn: model.OptInDouble, Public: true}
	if err := s.CreateList(ctx, l); err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	for w := range 32 {
		wg.Go(func() {
			for i := w; i < n; i += 32 {
				if _, _, err := s.Signup(ctx, fmt.Sprintf("reader-%d@example.com", i), "Reader", l, model.SourceForm, false); err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
}

// drainQueue starts a queue on s and waits until the sink has n messages;
// it returns the messages a second and the process's CPU a message.
func drainQueue(b *testing.B, s *store.Store, n int) (float64, time.Duration) {
	b.Helper()
	sink, err := smtpsink.Start(smtpsink.Options{CountOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	relay, err := mailer.ParseRelay(sink.URL() + "&max_conns=8")
	if err != nil {
		b.Fatal(err)
	}
	m, err := mailer.New(mailer.Config{Relays: []mailer.RelayConfig{relay}})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	q, err := delivery.NewMailQueue(delivery.MailQueueConfig{Store: s, Sender: m, Signer: deliverytest.Signer(b),
		BaseURL: "https://news.example", From: "News <news@news.example>"})
	if err != nil {
		b.Fatal(err)
	}
	cpu0, start := delivery.CPUTime(), time.Now()
	q.Start()
	defer q.Close(context.Background())
	for deadline := start.Add(5 * time.Minute); sink.Count() < int64(n); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d confirmations sent in 5 minutes", sink.Count(), n)
		}
	}
	took, cpu := time.Since(start), delivery.CPUTime()-cpu0
	return float64(n) / took.Seconds(), cpu / time.Duration(n)
}
