package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/herald-news/herald/client"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/series"
	"github.com/herald-news/herald/internal/source"
	"github.com/herald-news/herald/internal/store"
)

// The editorial desk: sources, their items, link unfurling and series.

func (a *API) listSources(w http.ResponseWriter, r *http.Request) error {
	srcs, err := a.d.Store.Sources(r.Context())
	if err != nil {
		return err
	}
	out := []client.Source{}
	for _, s := range srcs {
		out = append(out, sourceOut(s))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) createSource(w http.ResponseWriter, r *http.Request) error {
	var in client.SourceInput
	if err := decode(r, &in); err != nil {
		return err
	}
	src, err := source.Check(r.Context(), a.d.Unfurl, in.Name, in.URL, in.Publication, in.Own, in.Interval)
	if err != nil {
		return invalid("%s", err.Error())
	}
	if err := a.d.Store.CreateSource(r.Context(), src); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, sourceOut(*src))
}

func (a *API) pollSource(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p := &source.Poller{Store: a.d.Store, Client: a.d.Unfurl.Client(), Log: a.d.Log}
	added, problem, err := p.PollNow(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, client.SourcePoll{NewItems: added, Problem: problem})
}

func (a *API) deleteSource(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := a.d.Store.DeleteSource(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deskRecent is how many recent editions mark items as used.
const deskRecent = 10

func (a *API) deskItems(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	limit, _ := paging(r)
	sourceID, _ := strconv.ParseInt(q.Get("source"), 10, 64)
	items, err := a.d.Store.SourceItems(ctx, store.ItemFilter{Query: q.Get("q"), SourceID: sourceID, Limit: limit})
	if err != nil {
		return err
	}
	recent, err := a.d.Store.ListEditions(ctx, store.EditionFilter{Limit: deskRecent})
	if err != nil {
		return err
	}
	source.MarkUsed(items, recent)
	out := []client.Item{}
	for _, it := range items {
		out = append(out, itemOut(it))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) unfurl(w http.ResponseWriter, r *http.Request) error {
	var in client.UnfurlInput
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := a.d.Unfurl.Unfurl(r.Context(), in.URL)
	if err != nil {
		// The message is about the page, written for the person who
		// pasted it; it carries no server detail.
		return invalid("%s", err.Error())
	}
	return writeJSON(w, http.StatusOK, client.Unfurled(p))
}

// writeSeries answers with one series, its next slot in the newsroom's zone.
func (a *API) writeSeries(ctx context.Context, w http.ResponseWriter, status int, sr *model.Series) error {
	loc, err := series.Zone(ctx, a.d.Store)
	if err != nil {
		return err
	}
	return writeJSON(w, status, a.seriesOut(*sr, loc))
}

func (a *API) seriesOut(sr model.Series, loc *time.Location) client.Series {
	out := client.Series{ID: sr.ID, Name: sr.Name, SlotTime: sr.SlotTime, Slot: string(sr.Slot), ListIDs: sr.ListIDs, From: sr.From,
		Template: editionOut(&sr.Template), Automatic: sr.Automatic, SourceID: sr.SourceID, RemindMinutes: int(sr.RemindBefore / time.Minute),
		RemindTo: sr.RemindTo, Active: sr.Active, CreatedAt: sr.CreatedAt, Weekdays: []int{}}
	for _, d := range sr.Weekdays {
		out.Weekdays = append(out.Weekdays, int(d))
	}
	now := time.Now()
	for i := 0; i < 8 && sr.Active; i++ {
		if at, runs := series.SlotOn(sr, now.AddDate(0, 0, i), loc); runs && at.After(now) {
			out.NextSlot = at
			break
		}
	}
	if out.ListIDs == nil {
		out.ListIDs = []int64{}
	}
	return out
}

func seriesIn(in client.Series, sr *model.Series) error {
	sr.Name, sr.SlotTime, sr.Slot, sr.ListIDs, sr.From = strings.TrimSpace(in.Name), in.SlotTime, model.Slot(in.Slot), in.ListIDs, in.From
	sr.Template, sr.Automatic, sr.SourceID, sr.RemindTo, sr.Active = *editionIn(&in.Template), in.Automatic, in.SourceID, in.RemindTo, in.Active
	sr.RemindBefore = time.Duration(in.RemindMinutes) * time.Minute
	sr.Weekdays = nil
	for _, d := range in.Weekdays {
		if d < 0 || d > 6 {
			return invalid("weekdays are 0 (Sunday) to 6 (Saturday)")
		}
		sr.Weekdays = append(sr.Weekdays, time.Weekday(d))
	}
	for i, s := range sr.Template.Sections {
		if !s.Kind.Valid() {
			return invalid("template section %d: %q is not a section kind (lead, cards, briefs, picks or text)", i+1, s.Kind)
		}
	}
	if err := series.Check(sr); err != nil {
		return invalid("%s", err.Error())
	}
	return nil
}

func (a *API) listSeries(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	all, err := a.d.Store.AllSeries(ctx)
	if err != nil {
		return err
	}
	loc, err := series.Zone(ctx, a.d.Store)
	if err != nil {
		return err
	}
	out := []client.Series{}
	for _, sr := range all {
		out = append(out, a.seriesOut(sr, loc))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) createSeries(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var in client.Series
	if err := decode(r, &in); err != nil {
		return err
	}
	sr := &model.Series{}
	if err := seriesIn(in, sr); err != nil {
		return err
	}
	if err := a.d.Store.CreateSeries(ctx, sr); err != nil {
		return err
	}
	return a.writeSeries(ctx, w, http.StatusCreated, sr)
}

func (a *API) getSeries(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		return err
	}
	sr, err := a.d.Store.Series(ctx, id)
	if err != nil {
		return err
	}
	return a.writeSeries(ctx, w, http.StatusOK, sr)
}

func (a *API) updateSeries(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		return err
	}
	sr, err := a.d.Store.Series(ctx, id)
	if err != nil {
		return err
	}
	var in client.Series
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := seriesIn(in, sr); err != nil {
		return err
	}
	if err := a.d.Store.UpdateSeries(ctx, sr); err != nil {
		return err
	}
	return a.writeSeries(ctx, w, http.StatusOK, sr)
}

func (a *API) deleteSeries(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := a.d.Store.DeleteSeries(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) seriesRuns(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := a.d.Store.Series(r.Context(), id); err != nil {
		return err
	}
	runs, err := a.d.Store.SeriesRuns(r.Context(), id, 100)
	if err != nil {
		return err
	}
	out := []client.SeriesRun{}
	for _, run := range runs {
		out = append(out, runOut(run))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) markReady(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in client.Ready
	if err := decode(r, &in); err != nil {
		return err
	}
	run, err := series.MarkReady(ctx, a.d.Store, id, in.Ready, identity(r).User.Email)
	var notReady *series.NotReadyError
	switch {
	case errors.Is(err, series.ErrNotADraft):
		return store.ErrNotFound
	case errors.As(err, &notReady):
		return invalid("%s", notReady.Error())
	case errors.Is(err, series.ErrSent):
		return &apiError{status: http.StatusConflict, code: "bad_transition", msg: "This day's edition has already been sent."}
	case err != nil:
		return err
	}
	return writeJSON(w, http.StatusOK, runOut(*run))
}
