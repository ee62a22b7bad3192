package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/address"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/edition"
	"github.com/herald-news/herald/internal/engage"
	"github.com/herald-news/herald/internal/feedback"
	"github.com/herald-news/herald/internal/i18n"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/settings"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/validator"
)

func (a *Admin) campaigns(w http.ResponseWriter, r *http.Request) error {
	p := pager{Offset: intParam(r, "offset", 0), Limit: 25, L: a.lang(r)}
	cs, err := a.d.Store.CampaignSummaries(r.Context(), p.Limit, p.Offset)
	if err != nil {
		return err
	}
	if p.Total, err = a.d.Store.CountCampaigns(r.Context()); err != nil {
		return err
	}
	a.page(w, r, http.StatusOK, "campaigns", a.lang(r).T("admin.campaigns.title"), "campaigns", map[string]any{"Campaigns": cs, "Pager": p})
	return nil
}

func (a *Admin) campaignNew(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	tr, err := settings.LoadTracking(ctx, a.d.Store)
	if err != nil {
		return err
	}
	// From left empty: the list's brand, else the default (delivery.CreateCampaign).
	c := &model.Campaign{Tracking: tr.Opens || tr.Clicks}
	c.EditionID, _ = strconv.ParseInt(r.URL.Query().Get("edition"), 10, 64)
	return a.campaignForm(w, r, http.StatusOK, c, campaignFormIn{}, nil)
}

// campaignFormIn is what the new-campaign form posts that a campaign does
// not hold as typed, kept as typed when the form comes back with a problem.
type campaignFormIn struct {
	SendAt, Sample, WaitHours, Metric string
}

// campaignForm shows the new-campaign form filled with c, and errs beside
// their fields (status 422 then).
func (a *Admin) campaignForm(w http.ResponseWriter, r *http.Request, status int, c *model.Campaign, in campaignFormIn, errs fieldErrors) error {
	ctx := r.Context()
	eds, err := a.d.Store.ListEditions(ctx, store.EditionFilter{Limit: 100})
	if err != nil {
		return err
	}
	lists, err := a.d.Store.Lists(ctx)
	if err != nil {
		return err
	}
	segs, err := a.d.Store.Segments(ctx)
	if err != nil {
		return err
	}
	if c.Name == "" && errs == nil {
		for _, e := range eds {
			if e.ID == c.EditionID {
				c.Name = e.Subject
			}
		}
	}
	variants := make([]model.Variant, 4)
	if c.AB != nil {
		copy(variants, c.AB.Variants)
	}
	if in.Sample == "" {
		in.Sample, in.WaitHours, in.Metric = "20", "2", string(model.ABOpens)
	}
	// The placeholder shows the From an empty field takes (the
	// publication's, else the configuration's; a list's brand may differ).
	from := a.d.From
	if pub, err := a.publication(ctx); err == nil && pub.From != "" {
		from = pub.From
	}
	a.page(w, r, status, "campaign_new", a.lang(r).T("admin.forms.campaign_new.title"), "campaigns", map[string]any{
		"Editions": eds, "Lists": lists, "Segments": segs, "Variants": variants, "In": in, "C": c, "Errors": errs, "From": from,
		"OnList": idSet(c.ListIDs), "OnSegment": idSet(c.SegmentIDs), "Zone": a.zone(ctx).String(),
	})
	return nil
}

