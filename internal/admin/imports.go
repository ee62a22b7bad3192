package admin

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/i18n"
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
	// State says in words where the import is: running, done or failed.
	State string `json:"state"`
	// FirstRejects are the first rejected rows, once the import is done.
	FirstRejects []rejectRow `json:"first_rejects,omitempty"`
	// MoreRejects is how many rejected rows FirstRejects leaves out.
	MoreRejects int `json:"more_rejects,omitempty"`
	// SkipsOptIn: confirmed readers into a double opt-in list, who get no
	// confirmation mail.
	SkipsOptIn bool      `json:"-"`
	Started    time.Time `json:"-"`
	Finished   time.Time `json:"-"`
}

// rejectRow is one rejected row: its line in the file, why, and what it
// held.
type rejectRow struct {
	Line   string `json:"line"`
	Reason string `json:"reason"`
	Row    string `json:"row"`
}

// firstRejects is how many rejected rows the import page lists; the rest
// are in the CSV download.
const firstRejects = 20

func stateOf(j *store.ImportJob, l *i18n.Localizer) importState {
	c := j.Counts
	s := importState{ID: j.ID, File: j.File, List: j.ListName, Rows: c.Imported + c.Updated + c.Skipped + c.Suppressed,
		Imported: c.Imported, Updated: c.Updated, Skipped: c.Skipped, Suppressed: c.Suppressed, Rejected: c.Rejected,
		Done: j.State != store.ImportRunning, Started: j.Started, Finished: j.Finished, State: l.T("admin.imports.state_running")}
	if j.Size > 0 {
		s.Percent = min(100, 100*c.Read/j.Size)
	}
	switch j.State {
	case store.ImportDone:
		s.Percent, s.Rows, s.Note, s.State = 100, c.Rows, j.Message, l.T("admin.imports.state_done")
	case store.ImportFailed:
		s.Percent, s.Rows, s.Failed, s.State = 100, c.Rows, j.Message, l.T("admin.imports.state_failed")
	default:
		s.Note = j.Message
	}
	return s
}

// withRejects adds the first rejected rows of a finished import, read
// from the CSV kept with it.
func (a *Admin) withRejects(ctx context.Context, s *importState) error {
	if !s.Done || s.Rejected == 0 {
		return nil
	}
	data, err := a.d.Store.ImportRejects(ctx, s.ID)
	if err != nil {
		return err
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	if _, err := cr.Read(); err != nil { // the header: line, reason, the file's columns
		return nil
	}
	for len(s.FirstRejects) < firstRejects {
		rec, err := cr.Read()
		if err != nil {
			break
		}
		if len(rec) < 2 {
			continue
		}
		s.FirstRejects = append(s.FirstRejects, rejectRow{Line: rec[0], Reason: rec[1], Row: strings.Join(rec[2:], ", ")})
	}
	s.MoreRejects = max(0, s.Rejected-len(s.FirstRejects))
	return nil
}

func (a *Admin) importsPage(w http.ResponseWriter, r *http.Request) error {
	l := a.lang(r)
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
		states = append(states, stateOf(j, l))
	}
	var double []string
	for _, li := range lists {
		if li.OptIn == model.OptInDouble {
			double = append(double, li.Name)
		}
	}
	a.page(w, r, http.StatusOK, "imports", l.T("admin.imports.title"), "imports", map[string]any{"Lists": lists, "Jobs": states,
		"Selected": intParam(r, "list", 0), "Double": strings.Join(double, ", ")})
	return nil
}

func (a *Admin) importStart(w http.ResponseWriter, r *http.Request) error {
	l := a.lang(r)
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		return badRequest("%s", l.T("admin.imports.choose_file"))
	}
	listID, _ := strconv.ParseInt(r.FormValue("list"), 10, 64)
	list, err := a.d.Store.ListByID(r.Context(), listID)
	if err != nil {
		return a.redirect(w, r, "/admin/imports", l.T("admin.imports.choose_list"), true)
	}
	file, fh, err := r.FormFile("file")
	if err != nil {
		return a.redirect(w, r, "/admin/imports", l.T("admin.imports.choose_file"), true)
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
	l := a.lang(r)
	s := stateOf(j, l)
	if err := a.withRejects(r.Context(), &s); err != nil {
		return err
	}
	// A double opt-in list gets confirmed readers without their opt-in
	// when the import marks them confirmed (or the file does, or says
	// nothing).
	if li, err := a.d.Store.ListByID(r.Context(), j.ListID); err == nil && li.OptIn == model.OptInDouble && j.SubStatus != model.SubUnconfirmed {
		s.SkipsOptIn = true
	}
	a.page(w, r, http.StatusOK, "import", l.T("admin.imports.page_title", "File", j.File), "imports", s)
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
	l := a.lang(r)
	for {
		s := stateOf(j, l)
		if err := a.withRejects(r.Context(), &s); err != nil {
			return nil // the client sees the stream end and reloads
		}
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
		return &userError{status: http.StatusConflict, msg: a.lang(r).T("admin.imports.rejects_running")}
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
