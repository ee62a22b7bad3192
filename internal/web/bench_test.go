package web_test

import (
	"context"
	"os"
	"strconv"
	"testing"
)

// TestBenchSmall runs the load benchmark at a small size and checks its
// bookkeeping: every request answered, every click and signup stored.
func TestBenchSmall(t *testing.T) {
	t.Parallel()
	rep, err := Bench(context.Background(), BenchOptions{Store: sqlite(t), Clicks: 2000, Subscribes: 300, Concurrency: 16})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + rep.String())
	if rep.Errors != 0 || rep.ClicksStored != 2000 || rep.SubscribersAdded != 300 || rep.Confirmations != 300 || rep.EventsLost != 0 {
		t.Fatalf("report: %+v", rep)
	}
}

// BenchmarkWebLoad measures the click redirect and the subscribe POST over
// loopback (go test -run X -bench WebLoad -benchtime 1x ./internal/web/).
// HERALD_BENCH_CLICKS (100000) and HERALD_BENCH_SUBSCRIBES (20000) set the
// number of each, e.g. 1 click to profile the subscribe path alone.
func BenchmarkWebLoad(b *testing.B) {
	clicks, subscribes := 100000, 20000
	if v, err := strconv.Atoi(os.Getenv("HERALD_BENCH_CLICKS")); err == nil && v > 0 {
		clicks = v
	}
	if v, err := strconv.Atoi(os.Getenv("HERALD_BENCH_SUBSCRIBES")); err == nil && v > 0 {
		subscribes = v
	}
	for b.Loop() {
		rep, err := Bench(context.Background(), BenchOptions{Store: sqlite(b), Clicks: clicks, Subscribes: subscribes})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Errors != 0 || rep.ClicksStored != int64(rep.Clicks) || rep.SubscribersAdded != int64(rep.Subscribes) {
			b.Fatalf("not everything stored: %+v", rep)
		}
		b.ReportMetric(rep.ClicksPerSecond, "clicks/s")
		b.ReportMetric(rep.SubscribesPerSec, "subscribes/s")
		b.ReportMetric(float64(rep.SubscribeCPU.Microseconds()), "cpu-µs/subscribe")
	}
}
