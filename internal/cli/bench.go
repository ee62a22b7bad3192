package cli

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"sync"
	"time"

	"github.com/herald-news/herald/internal/importer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/progress"
	"github.com/herald-news/herald/internal/store"
)

func runBenchImport(ctx context.Context, e *env, args []string) error {
	fs := e.flags("bench import", "--rows N [--postgres URL] [--cpuprofile FILE]")
	rows := fs.Int("rows", 100_000, "rows in the generated CSV")
	pg := fs.String("postgres", "", "import into a fresh schema on this PostgreSQL server instead of a temporary SQLite file")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the import to this file")
	sync := fs.String("sqlite-synchronous", "normal", "SQLite's synchronous setting: normal or full")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	if *rows <= 0 {
		return usageErrorf("--rows must be positive")
	}
	dir, err := os.MkdirTemp("", "herald-bench-")
	if err != nil {
		return fmt.Errorf("make a temporary folder: %w", err)
	}
	defer os.RemoveAll(dir)

	started := time.Now()
	csvPath := filepath.Join(dir, "subscribers.csv")
	size, err := writeBenchCSV(csvPath, *rows)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "generated %d rows (%s) in %s\n", *rows, progress.FormatBytes(size), time.Since(started).Round(time.Millisecond))

	s, dbName, closeDB, err := benchStore(ctx, dir, *pg, *sync)
	if err != nil {
		return err
	}
	defer closeDB()
	l := &model.List{Slug: "bench", Name: "Benchmark", OptIn: model.OptInSingle}
	if err := s.CreateList(ctx, l); err != nil {
		return err
	}
	f, err := os.Open(csvPath)
	if err != nil {
		return fmt.Errorf("open the generated file: %w", err)
	}
	defer f.Close()

	stopProfile, err := startCPUProfile(*cpuprofile)
	if err != nil {
		return err
	}
	defer stopProfile()

	runtime.GC()
	mem := startMemorySampler(20 * time.Millisecond)
	started = time.Now()
	res, err := importer.Import(ctx, f, s, importer.Options{ListID: l.ID})
	elapsed := time.Since(started)
	heap, total := mem.stop()
	if err != nil {
		return fmt.Errorf("benchmark import: %w", err)
	}
	fmt.Fprintf(e.stdout, "imported into %s: %s\n", dbName, res)
	fmt.Fprintf(e.stdout, "%d rows in %s: %.0f rows/s\n", res.Rows, elapsed.Round(time.Millisecond), float64(res.Rows)/elapsed.Seconds())
	fmt.Fprintf(e.stdout, "peak memory: Go heap %s, Go runtime total %s, process max RSS %s\n",
		mib(heap), mib(total), maxRSS())
	return nil
}

// writeBenchCSV writes n synthetic subscribers, with names, a few
// attribute columns and a quoted field, and returns the file's size.
func writeBenchCSV(path string, n int) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, fmt.Errorf("create the benchmark file: %w", err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 256<<10)
	w.WriteString("email,name,plan,city,signup_source\n")
	plans := []string{"free", "paid", "founding"}
	cities := []string{"York", "Leeds", "\"Newcastle, upon Tyne\"", "Bath", "Århus"}
	var line []byte
	for i := 0; i < n; i++ {
		line = append(line[:0], "reader"...)
		line = strconv.AppendInt(line, int64(i), 10)
		line = append(line, "@example"...)
		line = strconv.AppendInt(line, int64(i%1000), 10)
		line = append(line, ".com,Reader "...)
		line = strconv.AppendInt(line, int64(i), 10)
		line = append(line, ',')
		line = append(line, plans[i%len(plans)]...)
		line = append(line, ',')
		line = append(line, cities[i%len(cities)]...)
		line = append(line, ",bench\n"...)
		w.Write(line)
	}
	if err := w.Flush(); err != nil {
		return 0, fmt.Errorf("write the benchmark file: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("write the benchmark file: %w", err)
	}
	return fi.Size(), f.Close()
}

// freshPostgresSchema creates an empty schema on the server and returns a
// URL that uses it, and a function that drops it.
func freshPostgresSchema(ctx context.Context, base string) (string, func(), error) {
	var b [6]byte
	rand.Read(b[:])
	schema := "herald_bench_" + hex.EncodeToString(b[:])
	db, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("create a schema for the benchmark: %w", err)
	}
	drop := func() {
		_, _ = db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`) // a bench's leftovers; it reports its figures anyway
		db.Close()
	}
	u, err := url.Parse(base)
	if err != nil {
		drop()
		return "", nil, fmt.Errorf("parse the PostgreSQL URL: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}

// memorySampler records the peak of the Go heap and of all memory the Go
// runtime holds from the system, sampled on a ticker.
type memorySampler struct {
	done        chan struct{}
	wg          sync.WaitGroup
	heap, total uint64
}

func startMemorySampler(every time.Duration) *memorySampler {
	m := &memorySampler{done: make(chan struct{})}
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/total:bytes"},
	}
	read := func() {
		metrics.Read(samples)
		m.heap = max(m.heap, samples[0].Value.Uint64())
		m.total = max(m.total, samples[1].Value.Uint64())
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			read()
			select {
			case <-m.done:
				read()
				return
			case <-t.C:
			}
		}
	}()
	return m
}

// stop ends sampling and returns the peaks in bytes.
func (m *memorySampler) stop() (heap, total uint64) {
	close(m.done)
	m.wg.Wait()
	return m.heap, m.total
}

func mib(n uint64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// startCPUProfile writes a CPU profile to path until the returned function
// is called; with an empty path it does nothing.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create the CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("start the CPU profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// benchStore opens a throwaway database for a benchmark: SQLite in dir, or
// with pg a fresh schema on that PostgreSQL server, dropped by closeDB.
func benchStore(ctx context.Context, dir, pg, sync string) (s *store.Store, name string, closeDB func(), err error) {
	opts := store.Options{SQLitePath: filepath.Join(dir, "herald.db"), Synchronous: sync}
	name, drop := "SQLite "+opts.SQLitePath+" (synchronous "+sync+")", func() {}
	if pg != "" {
		u, dropSchema, err := freshPostgresSchema(ctx, pg)
		if err != nil {
			return nil, "", nil, err
		}
		opts, name, drop = store.Options{DatabaseURL: u}, "PostgreSQL "+store.RedactURL(u), dropSchema
	}
	if s, err = store.Open(ctx, opts); err != nil {
		drop()
		return nil, "", nil, err
	}
	return s, name, func() { s.Close(); drop() }, nil
}
