package admin

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/herald-news/herald/internal/importer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

// maxRejectBytes bounds the rejects file kept per import.
const maxRejectBytes = 8 << 20

// An import's node writes its progress every importHeartbeat; an import
// not heard of for importStale lost its node, and a node holding its
// upload takes it over. Without the upload anywhere, it is failed after
// importAbandon.
const (
	importHeartbeat = 500 * time.Millisecond
	importStale     = time.Minute
	importAbandon   = 15 * time.Minute
)

// importState is an import's progress as the pages show it.
type importState struct {
	ID         int64  `json:"id"`
	File       string `json:"file"`
	List       string `json:"list"`
	Percent    int64  `json:"percent"`
	Rows       int    `json:"rows"`
	Imported   int    `json:"imported"`
	Updated    int    `json:"updated"`
	Skipped    int    `json:"skipped"`
	Suppressed int    `json:"suppressed"`
	Rejected   int    `json:"rejected"`
	Done       bool   `json:"done"`
	Failed     string `json:"failed,omitempty"`
	Note       string `json:"note,omitempty"`
	Started    time.Time
}

func stateOf(j *store.ImportJob) importState {
	c := j.Counts
	s := importState{ID: j.ID, File: j.File, List: j.ListName, Rows: c.Imported + c.Updated + c.Skipped + c.Suppressed,
		Imported: c.Imported, Updated: c.Updated, Skipped: c.Skipped, Suppressed: c.Suppressed, Rejected: c.Rejected,
		Done: j.State != store.ImportRunning, Started: j.Started}
	if j.Size > 0 {
		s.Percent = min(100, 100*c.Read/j.Size)
	}
	switch j.State {
	case store.ImportDone:
		s.Percent, s.Rows, s.Note = 100, c.Rows, j.Message
	case store.ImportFailed:
		s.Percent, s.Rows, s.Failed = 100, c.Rows, j.Message
	default:
		s.Note = j.Message
	}
	return s
}

// imports runs CSV imports in the background. Each import is a row in the
// store that its goroutine keeps up to date, so any node shows it; the
// upload stays in the data folder until the import ends, so an import cut
// short by a restart starts again from its file (rows are upserted, so a
// second pass changes nothing the first one did).
type imports struct {
	st     *store.Store
	tmp    string
	log    *slog.Logger
	obs    importer.Observer
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	started time.Time // imports heard of before this are orphans on SQLite

	mu      sync.Mutex
	running map[int64]bool // imports this node runs
}

