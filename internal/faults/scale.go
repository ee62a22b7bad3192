package faults

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver for the statistics

	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store"
)

// ScaleOptions configure ScaleBench.
type ScaleOptions struct {
	// DatabaseURL is the PostgreSQL server. Each run gets a fresh schema,
	// dropped afterwards. The transaction and statement counts are
	// database-wide: run the benchmark on a server nothing else is using.
	DatabaseURL string
	// Herald starts herald processes (the nodes).
	Herald Launcher
	// Nodes lists the node counts to measure (default 1, 2, 3).
	Nodes []int
	// Recipients is the campaign size of each run (default 20,000).
	Recipients int
	// Workers is HERALD_WORKERS of each node (0: herald's default, the
	// relay's max_conns, 4 unless set).
	Workers int
	// Log, when set, receives a line per step.
	Log io.Writer
}

// ScaleRun is one measured run: a campaign sent by Nodes nodes.
type ScaleRun struct {
	Nodes    int
	Messages int64         // accepted by the sink
	Elapsed  time.Duration // from the first message accepted to the last
	Wall     time.Duration // from starting the nodes until all exited
	// PerSecond is Messages over Elapsed: the sending rate once running.
	PerSecond float64
	// NodeCPU is the CPU time (user + system) the nodes used together.
	NodeCPU time.Duration
	// Busy is the share of the machine's CPU time that was busy during the
	// run (all processes: nodes, PostgreSQL, the sink), or -1 if unknown.
	Busy float64
	DB   DBCost
}

// DBCost is the database work of one run, measured from PostgreSQL's
// statistics before and after it.
type DBCost struct {
	// Transactions committed or rolled back in the database
	// (pg_stat_database), including the nodes' progress polling.
	Transactions int64
	// Statements run in the database (pg_stat_statements, BEGIN and COMMIT
	// included), or -1 when that extension is not loaded.
	Statements int64
	// Rows changed and read in the run's own tables (pg_stat_user_tables).
	RowsInserted, RowsUpdated, RowsDeleted, RowsRead int64
}

// ScaleReport is what ScaleBench measured.
type ScaleReport struct {
	Cores      int
	Recipients int
	Runs       []ScaleRun
}

// String renders the report as a table with the cost per message.
func (r ScaleReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d recipients per run, %d CPU cores, one loopback SMTP sink, one PostgreSQL\n", r.Recipients, r.Cores)
	fmt.Fprintf(&b, "%5s %9s %8s %10s %9s %6s %8s %8s %9s %9s\n", "nodes", "messages", "seconds", "msgs/s", "node CPU", "busy", "xact/msg", "stmt/msg", "upd/msg", "read/msg")
	for _, run := range r.Runs {
		per := func(n int64) string {
			if n < 0 || run.Messages == 0 {
				return "n/a"
			}
			return strconv.FormatFloat(float64(n)/float64(run.Messages), 'f', 3, 64)
		}
		busy := "n/a"
		if run.Busy >= 0 {
			busy = fmt.Sprintf("%.0f%%", run.Busy*100)
		}
		fmt.Fprintf(&b, "%5d %9d %8.1f %10.0f %8.1fs %6s %8s %8s %9s %9s\n", run.Nodes, run.Messages, run.Elapsed.Seconds(), run.PerSecond,
			run.NodeCPU.Seconds(), busy, per(run.DB.Transactions), per(run.DB.Statements), per(run.DB.RowsUpdated), per(run.DB.RowsRead))
	}
	return b.String()
}

// ScaleBench sends one campaign with 1, 2, 3... herald nodes (as set in
// opts.Nodes) on one PostgreSQL into one counting SMTP sink, and reports
// the sending rate and the database work per message of each run.
func ScaleBench(ctx context.Context, opts ScaleOptions) (ScaleReport, error) {
	if opts.DatabaseURL == "" || opts.Herald == nil {
		return ScaleReport{}, errors.New("scale bench: a PostgreSQL URL and a herald launcher are required")
	}
	if len(opts.Nodes) == 0 {
		opts.Nodes = []int{1, 2, 3}
	}
	if opts.Recipients <= 0 {
		opts.Recipients = 20000
	}
	rep := ScaleReport{Cores: runtime.NumCPU(), Recipients: opts.Recipients}
	for _, n := range opts.Nodes {
		run, err := scaleRun(ctx, opts, n)
		if err != nil {
			return rep, fmt.Errorf("scale bench with %d nodes: %w", n, err)
		}
		rep.Runs = append(rep.Runs, run)
	}
	return rep, nil
}

