package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/herald-news/herald/client"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/segment"
)

// segmentProblem turns a query the store refused into a 422 that says
// where and why; other errors pass through.
func segmentProblem(err error) error {
	var qe *segment.Error
	if errors.As(err, &qe) {
		return invalid("%s", qe.Error())
	}
	return err
}

func (a *API) segmentOut(ctx context.Context, sg *model.Segment) (client.Segment, error) {
	n, err := a.d.Store.CountSegmentQuery(ctx, sg.Query)
	var qe *segment.Error
	if errors.As(err, &qe) {
		n = -1 // a list it names was deleted: listed, with no count
	} else if err != nil {
		return client.Segment{}, err
	}
	return client.Segment{ID: sg.ID, Name: sg.Name, Query: sg.Query, Count: n, CreatedAt: sg.CreatedAt, UpdatedAt: sg.UpdatedAt}, nil
}

func (a *API) listSegments(w http.ResponseWriter, r *http.Request) error {
	segs, err := a.d.Store.Segments(r.Context())
	if err != nil {
		return err
	}
	out := []client.Segment{}
	for i := range segs {
		o, err := a.segmentOut(r.Context(), &segs[i])
		if err != nil {
			return err
		}
		out = append(out, o)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) saveSegment(w http.ResponseWriter, r *http.Request, id int64) error {
	var in client.SegmentInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if name := strings.TrimSpace(in.Name); name == "" || len(name) > 100 {
		return invalid("name is required (at most 100 characters)")
	}
	sg := &model.Segment{ID: id, Name: in.Name, Query: in.Query}
	if err := segmentProblem(a.d.Store.SaveSegment(r.Context(), sg)); err != nil {
		return err
	}
	out, err := a.segmentOut(r.Context(), sg)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if id == 0 {
		status = http.StatusCreated
	}
	return writeJSON(w, status, out)
}

func (a *API) createSegment(w http.ResponseWriter, r *http.Request) error {
	return a.saveSegment(w, r, 0)
}

func (a *API) updateSegment(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := a.d.Store.Segment(r.Context(), id); err != nil {
		return err
	}
	return a.saveSegment(w, r, id)
}

func (a *API) getSegment(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	sg, err := a.d.Store.Segment(r.Context(), id)
	if err != nil {
		return err
	}
	out, err := a.segmentOut(r.Context(), sg)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) countSegment(w http.ResponseWriter, r *http.Request) error {
	var in client.SegmentInput
	if err := decode(r, &in); err != nil {
		return err
	}
	n, err := a.d.Store.ParseSegment(r.Context(), in.Query)
	if err := segmentProblem(err); err != nil {
		return err
	}
	count, err := a.d.Store.CountSegmentQuery(r.Context(), in.Query)
	if err := segmentProblem(err); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, client.SegmentCount{Query: n.String(), Count: count})
}

func (a *API) deleteSegment(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := a.d.Store.DeleteSegment(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
