package admin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/store"
)

// sunsetView is the sunset page: the policy the configuration sets (or
// none), the last run's report, and who the policy (or a preview of other
// months) would move next.
type sunsetView struct {
	Policy  *store.SunsetPolicy
	Last    store.SunsetReport
	HasLast bool
	Next    store.SunsetReport
	Preview store.SunsetPolicy
	NextErr string // why there is no preview: tracking
	// Errors are the preview form's problems (months out of range).
	Errors  fieldErrors
	Segment string
	Other   bool // the preview is not the configured policy
	// LastMore and NextMore are how many each report moved beyond its
	// sample.
	LastMore, NextMore int64
}

// sunset shows the sunset policy's page. The preview is a dry run through
// delivery.Sunset, so it is refused while tracking is not full, as the
// policy's runs are.
func (a *Admin) sunset(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	v := sunsetView{Policy: a.d.Sunset, Segment: store.SunsetSegmentName,
		Preview: store.SunsetPolicy{Months: 6, Action: store.SunsetSegment}}
	if v.Policy != nil {
		v.Preview = *v.Policy
	}
	if m := intParam(r, "months", 0); m != 0 && m != v.Preview.Months {
		v.Preview.Months, v.Other = m, true
	}
	if act := r.URL.Query().Get("action"); (act == store.SunsetSegment || act == store.SunsetSuppress) && act != v.Preview.Action {
		v.Preview.Action, v.Other = act, true
	}
	v.Preview.DryRun = true
	var err error
	if v.Last, v.HasLast, err = a.d.Store.LastSunset(ctx); err != nil {
		return err
	}
	v.Next, err = delivery.Sunset(ctx, a.d.Store, a.d.Settings, v.Preview)
	switch {
	case errors.Is(err, delivery.ErrSunsetNeedsTracking):
		why := "admin.audience.sunset.tracking_off"
		if strings.Contains(err.Error(), "anonymous") {
			why = "admin.audience.sunset.tracking_anonymous"
		}
		v.NextErr = a.lang(r).T("admin.audience.sunset.needs_tracking", "Why", a.lang(r).T(why))
	case err != nil && v.Preview.Months >= 1 && v.Preview.Months <= 60:
		return err
	case err != nil:
		v.Errors = fieldErrors{"months": a.lang(r).T("admin.audience.sunset.months_range", "Min", 1, "Max", 60)}
	}
	v.LastMore = v.Last.Matched - int64(len(v.Last.Sample))
	v.NextMore = v.Next.Matched - int64(len(v.Next.Sample))
	status := http.StatusOK
	if v.Errors != nil {
		status = http.StatusUnprocessableEntity
	}
	a.page(w, r, status, "sunset", a.lang(r).T("admin.nav.sunset"), "sunset", v)
	return nil
}
