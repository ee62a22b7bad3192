package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/herald-news/herald/internal/importer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
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
	id, err := a.imports.Start(r.Context(), file, fh.Filename, list, opt)
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
	tick := time.NewTicker(importer.Heartbeat)
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
