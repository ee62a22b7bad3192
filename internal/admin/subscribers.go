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
	status, filterErr := http.StatusOK, ""
	var subs []model.Subscriber
	var total int64
	sq.Attr, err = store.ParseAttrFilter(q.Get("attr"))
	if err == nil {
		subs, total, err = a.d.Store.SearchSubscribers(ctx, sq)
	}
	switch {
	case errors.Is(err, store.ErrBadFilter):
		status, filterErr = http.StatusBadRequest, "Nobody is listed: "+err.Error()+"."
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
		"Keep": template.URL(qs), "FilterErr": filterErr,
	})
	return nil
}

func (a *Admin) subscriberAdd(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	email, err := address.Normalize(r.FormValue("email"))
	if err != nil {
		return a.redirect(w, r, "/admin/subscribers", "That is not an email address.", true)
	}
	sub, err := a.d.Store.SubscriberByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		sub = &model.Subscriber{Email: email, Name: strings.TrimSpace(r.FormValue("name"))}
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
	return a.redirect(w, r, fmt.Sprintf("/admin/subscribers/%d", sub.ID), "Subscriber saved.", false)
}

func (a *Admin) subscriber(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
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
	status := map[int64]string{}
	for _, s := range subs {
		status[s.ListID] = string(s.Status)
	}
	type listRow struct {
		store.ListStats
		Status string
	}
	var rows []listRow
	for _, l := range lists {
		rows = append(rows, listRow{l, status[l.ID]})
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
	a.page(w, r, http.StatusOK, "subscriber", sub.Email, "subscribers", map[string]any{
		"S": sub, "Lists": rows, "History": hist, "Attrs": string(attrs), "Suppression": supp,
		"Bounces": bounces, "SoftBounces": soft,
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
	target := fmt.Sprintf("/admin/subscribers/%d", id)
	var attrs map[string]any
	if raw := strings.TrimSpace(r.FormValue("attributes")); raw != "" {
		if err := json.Unmarshal([]byte(raw), &attrs); err != nil {
			return a.redirect(w, r, target, "Attributes must be a JSON object, such as {\"city\": \"Leeds\"}.", true)
		}
	}
	sub.Name, sub.Attributes = strings.TrimSpace(r.FormValue("name")), attrs
	if _, err := a.d.Store.UpsertSubscriber(ctx, sub); validator.As(err) != nil {
		return a.redirect(w, r, target, "Not saved: "+validator.As(err).Message, true)
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
	return a.redirect(w, r, target, "Saved.", false)
}

func (a *Admin) subscriberBlocklist(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	to, msg := model.SubscriberBlocklisted, "Blocklisted: no campaign will mail this address."
	if r.FormValue("unblock") == "1" {
		to, msg = model.SubscriberActive, "Active again."
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
	return a.redirect(w, r, "/admin/subscribers", "Erased. Their personal data is gone; a suppression, if any, stays.", false)
}
