package admin

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/segment"
	"github.com/herald-news/herald/internal/store"
)

// segmentRow is a saved segment with its count now (-1 when its query no
// longer holds, e.g. a list it names was deleted).
type segmentRow struct {
	model.Segment
	Count int64
}

// segmentsPage shows the segments and the editor filled with edit, and
// errs beside their fields ("seg-name", "seg-query": the editor's element
// ids) and above the form (status 422 then).
func (a *Admin) segmentsPage(w http.ResponseWriter, r *http.Request, edit *model.Segment, errs fieldErrors, status int) error {
	problem := errs["seg-query"]
	ctx := r.Context()
	segs, err := a.d.Store.Segments(ctx)
	if err != nil {
		return err
	}
	rows := make([]segmentRow, 0, len(segs))
	for _, sg := range segs {
		n, err := a.d.Store.CountSegmentQuery(ctx, sg.Query)
		var qe *segment.Error
		if errors.As(err, &qe) {
			n = -1
		} else if err != nil {
			return err
		}
		rows = append(rows, segmentRow{sg, n})
	}
	lists, err := a.d.Store.Lists(ctx)
	if err != nil {
		return err
	}
	data := map[string]any{"Segments": rows, "Edit": edit, "Problem": problem, "Lists": lists, "Errors": errs}
	if edit != nil && problem == "" && edit.Query != "" {
		if n, err := a.d.Store.CountSegmentQuery(ctx, edit.Query); err == nil {
			data["Count"] = n
		}
	}
	title := a.lang(r).T("admin.nav.segments")
	if edit != nil && edit.ID != 0 {
		title = edit.Name
	}
	a.page(w, r, status, "segments", title, "segments", data)
	return nil
}

func (a *Admin) segments(w http.ResponseWriter, r *http.Request) error {
	return a.segmentsPage(w, r, &model.Segment{Query: r.URL.Query().Get("query")}, nil, http.StatusOK)
}

func (a *Admin) segmentEdit(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	sg, err := a.d.Store.Segment(r.Context(), id)
	if err != nil {
		return err
	}
	return a.segmentsPage(w, r, sg, nil, http.StatusOK)
}

// segmentSave creates (no id in the path) or saves a segment. A query
// that does not parse shows the form again with the problem and the
// editor's text kept.
func (a *Admin) segmentSave(w http.ResponseWriter, r *http.Request) error {
	sg := &model.Segment{Name: strings.TrimSpace(r.FormValue("name")), Query: r.FormValue("query")}
	if r.PathValue("id") != "" {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if _, err := a.d.Store.Segment(r.Context(), id); err != nil {
			return err
		}
		sg.ID = id
	}
	l := a.lang(r)
	errs := fieldErrors{}
	if sg.Name == "" {
		errs["seg-name"] = l.T("admin.audience.segment_name")
	}
	// The query is checked with a missing name too: every problem at once.
	var qe *segment.Error
	if _, err := a.d.Store.CountSegmentQuery(r.Context(), sg.Query); errors.As(err, &qe) {
		errs["seg-query"] = sentence(qe.Error())
	} else if err != nil {
		return err
	}
	if len(errs) > 0 {
		return a.segmentsPage(w, r, sg, errs, http.StatusUnprocessableEntity)
	}
	err := a.d.Store.SaveSegment(r.Context(), sg)
	switch {
	case errors.As(err, &qe):
		return a.segmentsPage(w, r, sg, fieldErrors{"seg-query": sentence(qe.Error())}, http.StatusUnprocessableEntity)
	case errors.Is(err, store.ErrConflict):
		return a.segmentsPage(w, r, sg, fieldErrors{"seg-name": l.T("admin.audience.segment_taken")}, http.StatusUnprocessableEntity)
	case err != nil:
		return err
	}
	return a.redirect(w, r, "/admin/segments", l.T("admin.audience.segment_saved", "Name", sg.Name), false)
}

// segmentCount answers the editor's live count: the query's members now,
// its canonical form and a few of them, or what is wrong with it.
func (a *Admin) segmentCount(w http.ResponseWriter, r *http.Request) error {
	q := r.FormValue("query")
	resp := map[string]any{}
	n, err := a.d.Store.CountSegmentQuery(r.Context(), q)
	var qe *segment.Error
	switch {
	case errors.As(err, &qe):
		resp["error"] = qe.Error()
	case err != nil:
		return err
	default:
		node, err := a.d.Store.ParseSegment(r.Context(), q)
		if err != nil {
			return err
		}
		members, err := a.d.Store.SegmentMembers(r.Context(), q, 5)
		if err != nil {
			return err
		}
		sample := make([]string, 0, len(members))
		for _, m := range members {
			sample = append(sample, m.Email)
		}
		resp["count"], resp["query"], resp["sample"] = n, node.String(), sample
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(resp)
}

// segmentDelete deletes a saved segment; one that is a campaign's audience
// stays, and the page says which campaign.
func (a *Admin) segmentDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	sg, err := a.d.Store.Segment(r.Context(), id)
	if err != nil {
		return err
	}
	if err := a.d.Store.DeleteSegment(r.Context(), id); err != nil {
		return err
	}
	return a.redirect(w, r, "/admin/segments", a.lang(r).T("admin.audience.segment_deleted", "Name", sg.Name), false)
}