func idSet(ids []int64) map[int64]bool {
	m := make(map[int64]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

func (a *Admin) campaignCreate(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c := &model.Campaign{Name: strings.TrimSpace(r.FormValue("name")), From: strings.TrimSpace(r.FormValue("from")),
		ReplyTo: strings.TrimSpace(r.FormValue("reply_to")), Tracking: r.FormValue("tracking") == "on",
		PublishOnStart: r.FormValue("publish_on_start") == "on"}
	c.EditionID, _ = strconv.ParseInt(r.FormValue("edition"), 10, 64)
	for _, v := range r.Form["lists"] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			c.ListIDs = append(c.ListIDs, id)
		}
	}
	c.LocalTime = strings.TrimSpace(r.FormValue("local_time"))
	in := campaignFormIn{SendAt: r.FormValue("send_at"), Sample: r.FormValue("ab_sample"), WaitHours: r.FormValue("ab_wait_hours"),
		Metric: r.FormValue("ab_metric")}
	var subjects []string
	for _, v := range r.Form["ab_subject"] {
		if v = strings.TrimSpace(v); v != "" {
			subjects = append(subjects, v)
		}
	}
	if len(subjects) > 0 {
		pct, _ := strconv.Atoi(in.Sample)
		hours, _ := strconv.ParseFloat(in.WaitHours, 64)
		c.AB = &model.ABTest{SamplePercent: pct, Wait: time.Duration(hours * float64(time.Hour)), Metric: model.ABMetric(in.Metric)}
		pre := r.Form["ab_preheader"]
		for i, subj := range subjects {
			v := model.Variant{Subject: subj}
			if i < len(pre) {
				v.Preheader = strings.TrimSpace(pre[i])
			}
			c.AB.Variants = append(c.AB.Variants, v)
		}
	}
	for _, v := range r.Form["segments"] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			c.SegmentIDs = append(c.SegmentIDs, id)
		}
	}
	l := a.lang(r)
	if c.PublishOnStart && !identity(r).Can(auth.Publish) {
		return a.redirect(w, r, fmt.Sprintf("/admin/campaigns/new?edition=%d", c.EditionID), l.T("admin.forms.campaign_new.publish_denied"), true)
	}
	errs := fieldErrors{}
	if in.SendAt != "" {
		// Typed in the newsroom's zone, as every time in the admin.
		t, err := parseLocal(in.SendAt, a.zone(ctx))
		if err != nil {
			errs["send_at"] = l.T("admin.forms.campaign_new.send_at_bad")
		}
		c.SendAt = t
	}
	// What was typed comes back as typed: the sender filled in below
	// is the one the campaign gets, not what the form shows again.
	typed := *c
	var err error
	if len(errs) == 0 {
		err = delivery.CreateCampaign(ctx, a.d.Store, c, a.d.From)
	} else {
		err = delivery.CheckCampaign(ctx, a.d.Store, c, a.d.From) // every problem at once, nothing stored
	}
	for f, m := range problems(l, err) {
		errs[f] = m
	}
	if len(errs) > 0 {
		typed.SendAt = time.Time{}
		return a.campaignForm(w, r, http.StatusUnprocessableEntity, &typed, in, errs)
	}
	if err != nil {
		return err
	}
	return a.redirect(w, r, fmt.Sprintf("/admin/campaigns/%d", c.ID), l.T("admin.forms.campaign_new.created"), false)
}

// stats is a campaign's progress and engagement, for its page and the API.
type stats struct {
	Progress  model.Progress
	Percent   int64
	Counts    store.EventCounts
	Unique    map[string]int64 // by event kind, for templates
	Total     map[string]int64
	By        map[string]map[string]int64 // unique, by class and kind
	Links     []store.LinkCount
	Chart     template.HTML
	HasEvents bool
}

