package faults_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/faults"
	"github.com/herald-news/herald/internal/store/storetest"
)

// BenchmarkScale runs faults.ScaleBench once per node count (1, 2, 3) on
// the test PostgreSQL server: 20,000 recipients a run, each node a herald
// child process. It reports messages a second and the database work per
// message. The transaction and statement counts are database-wide, so run
// it alone: go test -run '^$' -bench Scale ./internal/faults/
func BenchmarkScale(b *testing.B) {
	base := os.Getenv(storetest.PostgresEnv)
	if base == "" {
		b.Skipf("%s is not set; ./scripts/test sets it", storetest.PostgresEnv)
	}
	for _, n := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			var rep faults.ScaleReport
			for b.Loop() {
				var err error
				rep, err = faults.ScaleBench(context.Background(), faults.ScaleOptions{DatabaseURL: base, Herald: herald, Nodes: []int{n}})
				if err != nil {
					b.Fatal(err)
				}
			}
			run := rep.Runs[0]
			b.ReportMetric(run.PerSecond, "msgs/s")
			b.ReportMetric(float64(run.DB.Transactions)/float64(run.Messages), "xact/msg")
			b.ReportMetric(float64(run.DB.RowsUpdated)/float64(run.Messages), "rowupd/msg")
			if run.DB.Statements >= 0 {
				b.ReportMetric(float64(run.DB.Statements)/float64(run.Messages), "stmt/msg")
			}
			b.Log("\n" + rep.String())
		})
	}
}

// TestScaleBenchSamplesALargeLedger runs the scale benchmark as 'herald
// bench scale --sample' does on a ledger larger than the sample: the
// subscribers are written once, each run starts a campaign to all of them
// and ends, paused, after the sample, with the start and memory measured.
func TestScaleBenchSamplesALargeLedger(t *testing.T) {
	base := os.Getenv(storetest.PostgresEnv)
	if base == "" {
		t.Skipf("%s is not set; ./scripts/test sets it", storetest.PostgresEnv)
	}
	rep, err := faults.ScaleBench(context.Background(), faults.ScaleOptions{DatabaseURL: base, Herald: herald,
		Nodes: []int{1, 2}, Recipients: 3000, Sample: 600})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 2 || rep.Seed <= 0 {
		t.Fatalf("report: %+v", rep)
	}
	for _, run := range rep.Runs {
		if run.Ledger != 3000 {
			t.Errorf("%d nodes: the start wrote %d ledger rows, want 3000", run.Nodes, run.Ledger)
		}
		// The pause lands while the nodes hold claimed rows: they send
		// those, so a few more than the sample arrive, never all.
		if run.Messages < 600 || run.Messages >= 3000 {
			t.Errorf("%d nodes: %d messages counted, want the sample of 600 (and not the whole campaign)", run.Nodes, run.Messages)
		}
		if run.Start <= 0 || run.PerSecond <= 0 || run.FirstMessage <= 0 {
			t.Errorf("%d nodes: start %s, rate %.0f, first message %s", run.Nodes, run.Start, run.PerSecond, run.FirstMessage)
		}
		if runtime.GOOS == "linux" && (run.NodeRSS == 0 || run.StartRSS == 0) {
			t.Errorf("%d nodes: memory not measured (nodes %d, start %d bytes)", run.Nodes, run.NodeRSS, run.StartRSS)
		}
	}
	out := rep.String()
	for _, want := range []string{"3000 recipients written in", "each run ends after 600 messages", "campaign start wrote 3000 ledger rows"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
