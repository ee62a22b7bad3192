package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/herald-news/herald/internal/address"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/validator"
)

func (a *Admin) subscribers(w http.ResponseWriter, r *http.Request) error {
	return a.subscribersPage(w, r, http.StatusOK, subscriberIn{}, nil)
}

// subscriberIn is a subscriber form as typed.
type subscriberIn struct{ Email, Name, List, Attributes string }

// subscribersPage shows the subscribers the query asks for and the
// add-a-subscriber form filled with in, and errs beside its fields (status
// 422 then).
func (a *Admin) subscribersPage(w http.ResponseWriter, r *http.Request, status int, in subscriberIn, errs fieldErrors) error {
	ctx := r.Context()
	q := r.URL.Query()
	sq := store.SubscriberQuery{Search: strings.TrimSpace(q.Get("q")), SubStatus: model.SubscriptionStatus(q.Get("substatus")),
		Status: model.SubscriberStatus(q.Get("status")), Limit: 50, Offset: intParam(r, "offset", 0)}
	sq.ListID, _ = strconv.ParseInt(q.Get("list"), 10, 64)
	if sq.SubStatus != "" && !sq.SubStatus.Valid() {
		sq.SubStatus = ""
	}
	if sq.Status != "" && !sq.Status.Valid() {
		sq.Status = ""
	}
	lists, err := a.d.Store.Lists(ctx)
	if err != nil {
		return err
	}
	// A malformed attribute filter shows the page with the error and the
	// filter as typed, to correct; it never lists everyone.
	filterErr := ""
	var subs []model.Subscriber
	var total int64
	sq.Attr, err = store.ParseAttrFilter(q.Get("attr"))
	if err == nil {
		subs, total, err = a.d.Store.SearchSubscribers(ctx, sq)
	}
	switch {
	case errors.Is(err, store.ErrBadFilter):
		status, filterErr = http.StatusBadRequest, a.lang(r).T("admin.audience.filter_bad", "Problem", err.Error())
	case err != nil:
		return err
	}
	keep := url.Values{}
	for _, k := range []string{"q", "list", "substatus", "status", "attr"} {
		if v := q.Get(k); v != "" {
			keep.Set(k, v)
		}
	}
	qs := keep.Encode()
	if qs != "" {
		qs += "&"
	}
	a.page(w, r, status, "subscribers", a.lang(r).T("admin.nav.subscribers"), "subscribers", map[string]any{
		"Subs": subs, "Lists": lists, "Q": q, "Pager": pager{Offset: sq.Offset, Limit: sq.Limit, Total: total, L: a.lang(r)},
		"Keep": template.URL(qs), "FilterErr": filterErr, "In": in, "Errors": errs,
	})
	return nil
}

func (a *Admin) subscriberAdd(w http.ResponseWriter, r *http.Request) error {
	ctx, l := r.Context(), a.lang(r)
	in := subscriberIn{Email: strings.TrimSpace(r.FormValue("email")), Name: strings.TrimSpace(r.FormValue("name")), List: r.FormValue("list")}
	if errs := problems(l, validator.Subscriber(&model.Subscriber{Email: in.Email, Name: in.Name})); errs != nil {
		return a.subscribersPage(w, r, http.StatusUnprocessableEntity, in, errs)
	}
	email, err := address.Normalize(in.Email)
	if err != nil {
		return err
	}
	sub, err := a.d.Store.SubscriberByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		sub = &model.Subscriber{Email: email, Name: in.Name}
		if _, err := a.d.Store.UpsertSubscriber(ctx, sub); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	if listID, _ := strconv.ParseInt(r.FormValue("list"), 10, 64); listID > 0 {
		if err := a.d.Store.SetSubscription(ctx, sub.ID, listID, model.SubConfirmed, model.SourceAdmin); err != nil {
			return err
		}
	}
	return a.redirect(w, r, fmt.Sprintf("/admin/subscribers/%d", sub.ID), l.T("admin.audience.subscriber_saved"), false)
}

func (a *Admin) subscriber(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return a.subscriberPage(w, r, http.StatusOK, id, nil, nil)
}