func (o ScaleOptions) logf(format string, args ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, format+"\n", args...)
	}
}

func scaleRun(ctx context.Context, opts ScaleOptions, nodes int) (run ScaleRun, err error) {
	run.Nodes = nodes
	admin, err := sql.Open("pgx", opts.DatabaseURL)
	if err != nil {
		return run, err
	}
	defer admin.Close()
	admin.SetMaxOpenConns(1)
	var b [6]byte
	rand.Read(b[:])
	schema := "herald_scale_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		return run, fmt.Errorf("create schema: %w", err)
	}
	defer func() { _, _ = admin.ExecContext(context.WithoutCancel(ctx), `DROP SCHEMA `+schema+` CASCADE`) }()
	u, err := url.Parse(opts.DatabaseURL)
	if err != nil {
		return run, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	dbURL := u.String()

	s, err := store.Open(ctx, store.Options{DatabaseURL: dbURL})
	if err != nil {
		return run, err
	}
	id, err := Seed(ctx, s, opts.Recipients)
	s.Close()
	if err != nil {
		return run, err
	}
	data, err := os.MkdirTemp("", "herald-scale-")
	if err != nil {
		return run, err
	}
	defer os.RemoveAll(data)
	env := []string{"HERALD_DATABASE_URL=" + dbURL, "HERALD_DATA=" + data, "HERALD_LOG_LEVEL=warn"}
	if opts.Workers > 0 {
		env = append(env, "HERALD_WORKERS="+strconv.Itoa(opts.Workers))
	}
	starter, err := StartNode(opts.Herald, "campaign start", env, "campaign", "start", strconv.FormatInt(id, 10), "--no-check")
	if err != nil {
		return run, err
	}
	if err := starter.Wait(ctx); err != nil {
		return run, fmt.Errorf("campaign start: %w\n%s", err, starter.Output())
	}
	opts.logf("%d nodes: campaign %d started with %d recipients", nodes, id, opts.Recipients)

	sink, err := smtpsink.Start(smtpsink.Options{CountOnly: true})
	if err != nil {
		return run, err
	}
	defer sink.Close()

	stats := newStatsReader(ctx, admin, schema)
	before, err := stats.read(ctx)
	if err != nil {
		return run, err
	}
	cpuBefore, cpuOK := machineCPU()

	// Watch the sink: when the first and the last message arrive.
	var first, last time.Time
	watchCtx, stopWatch := context.WithCancel(ctx)
	var watched sync.WaitGroup
	watched.Add(1)
	go func() {
		defer watched.Done()
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-watchCtx.Done():
				return
			case now := <-tick.C:
				n := sink.Count()
				if n > 0 && first.IsZero() {
					first = now
				}
				if n >= int64(opts.Recipients) {
					last = now
					return
				}
			}
		}
	}()

	started := time.Now()
	var running []*Node
	for i := range nodes {
		nd, err := StartNode(opts.Herald, fmt.Sprintf("node %d", i+1), env, "campaign", "run", strconv.FormatInt(id, 10), "--relay", sink.URL())
		if err != nil {
			stopWatch()
			for _, r := range running {
				r.Kill()
			}
			return run, err
		}
		running = append(running, nd)
	}
	var failed error
	for _, nd := range running {
		if err := nd.Wait(ctx); err != nil {
			failed = errors.Join(failed, fmt.Errorf("%s: %w\n%s", nd.Name, err, nd.Output()))
		}
		run.NodeCPU += nd.CPU()
	}
	run.Wall = time.Since(started)
	stopWatch()
	watched.Wait()
	if failed != nil {
		return run, failed
	}
	cpuAfter, cpuOK2 := machineCPU()
	run.Busy = -1
	if cpuOK && cpuOK2 && cpuAfter.total > cpuBefore.total {
		run.Busy = float64(cpuAfter.busy-cpuBefore.busy) / float64(cpuAfter.total-cpuBefore.total)
	}
	run.Messages = sink.Count()
	if last.IsZero() {
		last = time.Now()
	}
	run.Elapsed = last.Sub(first)
	if run.Elapsed > 0 {
		run.PerSecond = float64(run.Messages) / run.Elapsed.Seconds()
	}

	// The nodes' backends report their statistics as they exit.
	time.Sleep(1500 * time.Millisecond)
	after, err := stats.read(ctx)
	if err != nil {
		return run, err
	}
	run.DB = after.minus(before)
	opts.logf("%d nodes: %d messages in %.1fs, %.0f/s", nodes, run.Messages, run.Elapsed.Seconds(), run.PerSecond)
	return run, nil
}

