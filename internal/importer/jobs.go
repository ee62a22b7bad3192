package importer

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

// maxRejectBytes bounds the rejects file kept per import.
const maxRejectBytes = 8 << 20

// An import's node writes its progress every Heartbeat; an import not
// heard of for importStale lost its node, and a node holding its upload
// takes it over. Without the upload anywhere, it is failed after
// importAbandon.
const (
	Heartbeat     = 500 * time.Millisecond
	importStale   = time.Minute
	importAbandon = 15 * time.Minute
)

// Runner runs CSV imports in the background. Each import is a row in the
// store that its goroutine keeps up to date, so any node shows it; the
// upload stays in the data folder until the import ends, so an import cut
// short by a restart starts again from its file (rows are upserted, so a
// second pass changes nothing the first one did). A Runner also takes over
// the imports other nodes (or this one, before a restart) left running,
// when it holds their uploads.
type Runner struct {
	st     *store.Store
	tmp    string
	log    *slog.Logger
	obs    Observer
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	started time.Time // imports heard of before this are orphans on SQLite

	mu      sync.Mutex
	running map[int64]bool // imports this node runs
}

// NewRunner starts a Runner that keeps uploads in dir and reports to obs
// (nil: nobody); it looks for imports to take over at once, then every
// half minute. Close stops it.
func NewRunner(st *store.Store, dir string, log *slog.Logger, obs Observer) *Runner {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	im := &Runner{st: st, tmp: dir, log: log, obs: obs, ctx: ctx, cancel: cancel, started: time.Now(), running: map[int64]bool{}}
	im.wg.Add(1)
	go func() {
		defer im.wg.Done()
		im.adopt(true)
		tick := time.NewTicker(importStale / 2)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				im.adopt(false)
			}
		}
	}()
	return im
}

// Close stops running imports, which stay running in the store (with
// their uploads kept) for the next start to finish.
func (im *Runner) Close() {
	im.cancel()
	im.wg.Wait()
}

// adopt takes over running imports whose node went silent and whose upload
// is here. At start on SQLite, every running import is such an orphan: one
// process owns the database.
func (im *Runner) adopt(starting bool) {
	jobs, err := im.st.ImportJobs(im.ctx, 100, true)
	if err != nil {
		if im.ctx.Err() == nil {
			im.log.Error("look for interrupted imports", "err", err)
		}
		return
	}
	now := time.Now()
	stale := now.Add(-importStale)
	if starting && im.st.SingleProcess() {
		// Not now: an upload taken since this process started is ours.
		stale = im.started
	}
	if starting {
		im.removeStrayUploads(jobs)
	}
	for _, j := range jobs {
		im.mu.Lock()
		mine := im.running[j.ID]
		im.mu.Unlock()
		if mine || !j.Heartbeat.Before(stale) {
			continue
		}
		if _, err := os.Stat(j.Upload); err != nil {
			if j.Heartbeat.Before(now.Add(-importAbandon)) || im.st.SingleProcess() {
				msg := "Herald stopped during this import and its uploaded file is gone. Rows already imported stay; upload the file again to finish (addresses already in are updated, not added twice)."
				if err := im.st.FinishImportJob(im.ctx, j.ID, store.ImportFailed, j.Counts, msg, nil, false); err != nil {
					im.log.Error("fail an abandoned import", "import", j.ID, "err", err)
				}
			}
			continue
		}
		j.Message = "Herald restarted during this import, so it started again from the top of the file: rows already imported were updated, not added twice."
		ok, err := im.st.TakeOverImport(im.ctx, j.ID, stale, j.Message)
		if err != nil || !ok {
			continue
		}
		im.log.Info("resuming an interrupted import", "import", j.ID, "file", j.File)
		im.launch(j)
	}
}

// removeStrayUploads deletes uploads in the data folder that no running
// import needs (their import was failed by another node meanwhile), once
// they are older than importStale: a younger one may be an upload still
// being recorded.
func (im *Runner) removeStrayUploads(running []*store.ImportJob) {
	needed := map[string]bool{}
	for _, j := range running {
		needed[j.Upload] = true
	}
	files, _ := filepath.Glob(filepath.Join(im.tmp, "herald-import-*.csv"))
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && !needed[f] && time.Since(fi.ModTime()) > importStale {
			os.Remove(f)
		}
	}
}

// Start keeps the upload src (a file called name) in the data folder,
// records its import into list with opt's mode and status, and runs it in
// the background. It returns the import's ID (store.GetImportJob).
func (im *Runner) Start(ctx context.Context, src io.Reader, name string, list *model.List, opt Options) (int64, error) {
	f, err := os.CreateTemp(im.tmp, "herald-import-*.csv")
	if err != nil {
		return 0, fmt.Errorf("keep the upload: %w", err)
	}
	size, err := io.Copy(f, src)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return 0, fmt.Errorf("keep the upload: %w", err)
	}
	j := &store.ImportJob{File: name, ListID: list.ID, ListName: list.Name, Mode: opt.Mode, SubStatus: opt.Status, Upload: f.Name(), Size: size}
	if err := im.st.CreateImportJob(ctx, j); err != nil {
		os.Remove(f.Name())
		return 0, err
	}
	im.launch(j)
	return j.ID, nil
}

