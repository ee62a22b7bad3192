package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/herald-news/herald/client"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/engage"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/precheck"
)

func campaignOut(c *model.Campaign) client.Campaign {
	out := client.Campaign{ID: c.ID, Name: c.Name, EditionID: c.EditionID, ListIDs: c.ListIDs, SegmentIDs: c.SegmentIDs, Status: string(c.Status), From: c.From,
		ReplyTo: c.ReplyTo, Tracking: c.Tracking, PublishOnStart: c.PublishOnStart, Total: c.Total, CreatedAt: c.CreatedAt,
		Problem: c.Problem}
	if out.ListIDs == nil {
		out.ListIDs = []int64{}
	}
	if out.SegmentIDs == nil {
		out.SegmentIDs = []int64{}
	}
	out.LocalTime, out.ABWinner = c.LocalTime, c.ABWinner
	if t := c.AB; t != nil {
		out.ABTest = &client.ABTest{SamplePercent: t.SamplePercent, WaitMinutes: int(t.Wait / time.Minute), Metric: string(t.Metric)}
		for _, v := range t.Variants {
			out.ABTest.Variants = append(out.ABTest.Variants, client.ABVariant{Subject: v.Subject, Preheader: v.Preheader})
		}
	}
	if !c.SendAt.IsZero() {
		t := c.SendAt
		out.SendAt = &t
	}
	if !c.StartedAt.IsZero() {
		t := c.StartedAt
		out.StartedAt = &t
	}
	if !c.DoneAt.IsZero() {
		t := c.DoneAt
		out.DoneAt = &t
	}
	return out
}

func (a *API) listCampaigns(w http.ResponseWriter, r *http.Request) error {
	limit, offset := paging(r)
	cs, err := a.d.Store.CampaignSummaries(r.Context(), limit, offset)
	if err != nil {
		return err
	}
	total, err := a.d.Store.CountCampaigns(r.Context())
	if err != nil {
		return err
	}
	out := client.Page[client.Campaign]{Data: []client.Campaign{}, Total: total, Limit: limit, Offset: offset}
	for _, c := range cs {
		full, err := a.d.Store.Campaign(r.Context(), c.ID)
		if err != nil {
			return err
		}
		out.Data = append(out.Data, campaignOut(full))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) createCampaign(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var in client.CampaignInput
	if err := decode(r, &in); err != nil {
		return err
	}
	c := &model.Campaign{Name: strings.TrimSpace(in.Name), EditionID: in.EditionID, ListIDs: in.ListIDs, SegmentIDs: in.SegmentIDs, From: in.From, ReplyTo: in.ReplyTo,
		Tracking: true, PublishOnStart: in.PublishOnStart}
	if in.Tracking != nil {
		c.Tracking = *in.Tracking
	}
	if in.SendAt != nil {
		c.SendAt = in.SendAt.UTC()
	}
	c.LocalTime = in.LocalTime
	if t := in.ABTest; t != nil {
		c.AB = &model.ABTest{SamplePercent: t.SamplePercent, Wait: time.Duration(t.WaitMinutes) * time.Minute, Metric: model.ABMetric(t.Metric)}
		for _, v := range t.Variants {
			c.AB.Variants = append(c.AB.Variants, model.Variant{Subject: strings.TrimSpace(v.Subject), Preheader: strings.TrimSpace(v.Preheader)})
		}
	}
	if c.PublishOnStart && !identity(r).Can(auth.Publish) {
		return &apiError{status: http.StatusForbidden, code: "forbidden", msg: "publish_on_start needs the publish permission."}
	}
	if err := delivery.CreateCampaign(ctx, a.d.Store, c, a.d.From); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, campaignOut(c))
}

func (a *API) loadCampaign(r *http.Request) (*model.Campaign, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	return a.d.Store.Campaign(r.Context(), id)
}

func (a *API) getCampaign(w http.ResponseWriter, r *http.Request) error {
	c, err := a.loadCampaign(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, campaignOut(c))
}