func newImports(st *store.Store, tmp string, log *slog.Logger, obs importer.Observer) *imports {
	ctx, cancel := context.WithCancel(context.Background())
	im := &imports{st: st, tmp: tmp, log: log, obs: obs, ctx: ctx, cancel: cancel, started: time.Now(), running: map[int64]bool{}}
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

// close stops running imports, which stay running in the store (with
// their uploads kept) for the next start to finish.
func (im *imports) close() {
	im.cancel()
	im.wg.Wait()
}

// adopt takes over running imports whose node went silent and whose upload
// is here. At start on SQLite, every running import is such an orphan: one
// process owns the database.
func (im *imports) adopt(starting bool) {
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
func (im *imports) removeStrayUploads(running []*store.ImportJob) {
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

// start keeps the upload in the data folder, records the import and runs
// it in the background.
func (im *imports) start(ctx context.Context, src io.Reader, name string, list *model.List, opt importer.Options) (int64, error) {
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

func (im *imports) launch(j *store.ImportJob) {
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

// run imports j's upload, writing its progress every importHeartbeat and
// its outcome at the end. Stopped by close, it leaves the import running
// in the store with its upload, for the next start.
func (im *imports) run(j *store.ImportJob) {
	p := &progress{}
	p.rw = csv.NewWriter(&p.rejects)
	opt := importer.Options{ListID: j.ListID, Mode: j.Mode, Status: j.SubStatus, Observer: im.obs,
		OnRead: func(n int64) {
			p.mu.Lock()
			p.counts.Read += n
			p.mu.Unlock()
		},
		OnBatch: func(r importer.Result) {
			p.mu.Lock()
			p.counts.Imported, p.counts.Updated, p.counts.Skipped, p.counts.Suppressed = r.Imported, r.Updated, r.Skipped, r.Suppressed
			p.mu.Unlock()
		},
		OnHeader: func(h []string) error {
			p.mu.Lock()
			defer p.mu.Unlock()
			return p.rw.Write(append([]string{"line", "reason"}, h...))
		},
		OnReject: func(rj importer.Reject) error {
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
		tick := time.NewTicker(importHeartbeat)
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
	res, err := importer.Import(im.ctx, f, im.st, opt)
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
	case errors.Is(err, importer.ErrBadHeader) || errors.Is(err, importer.ErrNoEmailColumn):
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

func (a *Admin) importsPage(w http.ResponseWriter, r *http.Request) error {
	lists, err := a.d.Store.Lists(r.Context())
	if err != nil {
		return err
	}
	jobs, err := a.d.Store.ImportJobs(r.Context(), 50, false)
	if err != nil {
		return err
	}
	var states []importState
	for _, j := range jobs {
		states = append(states, stateOf(j))
	}
	a.page(w, r, http.StatusOK, "imports", "Import subscribers", "imports", map[string]any{"Lists": lists, "Jobs": states,
		"Selected": intParam(r, "list", 0)})
	return nil
}

func (a *Admin) importStart(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		return badRequest("Choose a CSV file to upload.")
	}
	listID, _ := strconv.ParseInt(r.FormValue("list"), 10, 64)
	list, err := a.d.Store.ListByID(r.Context(), listID)
	if err != nil {
		return a.redirect(w, r, "/admin/imports", "Choose the list to import into.", true)
	}
	file, fh, err := r.FormFile("file")
	if err != nil {
		return a.redirect(w, r, "/admin/imports", "Choose a CSV file to upload.", true)
	}
	defer file.Close()
	opt := importer.Options{Mode: store.ImportUpsert}
	if r.FormValue("mode") == string(store.ImportSkipExisting) {
		opt.Mode = store.ImportSkipExisting
	}
	switch model.SubscriptionStatus(r.FormValue("status")) {
	case model.SubConfirmed:
		opt.Status = model.SubConfirmed
	case model.SubUnconfirmed:
		opt.Status = model.SubUnconfirmed
	}
	id, err := a.imports.start(r.Context(), file, fh.Filename, list, opt)
	if err != nil {
		return err
	}
	return a.redirect(w, r, fmt.Sprintf("/admin/imports/%d", id), "", false)
}

func (a *Admin) job(r *http.Request) (*store.ImportJob, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return a.d.Store.GetImportJob(r.Context(), id)
}

func (a *Admin) importPage(w http.ResponseWriter, r *http.Request) error {
	j, err := a.job(r)
	if err != nil {
		return err
	}
	a.page(w, r, http.StatusOK, "import", "Import "+j.File, "imports", stateOf(j))
	return nil
}

// importEvents streams an import's progress, read from the store, so any
// node can serve it.
func (a *Admin) importEvents(w http.ResponseWriter, r *http.Request) error {
	j, err := a.job(r)
	if err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	tick := time.NewTicker(importHeartbeat)
	defer tick.Stop()
	for {
		s := stateOf(j)
		b, _ := json.Marshal(s)
		if _, err := fmt.Fprintf(w, "event: progress\ndata: %s\n\n", b); err != nil {
			return nil
		}
		if err := rc.Flush(); err != nil || s.Done {
			return nil
		}
		select {
		case <-r.Context().Done():
			return nil
		case <-tick.C:
		}
		if j, err = a.d.Store.GetImportJob(r.Context(), j.ID); err != nil {
			return nil // the client sees the stream end and reloads
		}
	}
}

func (a *Admin) importRejects(w http.ResponseWriter, r *http.Request) error {
	j, err := a.job(r)
	if err != nil {
		return err
	}
	if j.State == store.ImportRunning {
		return &userError{status: http.StatusConflict, msg: "The rejected rows can be downloaded once the import has finished."}
	}
	data, err := a.d.Store.ImportRejects(r.Context(), j.ID)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="rejected-%d.csv"`, j.ID))
	_, err = w.Write(data)
	return err
}
