package faults_test

import (
	"context"
	"fmt"
	"os"
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