// act runs a campaign action and answers with the campaign as it is now.
func (a *API) act(w http.ResponseWriter, r *http.Request, fn func(ctx context.Context, c *model.Campaign) error) error {
	c, err := a.loadCampaign(r)
	if err != nil {
		return err
	}
	if err := fn(r.Context(), c); err != nil {
		return err
	}
	if c, err = a.d.Store.Campaign(r.Context(), c.ID); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, campaignOut(c))
}

func (a *API) startCampaign(w http.ResponseWriter, r *http.Request) error {
	var in client.StartOptions
	if r.ContentLength != 0 { // no body: start at once, as before
		if err := decode(r, &in); err != nil {
			return err
		}
	}
	start := a.changeStatus(delivery.Start, nil)
	return a.act(w, r, func(ctx context.Context, c *model.Campaign) error {
		if in.Precheck && !in.AcknowledgeWarnings && (c.Status == model.CampaignDraft || c.Status == model.CampaignScheduled) {
			rep, err := a.checks(ctx, c)
			if err != nil {
				return err
			}
			if !rep.OK() {
				return &apiError{status: http.StatusConflict, code: "precheck_warnings", msg: fmt.Sprintf(
					"The pre-send checks have %d warning(s), the first: %s. See GET /api/campaigns/%d/precheck; start with acknowledge_warnings to send anyway.",
					len(rep.Findings), rep.Findings[0].Message, c.ID)}
			}
		}
		return start(ctx, c)
	})
}

// checks runs the pre-send checks on a campaign's edition.
func (a *API) checks(ctx context.Context, c *model.Campaign) (precheck.Report, error) {
	rep, err := a.d.Precheck.Check(ctx, c.EditionID)
	if errors.Is(err, precheck.ErrNoChecker) {
		return rep, &apiError{status: http.StatusNotFound, code: "not_found", msg: "The pre-send checks are not set up on this server."}
	}
	return rep, err
}

func (a *API) precheckCampaign(w http.ResponseWriter, r *http.Request) error {
	c, err := a.loadCampaign(r)
	if err != nil {
		return err
	}
	rep, err := a.checks(r.Context(), c)
	if err != nil {
		return err
	}
	out := client.Precheck{HTMLBytes: rep.HTMLBytes, Took: int64(rep.Took), Findings: []client.PrecheckFinding{},
		Links: []client.PrecheckFetch{}, Images: []client.PrecheckFetch{}}
	for _, f := range rep.Findings {
		out.Findings = append(out.Findings, client.PrecheckFinding{Check: f.Check, Message: f.Message, URL: f.URL})
	}
	fetch := func(f precheck.Fetch) client.PrecheckFetch {
		return client.PrecheckFetch{URL: f.URL, Text: f.Text, Status: f.Status, Redirects: f.Redirects, Problem: f.Problem}
	}
	for _, f := range rep.Links {
		out.Links = append(out.Links, fetch(f))
	}
	for _, f := range rep.Images {
		out.Images = append(out.Images, fetch(f))
	}
	return writeJSON(w, http.StatusOK, out)
}

// changeStatus makes a status change through delivery.ChangeStatus; at,
// when set, reads Schedule's send time.
func (a *API) changeStatus(act delivery.Action, at func() time.Time) func(ctx context.Context, c *model.Campaign) error {
	return func(ctx context.Context, c *model.Campaign) error {
		var when time.Time
		if at != nil {
			when = at()
		}
		ch, err := delivery.ChangeStatus(ctx, a.d.Store, a.d.Engine, c.ID, act, when)
		if errors.Is(err, delivery.ErrNotSending) {
			return &apiError{status: http.StatusConflict, code: "not_sending", msg: "Sending is not running on this server."}
		}
		if ch.InFlight > 0 {
			// Answered once nothing of the campaign is in flight: what the
			// caller sees as sent afterwards is final.
			a.d.Log.Warn("campaign halted with mail still in flight on a node that did not answer", "campaign", c.ID, "rows", ch.InFlight)
		}
		return err
	}
}

func (a *API) pauseCampaign(w http.ResponseWriter, r *http.Request) error {
	return a.act(w, r, a.changeStatus(delivery.Pause, nil))
}

