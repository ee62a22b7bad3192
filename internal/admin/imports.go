package admin

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/herald-news/herald/internal/importer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

// maxRejectBytes bounds the rejects file kept per import.
const maxRejectBytes = 8 << 20

// importJob is one CSV import running in the background.
type importJob struct {
	ID       int64
	File     string
	ListName string
	Size     int64
	Started  time.Time

	mu       sync.Mutex
	read     int64
	result   importer.Result
	finished bool
	failed   string
	rejects  bytes.Buffer
	rw       *csv.Writer
	cut      bool // the rejects file was cut at maxRejectBytes
}

// importState is a job's progress at one moment.
type importState struct {
	ID       int64  `json:"id"`
	File     string `json:"file"`
	List     string `json:"list"`
	Percent  int64  `json:"percent"`
	Rows     int    `json:"rows"`
	Imported int    `json:"imported"`
	Updated  int    `json:"updated"`
	Skipped  int    `json:"skipped"`
	Rejected int    `json:"rejected"`
	Done     bool   `json:"done"`
	Failed   string `json:"failed,omitempty"`
	Started  time.Time
}

func (j *importJob) state() importState {
	j.mu.Lock()
	defer j.mu.Unlock()
	s := importState{ID: j.ID, File: j.File, List: j.ListName, Rows: j.result.Imported + j.result.Updated + j.result.Skipped,
		Imported: j.result.Imported, Updated: j.result.Updated, Skipped: j.result.Skipped, Rejected: j.result.Rejected,
		Done: j.finished, Failed: j.failed, Started: j.Started}
	if j.Size > 0 {
		s.Percent = min(100, 100*j.read/j.Size)
	}
	if j.finished {
		s.Percent = 100
		s.Rows = j.result.Rows
	}
	return s
}

// imports owns the background import goroutines.
type imports struct {
	st     *store.Store
	tmp    string
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu   sync.Mutex
	next int64
	jobs map[int64]*importJob
}

func newImports(st *store.Store, tmp string, log *slog.Logger) *imports {
	ctx, cancel := context.WithCancel(context.Background())
	return &imports{st: st, tmp: tmp, log: log, ctx: ctx, cancel: cancel, jobs: map[int64]*importJob{}}
}

func (im *imports) close() {
	im.cancel()
	im.wg.Wait()
}

func (im *imports) get(id int64) *importJob {
	im.mu.Lock()
	defer im.mu.Unlock()
	return im.jobs[id]
}

func (im *imports) list() []*importJob {
	im.mu.Lock()
	defer im.mu.Unlock()
	out := make([]*importJob, 0, len(im.jobs))
	for _, j := range im.jobs {
		out = append(out, j)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ID > out[b].ID })
	return out
}

// start copies the upload to a temporary file and imports it in the
// background.
func (im *imports) start(src io.Reader, name string, list *model.List, opt importer.Options) (*importJob, error) {
	f, err := os.CreateTemp(im.tmp, "herald-import-*.csv")
	if err != nil {
		return nil, fmt.Errorf("keep the upload: %w", err)
	}
	size, err := io.Copy(f, src)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("keep the upload: %w", err)
	}
	im.mu.Lock()
	im.next++
	j := &importJob{ID: im.next, File: name, ListName: list.Name, Size: size, Started: time.Now()}
	im.jobs[j.ID] = j
	im.mu.Unlock()
	j.rw = csv.NewWriter(&j.rejects)

	opt.ListID = list.ID
	opt.OnRead = func(n int64) {
		j.mu.Lock()
		j.read += n
		j.mu.Unlock()
	}
	opt.OnBatch = func(r importer.Result) {
		j.mu.Lock()
		j.result.Imported, j.result.Updated, j.result.Skipped = r.Imported, r.Updated, r.Skipped
		j.mu.Unlock()
	}
	opt.OnHeader = func(h []string) error {
		j.mu.Lock()
		defer j.mu.Unlock()
		return j.rw.Write(append([]string{"line", "reason"}, h...))
	}
	opt.OnReject = func(rj importer.Reject) error {
		j.mu.Lock()
		defer j.mu.Unlock()
		j.result.Rejected++
		if j.rejects.Len() > maxRejectBytes {
			j.cut = true
			return nil
		}
		err := j.rw.Write(append([]string{strconv.Itoa(rj.Line), rj.Reason}, rj.Fields...))
		j.rw.Flush()
		return err
	}
	im.wg.Add(1)
	go func() {
		defer im.wg.Done()
		defer os.Remove(f.Name())
		defer f.Close()
		res, err := importer.Import(im.ctx, f, im.st, opt)
		j.mu.Lock()
		defer j.mu.Unlock()
		j.rw.Flush()
		j.result, j.finished = res, true
		if err != nil {
			im.log.Error("import failed", "file", name, "err", err)
			j.failed = "The import stopped before the end of the file: the file could not be read or the database refused a batch. Rows already imported stay."
		}
	}()
	return j, nil
}

func (a *Admin) importsPage(w http.ResponseWriter, r *http.Request) error {
	lists, err := a.d.Store.Lists(r.Context())
	if err != nil {
		return err
	}
	var jobs []importState
	for _, j := range a.imports.list() {
		jobs = append(jobs, j.state())
	}
	a.page(w, r, http.StatusOK, "imports", "Import subscribers", "imports", map[string]any{"Lists": lists, "Jobs": jobs,
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
	j, err := a.imports.start(file, fh.Filename, list, opt)
	if err != nil {
		return err
	}
	return a.redirect(w, r, fmt.Sprintf("/admin/imports/%d", j.ID), "", false)
}

func (a *Admin) job(r *http.Request) (*importJob, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	j := a.imports.get(id)
	if j == nil {
		return nil, &userError{status: http.StatusNotFound, msg: "That import is not known to this server (imports are kept until it restarts)."}
	}
	return j, nil
}

func (a *Admin) importPage(w http.ResponseWriter, r *http.Request) error {
	j, err := a.job(r)
	if err != nil {
		return err
	}
	a.page(w, r, http.StatusOK, "import", "Import "+j.File, "imports", j.state())
	return nil
}

func (a *Admin) importEvents(w http.ResponseWriter, r *http.Request) error {
	j, err := a.job(r)
	if err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		s := j.state()
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
	}
}

func (a *Admin) importRejects(w http.ResponseWriter, r *http.Request) error {
	j, err := a.job(r)
	if err != nil {
		return err
	}
	j.mu.Lock()
	data := bytes.Clone(j.rejects.Bytes())
	j.mu.Unlock()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="rejected-%d.csv"`, j.ID))
	_, err = w.Write(data)
	return err
}
