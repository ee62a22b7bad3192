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

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver for the statistics

	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store"
)

// ScaleOptions configure ScaleBench.
type ScaleOptions struct {
	// DatabaseURL is the PostgreSQL server. The benchmark works in a fresh
	// schema, dropped afterwards. The transaction and statement counts are
	// database-wide: run the benchmark on a server nothing else is using.
	DatabaseURL string
	// Herald starts herald processes (the nodes).
	Herald Launcher
	// Nodes lists the node counts to measure (default 1, 2, 3).
	Nodes []int
	// Recipients is the audience, and so the ledger of each run's campaign
	// (default 20,000). The subscribers are written once, with COPY, and
	// every run starts a new campaign to all of them.
	Recipients int
	// Sample, when positive, ends each run once the sink has accepted that
	// many messages: the benchmark pauses the campaign, and the nodes
	// finish what they hold and exit. So claims on a ledger of ten million
	// rows are measured without sending all ten million each run. Zero
	// sends every message.
	Sample int
	// Workers is HERALD_WORKERS of each node (0: herald's default, the
	// relay's max_conns, 4 unless set).
	Workers int
	// Log, when set, receives a line per step.
	Log io.Writer
}

// ScaleRun is one measured run: a campaign started, then sent (or its
// first Sample messages sent) by Nodes nodes.
type ScaleRun struct {
	Nodes int
	// Ledger is the number of rows the campaign's start wrote, Start the
	// wall time of 'herald campaign start' (a process of its own) and
	// StartRSS that process's peak resident memory.
	Ledger   int64
	Start    time.Duration
	StartRSS uint64
	// Progress is how long one count of the campaign's progress took
	// right after the start (what 'campaign run' shows while it sends).
	Progress time.Duration
	// FirstMessage is the time from starting the nodes to the first
	// message at the sink.
	FirstMessage time.Duration
	Messages     int64         // accepted by the sink until the run's end (or its sample)
	Elapsed      time.Duration // from the first message accepted to the last counted
	Wall         time.Duration // from starting the nodes until all exited
	// PerSecond is Messages over Elapsed: the sending rate once running.
	PerSecond float64
	// NodeCPU is the CPU time (user + system) the nodes used together.
	NodeCPU time.Duration
	// NodeRSS is the largest peak resident memory of the nodes.
	NodeRSS uint64
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
	Sample     int
	// Seed is the time the subscribers took to write (COPY, then one
	// INSERT … SELECT for their subscriptions, then ANALYZE).
	Seed time.Duration
	Runs []ScaleRun
}

// String renders the report: the start of each run, then a table with the
// sending rate and the cost per message.
func (r ScaleReport) String() string {
	var b strings.Builder
	sent := "each campaign sent whole"
	if r.Sample > 0 {
		sent = fmt.Sprintf("each run ends after %d messages (the campaign is paused)", r.Sample)
	}
	fmt.Fprintf(&b, "%d recipients written in %s (%.0f rows/s); %s; %d CPU cores, one loopback SMTP sink, one PostgreSQL\n",
		r.Recipients, r.Seed.Round(time.Millisecond), float64(r.Recipients)/r.Seed.Seconds(), sent, r.Cores)
	for _, run := range r.Runs {
		fmt.Fprintf(&b, "%d nodes: campaign start wrote %d ledger rows in %s (%.0f rows/s, start process max RSS %s); one progress count %s; first message %s after the nodes started\n",
			run.Nodes, run.Ledger, run.Start.Round(time.Millisecond), float64(run.Ledger)/run.Start.Seconds(), mebibytes(run.StartRSS),
			run.Progress.Round(time.Millisecond), run.FirstMessage.Round(time.Millisecond))
	}
	fmt.Fprintf(&b, "%5s %9s %8s %10s %10s %9s %9s %6s %8s %8s %9s %9s\n", "nodes", "messages", "seconds", "msgs/s", "msgs/s/nd", "node CPU", "node RSS", "busy", "xact/msg", "stmt/msg", "upd/msg", "read/msg")
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
		fmt.Fprintf(&b, "%5d %9d %8.1f %10.0f %10.0f %8.1fs %9s %6s %8s %8s %9s %9s\n", run.Nodes, run.Messages, run.Elapsed.Seconds(), run.PerSecond,
			run.PerSecond/float64(run.Nodes), run.NodeCPU.Seconds(), mebibytes(run.NodeRSS), busy,
			per(run.DB.Transactions), per(run.DB.Statements), per(run.DB.RowsUpdated), per(run.DB.RowsRead))
	}
	return b.String()
}