func (a *API) resumeCampaign(w http.ResponseWriter, r *http.Request) error {
	return a.act(w, r, a.changeStatus(delivery.Resume, nil))
}

func (a *API) cancelCampaign(w http.ResponseWriter, r *http.Request) error {
	return a.act(w, r, a.changeStatus(delivery.Cancel, nil))
}

func (a *API) scheduleCampaign(w http.ResponseWriter, r *http.Request) error {
	var in client.Schedule
	if err := decode(r, &in); err != nil {
		return err
	}
	return a.act(w, r, a.changeStatus(delivery.Schedule, func() time.Time {
		if in.SendAt == nil {
			return time.Time{}
		}
		return *in.SendAt
	}))
}

func (a *API) campaignStats(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := a.loadCampaign(r)
	if err != nil {
		return err
	}
	p, err := a.d.Store.CampaignProgress(ctx, c.ID)
	if err != nil {
		return err
	}
	ev, err := a.d.Store.CampaignEventCounts(ctx, c.ID)
	if err != nil {
		return err
	}
	series, err := a.d.Store.EventSeries(ctx, c.ID, false)
	if err != nil {
		return err
	}
	links, err := a.d.Store.TopLinks(ctx, c.ID, 20)
	if err != nil {
		return err
	}
	out := client.Stats{Status: string(c.Status),
		Progress: client.Progress{Total: p.Total, Pending: p.Pending, Sending: p.Sending, Sent: p.Sent, Deferred: p.Deferred,
			Failed: p.Failed, Skipped: p.Skipped, Done: c.Status.Final() && p.Sending == 0},
		Opens: ev.Total[model.EventOpen], UniqueOpens: ev.Unique[model.EventOpen],
		Clicks: ev.Total[model.EventClick], UniqueClicks: ev.Unique[model.EventClick],
		HumanOpens: ev.Human(model.EventOpen), MachineOpens: ev.UniqueBy[model.ClassMachine][model.EventOpen],
		PrivacyOpens: ev.UniqueBy[model.ClassPrivacy][model.EventOpen],
		HumanClicks:  ev.Human(model.EventClick), MachineClicks: ev.UniqueBy[model.ClassMachine][model.EventClick],
		Bounces: ev.Total[model.EventBounce], Complaints: ev.Total[model.EventComplaint], Unsubscribes: ev.Total[model.EventUnsubscribe],
		Series: []client.SeriesPoint{}, TopLinks: []client.LinkCount{}}
	for _, s := range series {
		out.Series = append(out.Series, client.SeriesPoint{At: s.At, Kind: string(s.Kind), Count: s.Count})
	}
	for _, l := range links {
		out.TopLinks = append(out.TopLinks, client.LinkCount{URL: l.URL, Clicks: l.Clicks, Unique: l.Unique, Human: l.Human, Machine: l.Machine})
	}
	waiting, err := a.d.Store.WaitingByHour(ctx, c.ID)
	if err != nil {
		return err
	}
	out.Waiting = []client.HourCount{}
	for _, h := range waiting {
		out.Waiting = append(out.Waiting, client.HourCount{Hour: h.Hour, Rows: h.Rows})
	}
	if c.AB != nil {
		results, held, err := a.d.Store.ABResults(ctx, c.ID)
		if err != nil {
			return err
		}
		out.ABHeld = held
		for _, v := range results {
			out.AB = append(out.AB, client.ABResult{Variant: v.Variant, Subject: v.Subject, Preheader: v.Preheader, Recipients: v.Recipients,
				Sent: v.Sent, UniqueOpens: v.Opens, UniqueClicks: v.Clicks})
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// exportCampaign streams one part of a campaign's engagement as CSV.
func (a *API) exportCampaign(w http.ResponseWriter, r *http.Request) error {
	c, err := a.loadCampaign(r)
	if err != nil {
		return err
	}
	part := r.URL.Query().Get("part")
	if err := engage.CheckPart(part); err != nil {
		return &apiError{status: http.StatusBadRequest, code: "invalid", msg: "No such export: part is summary, links, events or feedback."}
	}
	return engage.Download(w, r, a.d.Store, c.ID, part)
}