func (a *Admin) campaignStats(ctx context.Context, c *model.Campaign, l *i18n.Localizer) (*stats, error) {
	p, err := a.d.Store.CampaignProgress(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	counts, err := a.d.Store.CampaignEventCounts(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	links, err := a.d.Store.TopLinks(ctx, c.ID, 10)
	if err != nil {
		return nil, err
	}
	pts, err := a.d.Store.EventSeries(ctx, c.ID, false)
	if err != nil {
		return nil, err
	}
	st := &stats{Progress: p, Counts: counts, Links: links, HasEvents: len(pts) > 0, Unique: map[string]int64{}, Total: map[string]int64{}}
	for k, v := range counts.Unique {
		st.Unique[string(k)] = v
	}
	for k, v := range counts.Total {
		st.Total[string(k)] = v
	}
	st.By = map[string]map[string]int64{}
	for class, m := range counts.UniqueBy {
		st.By[string(class)] = map[string]int64{}
		for k, v := range m {
			st.By[string(class)][string(k)] = v
		}
	}
	if p.Total > 0 {
		st.Percent = 100 * (p.Sent + p.Failed + p.Skipped) / p.Total
	}
	st.Chart = eventChart(l, c, pts, a.zone(ctx))
	return st, nil
}

// eventChart draws events per hour from the first hour of the campaign
// (or its first event) to its last event.
func eventChart(l *i18n.Localizer, c *model.Campaign, pts []store.SeriesPoint, loc *time.Location) template.HTML {
	start := c.StartedAt.UTC().Truncate(time.Hour)
	end := start
	for _, p := range pts {
		if start.IsZero() || p.At.Before(start) {
			start = p.At
		}
		if p.At.After(end) {
			end = p.At
		}
	}
	if start.IsZero() {
		return ""
	}
	if end.Sub(start) < 6*time.Hour {
		end = start.Add(6 * time.Hour)
	}
	hours := int(end.Sub(start)/time.Hour) + 1
	if hours > 24*14 {
		hours = 24 * 14
	}
	kinds := []struct {
		k           model.EventKind
		name, class string
	}{
		{model.EventOpen, l.T("admin.campaign.chart_opens"), "s-open"}, {model.EventClick, l.T("admin.campaign.chart_clicks"), "s-click"},
		{model.EventBounce, l.T("admin.campaign.bounces"), "s-bounce"}, {model.EventComplaint, l.T("admin.campaign.complaints"), "s-complaint"},
		{model.EventUnsubscribe, l.T("admin.campaign.unsubscribes"), "s-unsubscribe"},
	}
	labels := make([]time.Time, hours)
	for i := range labels {
		labels[i] = start.Add(time.Duration(i) * time.Hour).In(loc)
	}
	var ss []series
	for _, k := range kinds {
		v := make([]float64, hours)
		for _, p := range pts {
			if p.Kind == k.k {
				if i := int(p.At.Sub(start) / time.Hour); i >= 0 && i < hours {
					v[i] += float64(p.Count)
				}
			}
		}
		ss = append(ss, series{Name: k.name, Class: k.class, Values: v})
	}
	return chart(l, l.T("admin.a11y.chart_campaign"), labels, "2006-01-02 15:04", ss, false)
}

func (a *Admin) campaign(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	l := a.lang(r)
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := a.d.Store.Campaign(ctx, id)
	if err != nil {
		return err
	}
	st, err := a.campaignStats(ctx, c, l)
	if err != nil {
		return err
	}
	ed, err := a.d.Store.GetEdition(ctx, c.EditionID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	var listNames, segNames []string
	for _, l := range c.ListIDs {
		if li, err := a.d.Store.ListByID(ctx, l); err == nil {
			listNames = append(listNames, li.Name)
		}
	}
	for _, sid := range c.SegmentIDs {
		if sg, err := a.d.Store.Segment(ctx, sid); err == nil {
			segNames = append(segNames, sg.Name)
		}
	}
	failures, err := a.d.Store.DeliveryFailures(ctx, id, 10)
	if err != nil {
		return err
	}
	bounces, err := a.d.Store.BounceEvents(ctx, 0, id, 20)
	if err != nil {
		return err
	}
	waiting, err := a.d.Store.WaitingByHour(ctx, id)
	if err != nil {
		return err
	}
	var abResults []store.VariantResult
	var abHeld int64
	if c.AB != nil {
		if abResults, abHeld, err = a.d.Store.ABResults(ctx, id); err != nil {
			return err
		}
	}
	var clickMap *engage.ClickMap
	if !c.StartedAt.IsZero() {
		switch clickMap, err = engage.BuildClickMap(ctx, a.d.Store, id); {
		case errors.Is(err, store.ErrNotFound): // started before anything was frozen
		case err != nil:
			return err
		}
	}
	said, err := a.d.Store.CampaignFeedback(ctx, id, 50)
	if err != nil {
		return err
	}
	// The start button asks first (a dialog; without scripts, the start
	// step's page): where it goes, to how many, and whether the edition
	// already went there.
	var confirm *startView
	if identity(r).Can(auth.Send) && (c.Status == model.CampaignDraft || c.Status == model.CampaignScheduled) {
		cf, err := delivery.ConfirmStart(ctx, a.d.Store, id)
		if err != nil {
			return err
		}
		confirm = newStartView(cf, l)
	}
	live := c.Status == model.CampaignSending || c.Status == model.CampaignPaused
	rate, eta := rateETA(c, st.Progress, a.d.Now(), l)
	a.page(w, r, http.StatusOK, "campaign", c.Name, "campaigns", map[string]any{
		"C": c, "S": st, "Edition": ed, "Lists": audienceText(l, listNames, segNames), "Failures": failures, "Bounces": bounces,
		"Live": live, "Rate": rate, "ETA": eta, "Waiting": waiting, "AB": abResults, "ABHeld": abHeld, "CanStart": a.d.Engine != nil, "CanTest": a.d.Sender != nil,
		"ClickMap": clickMap, "Feedback": said, "FeedbackSections": feedback.Sections, "Confirm": confirm,
	})
	return nil
}

// audienceText names a campaign's lists and segments in one phrase.
func audienceText(l *i18n.Localizer, lists, segments []string) string {
	names := slices.Clone(lists)
	for _, s := range segments {
		names = append(names, l.T("admin.campaign.segment_named", "Name", s))
	}
	return strings.Join(names, ", ")
}

// startView is a start confirmation as the dialog and the start step's
// page show it.
type startView struct {
	*delivery.Confirmation
	Audience string
}

func newStartView(cf *delivery.Confirmation, l *i18n.Localizer) *startView {
	return &startView{Confirmation: cf, Audience: audienceText(l, cf.Lists, cf.Segments)}
}

// rateETA estimates throughput since the campaign started.
func rateETA(c *model.Campaign, p model.Progress, now time.Time, l *i18n.Localizer) (string, string) {
	done := p.Sent + p.Failed + p.Skipped
	if c.StartedAt.IsZero() || done == 0 {
		return "—", "—"
	}
	end := now
	if !c.DoneAt.IsZero() {
		end = c.DoneAt
	}
	secs := end.Sub(c.StartedAt).Seconds()
	if secs < 1 {
		secs = 1
	}
	r := float64(done) / secs
	return formatRate(r), formatETA(p, r, l)
}

func formatRate(r float64) string {
	if r <= 0 {
		return "—"
	}
	if r >= 10 {
		return fmt.Sprintf("%.0f/s", r)
	}
	return fmt.Sprintf("%.1f/s", r)
}

func formatETA(p model.Progress, rate float64, l *i18n.Localizer) string {
	left := p.Pending + p.Sending + p.Deferred
	if left == 0 {
		return l.T("admin.campaign.eta_done")
	}
	if rate <= 0 {
		return "—"
	}
	d := time.Duration(float64(left)/rate) * time.Second
	if d < time.Minute {
		return fmt.Sprintf("%ds", int(d.Seconds())+1)
	}
	return d.Round(time.Minute).String()
}

// progressEvent is one server-sent progress update.
type progressEvent struct {
	Status model.CampaignStatus `json:"status"`
	// StatusText is the status in the reader's language.
	StatusText string `json:"status_text"`
	Total      int64  `json:"total"`
	Sent       int64  `json:"sent"`
	Deferred   int64  `json:"deferred"`
	Failed     int64  `json:"failed"`
	Skipped    int64  `json:"skipped"`
	Pending    int64  `json:"pending"`
	Percent    int64  `json:"percent"`
	Rate       string `json:"rate"`
	ETA        string `json:"eta"`
	Done       bool   `json:"done"`
}

// campaignEvents streams progress as server-sent events until the campaign
// is final or the browser goes away: once a second while counting the
// ledger is quick, spaced by store.ProgressPause when it is not (a
// campaign to millions). Rate is measured over the last ten seconds of
// samples.
func (a *Admin) campaignEvents(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := a.d.Store.Campaign(ctx, id); err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{}) // the stream outlives the server's write timeout
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	type sample struct {
		at   time.Time
		done int64
	}
	var window []sample
	l := a.lang(r)
	pd := pageData{L: l}
	for {
		c, err := a.d.Store.Campaign(ctx, id)
		if err != nil {
			return nil // the client sees the stream end and falls back to reloading
		}
		counted := time.Now()
		p, err := a.d.Store.CampaignProgress(ctx, id)
		if err != nil {
			return nil
		}
		pause := store.ProgressPause(time.Since(counted))
		now := a.d.Now()
		done := p.Sent + p.Failed + p.Skipped
		window = append(window, sample{now, done})
		for len(window) > 1 && now.Sub(window[0].at) > 10*time.Second {
			window = window[1:]
		}
		rate := 0.0
		if len(window) > 1 {
			if dt := now.Sub(window[0].at).Seconds(); dt > 0 {
				rate = float64(done-window[0].done) / dt
			}
		}
		ev := progressEvent{Status: c.Status, StatusText: pd.Status(string(c.Status)), Total: p.Total, Sent: p.Sent, Deferred: p.Deferred, Failed: p.Failed, Skipped: p.Skipped,
			Pending: p.Pending + p.Sending, Rate: formatRate(rate), ETA: formatETA(p, rate, l),
			Done: c.Status.Final()}
		if len(window) < 2 {
			ev.Rate, ev.ETA = rateETA(c, p, now, l)
		}
		if p.Total > 0 {
			ev.Percent = 100 * done / p.Total
		}
		b, _ := json.Marshal(ev)
		if _, err := fmt.Fprintf(w, "event: progress\ndata: %s\n\n", b); err != nil {
			return nil
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
		if ev.Done {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(pause):
		}
	}
}

func (a *Admin) campaignAction(w http.ResponseWriter, r *http.Request, act func(ctx context.Context, id int64) (string, error)) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	msg, err := act(r.Context(), id)
	target := fmt.Sprintf("/admin/campaigns/%d", id)
	if errors.Is(err, store.ErrBadTransition) {
		return a.redirect(w, r, target, a.lang(r).T("admin.campaign.bad_transition"), true)
	}
	if err != nil {
		var ue *userError
		if errors.As(err, &ue) {
			return a.redirect(w, r, target, ue.msg, true)
		}
		// A domain rule refused it (no base_url for a relay, say): its
		// words, in the user's language.
		if ve := validator.As(err); ve != nil {
			return a.redirect(w, r, target, ve.In(a.lang(r)), true)
		}
		return err
	}
	return a.redirect(w, r, target, msg, false)
}

// campaignStart starts a campaign once the person confirmed it: the
// start step (the page's dialog, or without scripts its own page) names
// the audience and any earlier send of the edition to the same lists, and
// the pre-send checks' findings, before the start goes ahead.
func (a *Admin) campaignStart(w http.ResponseWriter, r *http.Request) error {
	if shown, err := a.startChecked(w, r); shown || err != nil {
		return err
	}
	return a.campaignAction(w, r, a.changeStatus(r, delivery.Start, ""))
}

// changeStatus makes a status change through delivery.ChangeStatus and
// says msg (Start says how many it goes to).
func (a *Admin) changeStatus(r *http.Request, act delivery.Action, msg string) func(context.Context, int64) (string, error) {
	l := a.lang(r)
	return func(ctx context.Context, id int64) (string, error) {
		ch, err := delivery.ChangeStatus(ctx, a.d.Store, a.d.Engine, id, act, time.Time{})
		switch {
		case errors.Is(err, delivery.ErrNotSending):
			return "", &userError{status: http.StatusConflict, msg: l.T("admin.campaign.engine_off")}
		case err != nil:
			return "", err
		case act == delivery.Start:
			return l.N("admin.campaign.started_to", int(ch.Recipients), "Count", thousands(ch.Recipients)), nil
		case ch.InFlight > 0:
			// The page answers once nothing of the campaign is in flight,
			// so the promise in msg holds from the moment it is read.
			a.d.Log.Warn("campaign halted with mail still in flight on a node that did not answer", "campaign", id, "rows", ch.InFlight)
			return msg + " " + l.N("admin.campaign.in_flight", int(ch.InFlight), "Count", thousands(ch.InFlight)), nil
		}
		return msg, nil
	}
}

func (a *Admin) campaignPause(w http.ResponseWriter, r *http.Request) error {
	return a.campaignAction(w, r, a.changeStatus(r, delivery.Pause, a.lang(r).T("admin.campaign.paused_msg")))
}

func (a *Admin) campaignResume(w http.ResponseWriter, r *http.Request) error {
	return a.campaignAction(w, r, a.changeStatus(r, delivery.Resume, a.lang(r).T("admin.campaign.resumed_msg")))
}

func (a *Admin) campaignCancel(w http.ResponseWriter, r *http.Request) error {
	return a.campaignAction(w, r, a.changeStatus(r, delivery.Cancel, a.lang(r).T("admin.campaign.cancelled_msg")))
}

// campaignSchedule sets or clears the send time, typed in the newsroom's
// zone.
func (a *Admin) campaignSchedule(w http.ResponseWriter, r *http.Request) error {
	l := a.lang(r)
	return a.campaignAction(w, r, func(ctx context.Context, id int64) (string, error) {
		var at time.Time
		loc := a.zone(ctx)
		if v := r.FormValue("send_at"); v != "" {
			t, err := parseLocal(v, loc)
			if err != nil {
				return "", &userError{status: http.StatusBadRequest, msg: l.T("admin.campaign.bad_send_at")}
			}
			at = t
		}
		if _, err := delivery.ChangeStatus(ctx, a.d.Store, a.d.Engine, id, delivery.Schedule, at); err != nil {
			return "", err
		}
		if at.IsZero() {
			return l.T("admin.campaign.schedule_cleared"), nil
		}
		return l.T("admin.campaign.scheduled_msg", "When", zonedTime(at, loc)), nil
	})
}

func (a *Admin) campaignTest(w http.ResponseWriter, r *http.Request) error {
	l := a.lang(r)
	return a.campaignAction(w, r, func(ctx context.Context, id int64) (string, error) {
		to, err := address.Normalize(r.FormValue("to"))
		if err != nil {
			return "", &userError{status: http.StatusBadRequest, msg: l.T("admin.campaign.test_no_address")}
		}
		c, err := a.d.Store.Campaign(ctx, id)
		if err != nil {
			return "", err
		}
		if err := a.SendTest(ctx, l, c, to); err != nil {
			return "", err
		}
		return l.T("admin.campaign.test_sent", "Address", to), nil
	})
}

// SendTest sends one copy of a campaign's edition to one address, outside
// the ledger, with "[Test]" before the subject. A refusal says why in l's
// language.
func (a *Admin) SendTest(ctx context.Context, l *i18n.Localizer, c *model.Campaign, to string) error {
	if a.d.Sender == nil {
		return &userError{status: http.StatusConflict, msg: l.T("admin.testcopy.no_transport")}
	}
	e, err := a.d.Store.GetEdition(ctx, c.EditionID)
	if err != nil {
		return err
	}
	if ps := edition.Validate(e); len(ps) > 0 {
		return &userError{status: http.StatusBadRequest, msg: l.T("admin.testcopy.not_ready", "Problem", composerProblems(l, e, ps)[0].Text)}
	}
	// The copy wears the brand and language the campaign's mail will.
	list, err := delivery.BrandOf(ctx, a.d.Store, c)
	if err != nil {
		return err
	}
	rd, _, err := a.renderer(ctx, list)
	if err != nil {
		return err
	}
	em, err := rd.Email(e)
	if err != nil {
		return err
	}
	// Signed as the campaign will be, so a test send also tests DKIM.
	dkim, err := a.d.Settings.SigningKey(ctx)
	if err != nil {
		return err
	}
	from, err := mail.ParseAddress(c.From)
	if err != nil {
		return &userError{status: http.StatusBadRequest, msg: l.T("admin.testcopy.bad_from")}
	}
	msgID := fmt.Sprintf("herald.test.%d.%d@%s", c.ID, a.d.Now().UnixNano(), address.Domain(from.Address))
	msg, err := delivery.TestCopy(delivery.Identity{From: c.From, ReplyTo: c.ReplyTo, List: list, DKIM: dkim},
		em, a.previewFields(e), to, msgID)
	if err != nil {
		return &userError{status: http.StatusBadRequest, msg: l.T("admin.testcopy.bad_from")}
	}
	// A test copy to a subscriber's address bounces like their mail
	// would: to a VERP address naming them, outside any campaign.
	var subID int64
	if sub, err := a.d.Store.SubscriberByEmail(ctx, to); err == nil {
		subID = sub.ID
	}
	if err := a.d.Sender.Send(ctx, mailer.Envelope{From: a.d.Bounce.Address(subID, 0, from.Address), To: to}, msg); err != nil {
		a.d.Log.Warn("test send failed", "campaign", c.ID, "err", err)
		return &userError{status: http.StatusBadGateway, msg: l.T("admin.testcopy.refused")}
	}
	// The first-run checklist's proof that sending works.
	return settings.MarkSenderTested(ctx, a.d.Store, a.d.Now())
}

// campaignExport downloads one part of a campaign's engagement as CSV.
func (a *Admin) campaignExport(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := a.d.Store.Campaign(r.Context(), id)
	if err != nil {
		return err
	}
	part := r.URL.Query().Get("part")
	if err := engage.CheckPart(part); err != nil {
		return badRequest("%s", a.lang(r).T("admin.error.no_export", "Part", part))
	}
	return engage.Download(w, r, a.d.Store, c.ID, part)
}

// campaignClickMap is the campaign's email with each link marked by its
// share of the readers who clicked: a document of its own, for the frame on
// the campaign page.
func (a *Admin) campaignClickMap(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	m, err := engage.BuildClickMap(r.Context(), a.d.Store, id)
	if err != nil {
		return err
	}
	// As the composer's preview: no scripts, images from anywhere.
	h := w.Header()
	h.Set("Content-Security-Policy", "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; img-src * data:; style-src 'unsafe-inline'; font-src * data:")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.Write(m.HTML)
	return nil
}