func mebibytes(n uint64) string {
	if n == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0fMiB", float64(n)/(1<<20))
}

// ScaleBench writes opts.Recipients subscribers once, then for each node
// count in opts.Nodes starts a new campaign to all of them and sends it
// (or its first opts.Sample messages) with that many herald nodes on one
// PostgreSQL into one counting SMTP sink. It reports the start, the
// sending rate and the database work per message of each run.
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
	if opts.Sample >= opts.Recipients {
		opts.Sample = 0
	}
	rep := ScaleReport{Cores: runtime.NumCPU(), Recipients: opts.Recipients, Sample: opts.Sample}

	admin, err := sql.Open("pgx", opts.DatabaseURL)
	if err != nil {
		return rep, err
	}
	defer admin.Close()
	admin.SetMaxOpenConns(1)
	var b [6]byte
	rand.Read(b[:])
	schema := "herald_scale_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		return rep, fmt.Errorf("scale bench: create schema: %w", err)
	}
	defer func() { _, _ = admin.ExecContext(context.WithoutCancel(ctx), `DROP SCHEMA `+schema+` CASCADE`) }()
	u, err := url.Parse(opts.DatabaseURL)
	if err != nil {
		return rep, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	dbURL := u.String()

	s, err := store.Open(ctx, store.Options{DatabaseURL: dbURL})
	if err != nil {
		return rep, err
	}
	defer s.Close()
	started := time.Now()
	aud, err := seedCopy(ctx, s, dbURL, opts.Recipients)
	if err != nil {
		return rep, fmt.Errorf("scale bench: %w", err)
	}
	rep.Seed = time.Since(started)
	opts.logf("%d subscribers written in %s", opts.Recipients, rep.Seed.Round(time.Millisecond))
	for _, n := range opts.Nodes {
		run, err := scaleRun(ctx, opts, s, admin, schema, dbURL, aud, n)
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

// audience is what seedCopy wrote: the list every run's campaign goes to,
// and the edition it sends.
type audience struct{ list, edition int64 }

// seedCopy fills an empty store as Seed does, but writes the subscribers
// the way a large installation's would be loaded: one COPY into
// subscribers, one INSERT … SELECT of their confirmed subscriptions, then
// ANALYZE (as autovacuum would after such a load), so ten million take
// minutes instead of the hour that batches through the importer's merge
// took on a loaded machine. PostgreSQL only.
func seedCopy(ctx context.Context, s *store.Store, dbURL string, n int) (audience, error) {
	var aud audience
	l := &model.List{Slug: "scale", Name: "Scale"}
	if err := s.CreateList(ctx, l); err != nil {
		return aud, fmt.Errorf("seed: %w", err)
	}
	ed, err := sample.Edition()
	if err != nil {
		return aud, fmt.Errorf("seed: %w", err)
	}
	if err := s.CreateEdition(ctx, ed, ""); err != nil {
		return aud, fmt.Errorf("seed: %w", err)
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return aud, fmt.Errorf("seed: %w", err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }() // the seed is written or its error returned
	now := time.Now().UTC()
	i := 0
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"subscribers"}, []string{"email", "name", "created_at", "updated_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i >= n {
				return nil, nil
			}
			row := []any{Recipient(i), "Reader " + strconv.Itoa(i), now, now}
			i++
			return row, nil
		}))
	if err != nil {
		return aud, fmt.Errorf("seed: copy subscribers: %w", err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO subscriptions (list_id, subscriber_id, status, source, first_status, first_source, created_at, updated_at)
		SELECT $1, id, 'confirmed', 'import', 'confirmed', 'import', $2, $2 FROM subscribers`, l.ID, now); err != nil {
		return aud, fmt.Errorf("seed: subscriptions: %w", err)
	}
	if _, err := conn.Exec(ctx, `ANALYZE subscribers, subscriptions`); err != nil {
		return aud, fmt.Errorf("seed: analyze: %w", err)
	}
	return audience{list: l.ID, edition: ed.ID}, nil
}

func scaleRun(ctx context.Context, opts ScaleOptions, s *store.Store, admin *sql.DB, schema, dbURL string, aud audience, nodes int) (run ScaleRun, err error) {
	run.Nodes = nodes
	c := &model.Campaign{Name: fmt.Sprintf("Scale, %d nodes", nodes), EditionID: aud.edition, ListIDs: []int64{aud.list}, From: "The Ledger <news@example.com>"}
	if err := s.CreateCampaign(ctx, c); err != nil {
		return run, err
	}
	id := c.ID
	data, err := os.MkdirTemp("", "herald-scale-")
	if err != nil {
		return run, err
	}
	defer os.RemoveAll(data)
	// The sink is every reader here: an explicit (loopback) base_url, which
	// a relay send needs.
	env := []string{"HERALD_DATABASE_URL=" + dbURL, "HERALD_DATA=" + data, "HERALD_LOG_LEVEL=warn", "HERALD_BASE_URL=http://127.0.0.1:8080"}
	if opts.Workers > 0 {
		env = append(env, "HERALD_WORKERS="+strconv.Itoa(opts.Workers))
	}
	started := time.Now()
	starter, err := StartNode(opts.Herald, "campaign start", env, "campaign", "start", strconv.FormatInt(id, 10), "--no-check", "--yes") // each run sends the edition again
	if err != nil {
		return run, err
	}
	if err := starter.Wait(ctx); err != nil {
		return run, fmt.Errorf("campaign start: %w\n%s", err, starter.Output())
	}
	run.Start, run.StartRSS = time.Since(started), starter.MaxRSS()
	started = time.Now()
	p, err := s.CampaignProgress(ctx, id)
	if err != nil {
		return run, err
	}
	run.Progress, run.Ledger = time.Since(started), p.Total
	opts.logf("%d nodes: campaign %d started with %d recipients in %s", nodes, id, p.Total, run.Start.Round(time.Millisecond))

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

	// Watch the sink: when the first and the last message arrive; with a
	// sample, pause the campaign once it is reached.
	target := int64(p.Total)
	if opts.Sample > 0 {
		target = int64(opts.Sample)
	}
	var first, last time.Time
	var counted int64
	var paused error
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
				if n >= target {
					last, counted = now, n
					if opts.Sample > 0 {
						paused = s.SetCampaignStatus(context.WithoutCancel(ctx), id, model.CampaignPaused)
					}
					return
				}
			}
		}
	}()

	started = time.Now()
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
		err := nd.Wait(ctx)
		if err != nil && !(opts.Sample > 0 && strings.Contains(nd.Output(), "was paused")) {
			failed = errors.Join(failed, fmt.Errorf("%s: %w\n%s", nd.Name, err, nd.Output()))
		}
		run.NodeCPU += nd.CPU()
		run.NodeRSS = max(run.NodeRSS, nd.MaxRSS())
	}
	run.Wall = time.Since(started)
	stopWatch()
	watched.Wait()
	if failed != nil {
		return run, failed
	}
	if paused != nil {
		return run, fmt.Errorf("pause the campaign after the sample: %w", paused)
	}
	cpuAfter, cpuOK2 := machineCPU()
	run.Busy = -1
	if cpuOK && cpuOK2 && cpuAfter.total > cpuBefore.total {
		run.Busy = float64(cpuAfter.busy-cpuBefore.busy) / float64(cpuAfter.total-cpuBefore.total)
	}
	if last.IsZero() {
		last, counted = time.Now(), sink.Count()
	}
	if !first.IsZero() {
		run.FirstMessage = first.Sub(started)
	}
	run.Messages = counted
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