// statsReader reads the PostgreSQL statistics ScaleBench compares.
type statsReader struct {
	db         *sql.DB
	schema     string
	statements string // qualified pg_stat_statements view, "" if unavailable
}

func newStatsReader(ctx context.Context, db *sql.DB, schema string) *statsReader {
	r := &statsReader{db: db, schema: schema}
	var preload string
	_ = db.QueryRowContext(ctx, `SHOW shared_preload_libraries`).Scan(&preload) // unknown: reported as none
	if !strings.Contains(preload, "pg_stat_statements") {
		return r
	}
	var ns string
	err := db.QueryRowContext(ctx, `SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
		WHERE e.extname = 'pg_stat_statements'`).Scan(&ns)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := db.ExecContext(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements SCHEMA public`); err == nil {
			ns, err = "public", nil
		}
	}
	if err == nil && ns != "" {
		r.statements = quoteIdent(ns) + ".pg_stat_statements"
	}
	return r
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func (r *statsReader) read(ctx context.Context) (DBCost, error) {
	var c DBCost
	_, _ = r.db.ExecContext(ctx, `SELECT pg_stat_clear_snapshot()`) // statistics only
	err := r.db.QueryRowContext(ctx, `SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()`).Scan(&c.Transactions)
	if err != nil {
		return c, fmt.Errorf("read pg_stat_database: %w", err)
	}
	err = r.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(n_tup_ins), 0), COALESCE(SUM(n_tup_upd), 0), COALESCE(SUM(n_tup_del), 0),
		COALESCE(SUM(seq_tup_read), 0) + COALESCE(SUM(idx_tup_fetch), 0)
		FROM pg_stat_user_tables WHERE schemaname = $1`, r.schema).Scan(&c.RowsInserted, &c.RowsUpdated, &c.RowsDeleted, &c.RowsRead)
	if err != nil {
		return c, fmt.Errorf("read pg_stat_user_tables: %w", err)
	}
	c.Statements = -1
	if r.statements != "" {
		err = r.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(calls), 0) FROM `+r.statements+`
			WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&c.Statements)
		if err != nil {
			c.Statements = -1
		}
	}
	return c, nil
}

func (c DBCost) minus(o DBCost) DBCost {
	d := DBCost{
		Transactions: c.Transactions - o.Transactions,
		Statements:   -1,
		RowsInserted: c.RowsInserted - o.RowsInserted,
		RowsUpdated:  c.RowsUpdated - o.RowsUpdated,
		RowsDeleted:  c.RowsDeleted - o.RowsDeleted,
		RowsRead:     c.RowsRead - o.RowsRead,
	}
	if c.Statements >= 0 && o.Statements >= 0 {
		d.Statements = c.Statements - o.Statements
	}
	return d
}

type cpuTimes struct{ busy, total int64 }

// machineCPU reads the machine's CPU time from /proc/stat (Linux); ok is
// false elsewhere.
func machineCPU() (cpuTimes, bool) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return cpuTimes{}, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return cpuTimes{}, false
	}
	fields := strings.Fields(sc.Text())
	if len(fields) < 5 || fields[0] != "cpu" {
		return cpuTimes{}, false
	}
	var t cpuTimes
	for i, f := range fields[1:] {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return cpuTimes{}, false
		}
		t.total += v
		if i != 3 && i != 4 { // idle and iowait
			t.busy += v
		}
	}
	return t, true
}