func (im *Runner) launch(j *store.ImportJob) {
	im.mu.Lock()
	im.running[j.ID] = true
	im.mu.Unlock()
	im.wg.Add(1)
	go func() {
		defer im.wg.Done()
		im.run(j)
		im.mu.Lock()
		delete(im.running, j.ID)
		im.mu.Unlock()
	}()
}

// progress is a running import's counts and rejected rows as they grow.
type progress struct {
	mu      sync.Mutex
	counts  store.ImportCounts
	rejects bytes.Buffer
	rw      *csv.Writer
	cut     bool // the rejects were cut at maxRejectBytes
}

func (p *progress) snapshot() store.ImportCounts {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts
}

// run imports j's upload, writing its progress every Heartbeat and
// its outcome at the end. Stopped by close, it leaves the import running
// in the store with its upload, for the next start.
func (im *Runner) run(j *store.ImportJob) {
	p := &progress{}
	p.rw = csv.NewWriter(&p.rejects)
	opt := Options{ListID: j.ListID, Mode: j.Mode, Status: j.SubStatus, Observer: im.obs,
		OnRead: func(n int64) {
			p.mu.Lock()
			p.counts.Read += n
			p.mu.Unlock()
		},
		OnBatch: func(r Result) {
			p.mu.Lock()
			p.counts.Imported, p.counts.Updated, p.counts.Skipped, p.counts.Suppressed = r.Imported, r.Updated, r.Skipped, r.Suppressed
			p.mu.Unlock()
		},
		OnHeader: func(h []string) error {
			p.mu.Lock()
			defer p.mu.Unlock()
			return p.rw.Write(append([]string{"line", "reason"}, h...))
		},
		OnReject: func(rj Reject) error {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.counts.Rejected++
			if p.rejects.Len() > maxRejectBytes {
				p.cut = true
				return nil
			}
			err := p.rw.Write(append([]string{strconv.Itoa(rj.Line), rj.Reason}, rj.Fields...))
			p.rw.Flush()
			return err
		},
	}
	// A fresh context for the bookkeeping: it must be written at shutdown too.
	save := func(fn func(ctx context.Context) error) bool {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := fn(ctx); err != nil {
			im.log.Error("record import progress", "import", j.ID, "err", err)
			return false
		}
		return true
	}
	f, err := os.Open(j.Upload)
	if err != nil {
		im.log.Error("reopen an import's upload", "import", j.ID, "err", err)
		save(func(ctx context.Context) error {
			return im.st.FinishImportJob(ctx, j.ID, store.ImportFailed, j.Counts, "The uploaded file could not be read again. Upload it once more to import it.", nil, false)
		})
		return
	}
	defer f.Close()

	stop, beat := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(beat)
		tick := time.NewTicker(Heartbeat)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				save(func(ctx context.Context) error { return im.st.SaveImportProgress(ctx, j.ID, p.snapshot()) })
			}
		}
	}()
	res, err := Import(im.ctx, f, im.st, opt)
	close(stop)
	<-beat
	if im.ctx.Err() != nil {
		// Shutting down: the import stays running for the next start.
		save(func(ctx context.Context) error { return im.st.SaveImportProgress(ctx, j.ID, p.snapshot()) })
		return
	}
	p.mu.Lock()
	p.rw.Flush()
	c := p.counts
	c.Rows, c.Imported, c.Updated, c.Skipped, c.Suppressed, c.Rejected = res.Rows, res.Imported, res.Updated, res.Skipped, res.Suppressed, res.Rejected
	rejects, cut := bytes.Clone(p.rejects.Bytes()), p.cut
	p.mu.Unlock()
	state, msg := store.ImportDone, j.Message
	switch {
	case errors.Is(err, ErrBadHeader) || errors.Is(err, ErrNoEmailColumn):
		// The importer's words are written for people and hold no secret.
		state, msg = store.ImportFailed, "Nothing was imported: "+err.Error()+"."
	case err != nil:
		im.log.Error("import failed", "import", j.ID, "file", j.File, "err", err)
		state, msg = store.ImportFailed, "The import stopped before the end of the file: the file could not be read or the database refused a batch. Rows already imported stay."
	}
	if save(func(ctx context.Context) error { return im.st.FinishImportJob(ctx, j.ID, state, c, msg, rejects, cut) }) {
		os.Remove(j.Upload)
	} // else the import stays running with its upload, and is taken over and done again
}