// subscriberPage shows subscriber id, its form filled with in (nil: as
// stored) and errs beside their fields (status 422 then).
func (a *Admin) subscriberPage(w http.ResponseWriter, r *http.Request, status int, id int64, in *subscriberIn, errs fieldErrors) error {
	ctx := r.Context()
	sub, err := a.d.Store.SubscriberByID(ctx, id)
	if err != nil {
		return err
	}
	subs, err := a.d.Store.Subscriptions(ctx, id)
	if err != nil {
		return err
	}
	hist, err := a.d.Store.SubscriptionHistory(ctx, id)
	if err != nil {
		return err
	}
	lists, err := a.d.Store.Lists(ctx)
	if err != nil {
		return err
	}
	onList := map[int64]string{}
	for _, s := range subs {
		onList[s.ListID] = string(s.Status)
	}
	type listRow struct {
		store.ListStats
		Status string
	}
	var rows []listRow
	for _, l := range lists {
		rows = append(rows, listRow{l, onList[l.ID]})
	}
	attrs, _ := json.MarshalIndent(sub.Attributes, "", "  ")
	if len(sub.Attributes) == 0 {
		attrs = []byte("{}")
	}
	supp, err := a.d.Store.Suppression(ctx, sub.Email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	bounces, err := a.d.Store.BounceEvents(ctx, sub.ID, 0, 20)
	if err != nil {
		return err
	}
	soft, err := a.d.Store.SoftBounceCount(ctx, sub.Email)
	if err != nil {
		return err
	}
	form := subscriberIn{Email: sub.Email, Name: sub.Name, Attributes: string(attrs)}
	if in != nil {
		form = *in
	}
	a.page(w, r, status, "subscriber", sub.Email, "subscribers", map[string]any{
		"S": sub, "Lists": rows, "History": hist, "In": form, "Errors": errs, "Suppression": supp,
		"Bounces": bounces, "SoftBounces": soft, "KindKeys": bounceKindKeys,
	})
	return nil
}

func (a *Admin) subscriberSave(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	sub, err := a.d.Store.SubscriberByID(ctx, id)
	if err != nil {
		return err
	}
	target, l := fmt.Sprintf("/admin/subscribers/%d", id), a.lang(r)
	in := subscriberIn{Email: sub.Email, Name: strings.TrimSpace(r.FormValue("name")), Attributes: r.FormValue("attributes")}
	var attrs map[string]any
	errs := fieldErrors{}
	if raw := strings.TrimSpace(in.Attributes); raw != "" {
		if err := json.Unmarshal([]byte(raw), &attrs); err != nil {
			errs["attributes"] = l.T("admin.audience.attributes_json")
		}
	}
	sub.Name, sub.Attributes = in.Name, attrs
	for f, m := range problems(l, validator.Subscriber(sub)) {
		if _, ok := errs[f]; !ok {
			errs[f] = m
		}
	}
	if len(errs) > 0 {
		return a.subscriberPage(w, r, http.StatusUnprocessableEntity, id, &in, errs)
	}
	if _, err := a.d.Store.UpsertSubscriber(ctx, sub); problems(l, err) != nil {
		return a.subscriberPage(w, r, http.StatusUnprocessableEntity, id, &in, problems(l, err))
	} else if err != nil {
		return err
	}
	current, err := a.d.Store.Subscriptions(ctx, id)
	if err != nil {
		return err
	}
	have := map[int64]model.SubscriptionStatus{}
	for _, s := range current {
		have[s.ListID] = s.Status
	}
	lists, err := a.d.Store.Lists(ctx)
	if err != nil {
		return err
	}
	for _, l := range lists {
		want := model.SubscriptionStatus(r.FormValue(fmt.Sprintf("list_%d", l.ID)))
		if want == "" || !want.Valid() || want == have[l.ID] {
			continue
		}
		if err := a.d.Store.SetSubscription(ctx, id, l.ID, want, model.SourceAdmin); err != nil {
			return err
		}
	}
	return a.redirect(w, r, target, l.T("admin.audience.saved"), false)
}

func (a *Admin) subscriberBlocklist(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	to, msg := model.SubscriberBlocklisted, a.lang(r).T("admin.audience.blocklisted")
	if r.FormValue("unblock") == "1" {
		to, msg = model.SubscriberActive, a.lang(r).T("admin.audience.unblocked")
	}
	if err := a.d.Store.SetSubscriberStatus(r.Context(), id, to); err != nil {
		return err
	}
	return a.redirect(w, r, fmt.Sprintf("/admin/subscribers/%d", id), msg, false)
}

func (a *Admin) subscriberErase(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	sub, err := a.d.Store.SubscriberByID(r.Context(), id)
	if err != nil {
		return err
	}
	if err := a.d.Store.EraseSubscriber(r.Context(), sub.Email); err != nil {
		return err
	}
	return a.redirect(w, r, "/admin/subscribers", a.lang(r).T("admin.audience.erased"), false)
}

// bounceKindKeys name the kinds of bounce report in the catalog.
var bounceKindKeys = map[string]string{
	string(model.EventBounce):     "admin.audience.subscriber.kind_bounce",
	string(model.EventSoftBounce): "admin.audience.subscriber.kind_soft_bounce",
	string(model.EventComplaint):  "admin.audience.subscriber.kind_complaint",
}
