package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/faults"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/message"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/token"
)

// runBenchSend measures the whole send path in one process: a temporary
// SQLite database with N synthetic subscribers, the sample edition rendered
// and personalised per recipient, MIME (and optionally DKIM) per message,
// pooled SMTP over loopback into an in-process sink that counts.
func runBenchSend(ctx context.Context, e *env, args []string) error {
	fs := e.flags("bench send", "--recipients N [--dkim rsa|ed25519] [--workers N] [--relay-rtt DURATION] [--whole]")
	n := fs.Int("recipients", 100_000, "synthetic subscribers to send to")
	dkimAlg := fs.String("dkim", "", "sign every message with a fresh DKIM key: rsa or ed25519")
	workers := fs.Int("workers", 16, "concurrent SMTP transactions (and pooled connections)")
	pg := fs.String("postgres", "", "use a fresh schema on this PostgreSQL server instead of a temporary SQLite file")
	rtt := fs.Duration("relay-rtt", 0, "network round-trip time between Herald and the relay, e.g. 30ms (the sink delays every reply by it)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the send to this file")
	whole := fs.Bool("whole", false, "build every message whole, as before messages were spliced from parts encoded once per campaign (to compare the two)")
	sync := fs.String("sqlite-synchronous", "normal", "SQLite's synchronous setting for the ledger: normal or full")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	if *n <= 0 || *workers <= 0 {
		return usageErrorf("--recipients and --workers must be positive")
	}
	if *rtt < 0 || *rtt > time.Minute {
		return usageErrorf("--relay-rtt %s: want a duration from 0 to 1m, such as 30ms", *rtt)
	}
	dir, err := os.MkdirTemp("", "herald-bench-send-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	s, dbName, closeDB, err := benchStore(ctx, dir, *pg, *sync)
	if err != nil {
		return err
	}
	defer closeDB()

	// The audience, written the fast way (not measured).
	started := time.Now()
	l := &model.List{Slug: "bench", Name: "Benchmark"}
	if err := s.CreateList(ctx, l); err != nil {
		return err
	}
	batch := make([]store.ImportRow, 0, 5000)
	for i := 0; i < *n; i++ {
		batch = append(batch, store.ImportRow{Line: i + 2, Email: fmt.Sprintf("reader%07d@bench.example", i), Name: fmt.Sprintf("Reader %d", i)})
		if len(batch) == cap(batch) || i == *n-1 {
			if _, err := s.ImportBatch(ctx, batch, store.ImportOptions{ListID: l.ID, Status: model.SubConfirmed, Mode: store.ImportSkipExisting}); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	ed, err := sample.Edition()
	if err != nil {
		return err
	}
	if err := s.CreateEdition(ctx, ed, ""); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "prepared %d subscribers in %s (%s)\n", *n, time.Since(started).Round(time.Millisecond), dbName)

	// The sink's goroutines carry the profile label part=sink, so a
	// --cpuprofile tells Herald's CPU from the sink's:
	// go tool pprof -tagignore part=sink -top herald cpu.prof
	var sink *smtpsink.Sink
	pprof.Do(ctx, pprof.Labels("part", "sink"), func(context.Context) {
		sink, err = smtpsink.Start(smtpsink.Options{CountOnly: true, Faults: smtpsink.Faults{RTT: *rtt}})
	})
	if err != nil {
		return err
	}
	defer sink.Close()
	rc, err := mailer.ParseRelay(sink.URL())
	if err != nil {
		return err
	}
	rc.MaxConns = *workers
	m, err := mailer.New(mailer.Config{Relays: []mailer.RelayConfig{rc}})
	if err != nil {
		return err
	}
	defer m.Close()
	var dkim *message.DKIM
	if *dkimAlg != "" {
		pemKey, err := message.GenerateKey(*dkimAlg)
		if err != nil {
			return usageErrorf("--dkim: %v", err)
		}
		key, err := message.ParseKey(pemKey)
		if err != nil {
			return err
		}
		dkim = &message.DKIM{Domain: "bench.example", Selector: "herald", Key: key}
	}
	sig, err := token.NewSigner(bytes.Repeat([]byte("bench-key-"), 4))
	if err != nil {
		return err
	}
	r, err := render.New(sample.Publication(), render.Options{})
	if err != nil {
		return err
	}
	eng, err := delivery.New(s, delivery.Config{
		Sender:  m,
		Signer:  sig,
		BaseURL: "https://news.bench.example",
		Freeze: func(ctx context.Context, c *model.Campaign) (model.Frozen, error) {
			em, err := r.Email(ed)
			if err != nil {
				return model.Frozen{}, err
			}
			return em.Freeze(), nil
		},
		Workers:       *workers,
		ClaimBatch:    200,
		FlushEvery:    500,
		DKIM:          dkim,
		WholeMessages: *whole,
		Log:           e.log,
	})
	if err != nil {
		return err
	}
	c := &model.Campaign{Name: "bench", EditionID: ed.ID, ListIDs: []int64{l.ID}, From: "Bench <news@bench.example>"}
	if err := s.CreateCampaign(ctx, c); err != nil {
		return err
	}

	stopProfile, err := startCPUProfile(*cpuprofile)
	if err != nil {
		return err
	}
	defer stopProfile()
	runtime.GC()
	mem := startMemorySampler(20 * time.Millisecond)
	started = time.Now()
	total, err := eng.Start(ctx, c.ID)
	if err != nil {
		return err
	}
	ledgerTime := time.Since(started)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	sendStart, cpuStart := time.Now(), cpuTime()
	go func() { done <- eng.Run(runCtx) }()
	for {
		cur, err := s.Campaign(ctx, c.ID)
		if err != nil {
			stop()
			return err
		}
		if cur.Status == model.CampaignSent {
			break
		}
		select {
		case <-ctx.Done():
			stop()
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				return fmt.Errorf("delivery stopped: %w", err)
			}
			return ctx.Err()
		case err := <-done:
			stop()
			return fmt.Errorf("delivery stopped: %w", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	sendTime, sendCPU := time.Since(sendStart), cpuTime()-cpuStart
	stop()
	if err := <-done; err != nil {
		return err
	}
	heap, all := mem.stop()
	p, err := s.CampaignProgress(ctx, c.ID)
	if err != nil {
		return err
	}
	if p.Sent != total || sink.Count() != total {
		return fmt.Errorf("benchmark lost mail: ledger sent %d, sink received %d, of %d", p.Sent, sink.Count(), total)
	}
	signed := "no DKIM"
	if dkim != nil {
		signed = "DKIM " + *dkimAlg
	}
	if *whole {
		signed += ", built whole"
	}
	fmt.Fprintf(e.stdout, "ledger: %d rows written in %s (%.0f rows/s)\n", total, ledgerTime.Round(time.Millisecond), float64(total)/ledgerTime.Seconds())
	fmt.Fprintf(e.stdout, "sent %d messages (%s, avg %.1f KB, %d workers, %d SMTP connections) in %s: %.0f messages/s\n",
		total, signed, float64(sink.Bytes())/float64(total)/1000, *workers, sink.Connections(), sendTime.Round(time.Millisecond), float64(total)/sendTime.Seconds())
	fmt.Fprintf(e.stdout, "ledger row changes during the send (claim + outcome): %.0f/s\n", 2*float64(total)/sendTime.Seconds())
	if sendCPU > 0 {
		// Apart from the machine's other work, so runs on a busy machine
		// stay comparable: the CPU one message costs, sink included.
		fmt.Fprintf(e.stdout, "CPU during the send: %.0f µs a message (user + system, this process, sink included); %d cores would allow %.0f messages/s\n",
			float64(sendCPU.Microseconds())/float64(total), runtime.NumCPU(), float64(runtime.NumCPU())*float64(total)/sendCPU.Seconds())
	}
	if *rtt > 0 {
		// The sink offers PIPELINING and CHUNKING: MAIL, RCPT, BDAT and
		// the message go out together, so a message costs one round trip.
		perConn := 1 / rtt.Seconds()
		fmt.Fprintf(e.stdout, "relay at %s round trip: at most %d connections open at once; 1 round trip a message (pipelined, chunked) makes %.1f messages/s a connection, %.0f messages/s for %d\n",
			*rtt, sink.PeakConnections(), perConn, perConn*float64(*workers), *workers)
	}
	fmt.Fprintf(e.stdout, "peak memory: Go heap %s, Go runtime total %s, process max RSS %s\n", mib(heap), mib(all), maxRSS())
	return nil
}

// runBenchScale writes an audience once, then starts and sends a campaign
// to it with 1, 2 and 3 herald processes on one PostgreSQL database into
// one sink (or only its first --sample messages), and reports the start,
// the rate and the database's cost per message.
func runBenchScale(ctx context.Context, e *env, args []string) error {
	fs := e.flags("bench scale", "--postgres URL [--recipients N] [--nodes 1,2,3] [--sample N]")
	pg := fs.String("postgres", "", "PostgreSQL server; the benchmark uses a fresh schema, dropped afterwards (required)")
	n := fs.Int("recipients", 20_000, "subscribers, written once with COPY; each run starts a campaign to all of them")
	nodes := fs.String("nodes", "1,2,3", "node counts to measure, comma-separated")
	sampleN := fs.Int("sample", 0, "end each run after this many messages by pausing its campaign (0: send every message)")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	if *pg == "" {
		return usageErrorf("--postgres is required: several nodes need a shared PostgreSQL database")
	}
	if *n <= 0 || *sampleN < 0 {
		return usageErrorf("--recipients must be positive and --sample not negative")
	}
	var counts []int
	for _, f := range strings.Split(*nodes, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || k < 1 || k > 8 {
			return usageErrorf("--nodes %q: node counts are whole numbers from 1 to 8", *nodes)
		}
		counts = append(counts, k)
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	report, err := faults.ScaleBench(ctx, faults.ScaleOptions{DatabaseURL: *pg, Herald: faults.Executable(exe),
		Nodes: counts, Recipients: *n, Sample: *sampleN, Log: e.stderr})
	if err != nil {
		if len(report.Runs) > 0 {
			// The runs that finished (at ten million, each took half an hour).
			fmt.Fprint(e.stdout, report.String())
		}
		return err
	}
	fmt.Fprint(e.stdout, report.String())
	return nil
}
