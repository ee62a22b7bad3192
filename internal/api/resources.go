package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/herald-news/herald/client"
	"github.com/herald-news/herald/internal/address"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/edition"
	"github.com/herald-news/herald/internal/importer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/validator"
)

func (a *API) me(w http.ResponseWriter, r *http.Request) error {
	id := identity(r)
	return writeJSON(w, http.StatusOK, client.Me{Email: id.User.Email, Name: id.User.Name, Role: string(id.Role)})
}

// Lists.

func listOut(l store.ListStats) client.List {
	out := client.List{ID: l.ID, Slug: l.Slug, Name: l.Name, Description: l.Description, OptIn: string(l.OptIn), Public: l.Public, Language: l.Language,
		Confirmed: l.Confirmed, Unconfirmed: l.Unconfirmed, Unsubscribed: l.Unsubscribed, CreatedAt: l.CreatedAt}
	if b := l.Brand; b != nil {
		out.Brand = &client.Brand{Name: b.Name, LogoURL: b.LogoURL, Accent: b.Colors.Accent, Background: b.Colors.Background,
			ThemeDir: b.ThemeDir, From: b.From, ReplyTo: b.ReplyTo, PostalAddress: b.PostalAddress}
	}
	return out
}

func (a *API) findList(r *http.Request, id int64) (client.List, error) {
	ls, err := a.d.Store.Lists(r.Context())
	if err != nil {
		return client.List{}, err
	}
	for _, l := range ls {
		if l.ID == id {
			return listOut(l), nil
		}
	}
	return client.List{}, fmt.Errorf("list %d: %w", id, store.ErrNotFound)
}

func (a *API) listLists(w http.ResponseWriter, r *http.Request) error {
	ls, err := a.d.Store.Lists(r.Context())
	if err != nil {
		return err
	}
	out := client.Page[client.List]{Data: []client.List{}, Total: int64(len(ls)), Limit: len(ls)}
	for _, l := range ls {
		out.Data = append(out.Data, listOut(l))
	}
	return writeJSON(w, http.StatusOK, out)
}

// applyList copies the input onto l; the store checks it (validator.List).
func applyList(in client.ListInput, l *model.List) {
	l.Name, l.Description, l.Public = strings.TrimSpace(in.Name), in.Description, in.Public
	if in.Language != nil {
		l.Language = *in.Language
	}
	if b := in.Brand; b != nil {
		l.Brand = &model.Brand{Name: b.Name, LogoURL: b.LogoURL, Colors: model.Colors{Accent: b.Accent, Background: b.Background},
			ThemeDir: b.ThemeDir, From: b.From, ReplyTo: b.ReplyTo, PostalAddress: b.PostalAddress}
	}
	l.OptIn = model.OptIn(in.OptIn)
	if l.OptIn == "" {
		l.OptIn = model.OptInSingle
	}
}

func (a *API) createList(w http.ResponseWriter, r *http.Request) error {
	var in client.ListInput
	if err := decode(r, &in); err != nil {
		return err
	}
	l := &model.List{Slug: in.Slug}
	applyList(in, l)
	if err := a.d.Store.CreateList(r.Context(), l); err != nil {
		return err
	}
	out, err := a.findList(r, l.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (a *API) getList(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	out, err := a.findList(r, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) updateList(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in client.ListInput
	if err := decode(r, &in); err != nil {
		return err
	}
	l, err := a.d.Store.ListByID(r.Context(), id)
	if err != nil {
		return err
	}
	applyList(in, l)
	if err := a.d.Store.UpdateList(r.Context(), l); err != nil {
		return err
	}
	out, err := a.findList(r, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) deleteList(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := a.d.Store.ListByID(r.Context(), id); err != nil {
		return err
	}
	if err := a.d.Store.DeleteList(r.Context(), id); err != nil {
		return &apiError{status: http.StatusConflict, code: "in_use", msg: "The list cannot be deleted while a campaign refers to it."}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// exportList streams a list's subscribers as CSV, as herald export does:
// everyone, or one subscription status, and of them those with an
// attribute (attr=name=value).
func (a *API) exportList(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	l, err := a.d.Store.ListByID(r.Context(), id)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f, err := importer.ExportFilterFor(l.ID, q.Get("status"), q.Get("attr"))
	switch {
	case errors.Is(err, store.ErrBadFilter):
		return err // 400 bad_filter, as for a listing
	case err != nil:
		return &apiError{status: http.StatusBadRequest, code: "invalid", msg: err.Error()}
	}
	_, err = importer.Download(w, r, a.d.Store, f, l.Slug+".csv")
	return err
}

// Subscribers.

func (a *API) subscriberOut(r *http.Request, s *model.Subscriber, withLists bool) (client.Subscriber, error) {
	out := client.Subscriber{ID: s.ID, Email: s.Email, Name: s.Name, Attributes: s.Attributes, Status: string(s.Status),
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
	if out.Attributes == nil {
		out.Attributes = map[string]any{}
	}
	if withLists {
		subs, err := a.d.Store.Subscriptions(r.Context(), s.ID)
		if err != nil {
			return out, err
		}
		for _, sp := range subs {
			out.Lists = append(out.Lists, client.Subscription{ListID: sp.ListID, List: sp.ListSlug, Status: string(sp.Status)})
		}
	}
	return out, nil
}

func (a *API) listSubscribers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, offset := paging(r)
	sq := store.SubscriberQuery{Search: q.Get("q"), SubStatus: model.SubscriptionStatus(q.Get("substatus")),
		Status: model.SubscriberStatus(q.Get("status")), Limit: limit, Offset: offset}
	sq.ListID, _ = strconv.ParseInt(q.Get("list"), 10, 64)
	var err error
	if sq.Attr, err = store.ParseAttrFilter(q.Get("attr")); err != nil {
		return err
	}
	if (sq.SubStatus != "" && !sq.SubStatus.Valid()) || (sq.Status != "" && !sq.Status.Valid()) {
		return invalid("unknown status filter")
	}
	subs, total, err := a.d.Store.SearchSubscribers(r.Context(), sq)
	if err != nil {
		return err
	}
	out := client.Page[client.Subscriber]{Data: []client.Subscriber{}, Total: total, Limit: limit, Offset: offset}
	for i := range subs {
		s, _ := a.subscriberOut(r, &subs[i], false)
		out.Data = append(out.Data, s)
	}
	return writeJSON(w, http.StatusOK, out)
}

// upsert creates or updates a subscriber from input and applies its
// subscriptions.
func (a *API) upsert(r *http.Request, in client.SubscriberInput) (*model.Subscriber, bool, error) {
	if err := validator.Subscriber(&model.Subscriber{Email: in.Email}); err != nil {
		return nil, false, err
	}
	email, err := address.Normalize(in.Email)
	if err != nil {
		return nil, false, err
	}
	sub, err := a.d.Store.SubscriberByEmail(r.Context(), email)
	if errors.Is(err, store.ErrNotFound) {
		sub = &model.Subscriber{Email: email}
	} else if err != nil {
		return nil, false, err
	}
	if in.Name != "" {
		sub.Name = in.Name
	}
	if in.Attributes != nil {
		sub.Attributes = in.Attributes
	}
	if in.Status != "" {
		sub.Status = model.SubscriberStatus(in.Status)
	}
	if err := validator.Subscriber(sub); err != nil {
		return nil, false, err
	}
	created, err := a.d.Store.UpsertSubscriber(r.Context(), sub)
	if err != nil {
		return nil, false, err
	}
	if err := a.applySubscriptions(r, sub.ID, in.Subscriptions); err != nil {
		return nil, false, err
	}
	return sub, created, nil
}

func (a *API) applySubscriptions(r *http.Request, id int64, subs []client.SubscriptionInput) error {
	for _, s := range subs {
		st := model.SubscriptionStatus(s.Status)
		if st == "" {
			st = model.SubConfirmed
		}
		if !st.Valid() {
			return invalid("subscription status must be confirmed, unconfirmed or unsubscribed")
		}
		if _, err := a.d.Store.ListByID(r.Context(), s.ListID); err != nil {
			return invalid("list %d does not exist", s.ListID)
		}
		if err := a.d.Store.SetSubscription(r.Context(), id, s.ListID, st, model.SourceAPI); err != nil {
			return err
		}
	}
	return nil
}

func (a *API) createSubscriber(w http.ResponseWriter, r *http.Request) error {
	var in client.SubscriberInput
	if err := decode(r, &in); err != nil {
		return err
	}
	sub, created, err := a.upsert(r, in)
	if err != nil {
		return err
	}
	out, err := a.subscriberOut(r, sub, true)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return writeJSON(w, status, out)
}

// pathSubscriber loads the subscriber named by the {id} in the path.
func (a *API) pathSubscriber(r *http.Request) (*model.Subscriber, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	return a.d.Store.SubscriberByID(r.Context(), id)
}

func (a *API) getSubscriber(w http.ResponseWriter, r *http.Request) error {
	sub, err := a.pathSubscriber(r)
	if err != nil {
		return err
	}
	out, err := a.subscriberOut(r, sub, true)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) patchSubscriber(w http.ResponseWriter, r *http.Request) error {
	sub, err := a.pathSubscriber(r)
	if err != nil {
		return err
	}
	var in client.SubscriberInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Email != "" && !strings.EqualFold(in.Email, sub.Email) {
		return invalid("the email of a subscriber cannot change; create a new one")
	}
	in.Email = sub.Email
	if sub, _, err = a.upsert(r, in); err != nil {
		return err
	}
	out, err := a.subscriberOut(r, sub, true)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) eraseSubscriber(w http.ResponseWriter, r *http.Request) error {
	sub, err := a.pathSubscriber(r)
	if err != nil {
		return err
	}
	if err := a.d.Store.EraseSubscriber(r.Context(), sub.Email); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// maxBulk bounds one bulk request.
const maxBulk = 10000

func (a *API) bulk(w http.ResponseWriter, r *http.Request) error {
	var in client.BulkRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if len(in.Emails)+len(in.Subscribers) > maxBulk {
		return invalid("at most %d addresses per request", maxBulk)
	}
	ctx := r.Context()
	res := client.BulkResult{Failed: []client.BulkFailure{}}
	fail := func(email string, err error) {
		var ae *apiError
		msg := "could not be changed"
		if errors.As(err, &ae) {
			msg = ae.msg
		} else if ve := validator.As(err); ve != nil {
			msg = ve.Message
		} else if errors.Is(err, store.ErrNotFound) {
			msg = "no such subscriber"
		} else if errors.Is(err, store.ErrErased) {
			msg = erasedMessage
		} else {
			a.d.Log.Error("bulk action", "action", in.Action, "err", err)
		}
		res.Failed = append(res.Failed, client.BulkFailure{Email: email, Error: msg})
	}
	needList := in.Action == "subscribe" || in.Action == "unsubscribe"
	if needList || (in.Action == "upsert" && in.ListID != 0) {
		if _, err := a.d.Store.ListByID(ctx, in.ListID); err != nil {
			return invalid("list_id must name a list")
		}
	}
	switch in.Action {
	case "upsert":
		for _, s := range in.Subscribers {
			if in.ListID != 0 {
				s.Subscriptions = append(s.Subscriptions, client.SubscriptionInput{ListID: in.ListID, Status: "confirmed"})
			}
			if _, _, err := a.upsert(r, s); err != nil {
				fail(s.Email, err)
				continue
			}
			res.Done++
		}
	case "subscribe", "unsubscribe", "blocklist", "unblock", "erase":
		for _, e := range in.Emails {
			email, err := address.Normalize(e)
			if err != nil {
				fail(e, invalid("not an email address"))
				continue
			}
			sub, err := a.d.Store.SubscriberByEmail(ctx, email)
			if errors.Is(err, store.ErrNotFound) && in.Action == "subscribe" {
				sub = &model.Subscriber{Email: email}
				_, err = a.d.Store.UpsertSubscriber(ctx, sub)
			}
			if err != nil {
				fail(e, err)
				continue
			}
			switch in.Action {
			case "subscribe":
				err = a.d.Store.SetSubscription(ctx, sub.ID, in.ListID, model.SubConfirmed, model.SourceAPI)
			case "unsubscribe":
				err = a.d.Store.SetSubscription(ctx, sub.ID, in.ListID, model.SubUnsubscribed, model.SourceAPI)
			case "blocklist":
				err = a.d.Store.SetSubscriberStatus(ctx, sub.ID, model.SubscriberBlocklisted)
			case "unblock":
				err = a.d.Store.SetSubscriberStatus(ctx, sub.ID, model.SubscriberActive)
			case "erase":
				err = a.d.Store.EraseSubscriber(ctx, email)
			}
			if err != nil {
				fail(e, err)
				continue
			}
			res.Done++
		}
	default:
		return invalid("action must be upsert, subscribe, unsubscribe, blocklist, unblock or erase")
	}
	return writeJSON(w, http.StatusOK, res)
}

// Imports.

// maxRejectsReturned bounds the rejected rows an import answers with.
const maxRejectsReturned = 1000

func (a *API) importCSV(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	listID, _ := strconv.ParseInt(q.Get("list"), 10, 64)
	if _, err := a.d.Store.ListByID(r.Context(), listID); err != nil {
		return invalid("list must name a list")
	}
	opt := importer.Options{ListID: listID, Mode: store.ImportUpsert, Observer: a.d.ImportObserver}
	switch q.Get("mode") {
	case "", string(store.ImportUpsert):
	case string(store.ImportSkipExisting):
		opt.Mode = store.ImportSkipExisting
	default:
		return invalid("mode must be upsert or skip-existing")
	}
	switch st := model.SubscriptionStatus(q.Get("status")); st {
	case "":
	case model.SubConfirmed, model.SubUnconfirmed:
		opt.Status = st
	default:
		return invalid("status must be confirmed or unconfirmed")
	}
	out := client.ImportResult{Rejects: []client.Reject{}}
	opt.OnReject = func(rj importer.Reject) error {
		if len(out.Rejects) < maxRejectsReturned {
			out.Rejects = append(out.Rejects, client.Reject{Line: rj.Line, Reason: rj.Reason, Fields: rj.Fields})
		}
		return nil
	}
	res, err := importer.Import(r.Context(), r.Body, a.d.Store, opt)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		if errors.Is(err, importer.ErrRecordTooLarge) {
			return invalid("a row is too large; rows already imported stay")
		}
		return err
	}
	out.Rows, out.Imported, out.Updated, out.Skipped, out.Suppressed, out.Rejected = res.Rows, res.Imported, res.Updated, res.Skipped, res.Suppressed, res.Rejected
	return writeJSON(w, http.StatusOK, out)
}

// Editions.

func (a *API) listEditions(w http.ResponseWriter, r *http.Request) error {
	limit, offset := paging(r)
	eds, err := a.d.Store.ListEditions(r.Context(), store.EditionFilter{Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	total, err := a.d.Store.CountEditions(r.Context())
	if err != nil {
		return err
	}
	out := client.Page[client.Edition]{Data: []client.Edition{}, Total: total, Limit: limit, Offset: offset}
	for _, e := range eds {
		out.Data = append(out.Data, editionOut(e))
	}
	return writeJSON(w, http.StatusOK, out)
}

// checkDraft refuses what the format cannot hold; drafts may be incomplete.
func checkEdition(e *model.Edition) error {
	if e.Slug == "" {
		e.Slug = edition.DefaultSlug(e.Date, e.Slot)
	}
	if e.Date == "" {
		return invalid("date is required (YYYY-MM-DD)")
	}
	if _, err := time.Parse("2006-01-02", e.Date); err != nil {
		return invalid("date must be YYYY-MM-DD")
	}
	for i, s := range e.Sections {
		if !s.Kind.Valid() {
			return invalid("section %d: unknown kind %q", i+1, s.Kind)
		}
	}
	return nil
}

func (a *API) createEdition(w http.ResponseWriter, r *http.Request) error {
	var in client.Edition
	if err := decode(r, &in); err != nil {
		return err
	}
	e := editionIn(&in)
	if err := checkEdition(e); err != nil {
		return err
	}
	e.ID, e.Status = 0, model.EditionDraft
	if err := a.d.Store.CreateEdition(r.Context(), e, identity(r).User.Email); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, editionOut(e))
}

// pathEdition loads the edition named by the {id} in the path.
func (a *API) pathEdition(r *http.Request) (*model.Edition, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	return a.d.Store.GetEdition(r.Context(), id)
}

func (a *API) getEdition(w http.ResponseWriter, r *http.Request) error {
	e, err := a.pathEdition(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, editionOut(e))
}

func (a *API) updateEdition(w http.ResponseWriter, r *http.Request) error {
	old, err := a.pathEdition(r)
	if err != nil {
		return err
	}
	if old.Status == model.EditionPublished && !identity(r).Can(auth.Publish) {
		return &apiError{status: http.StatusForbidden, code: "forbidden", msg: "Only editors and owners can change a published edition."}
	}
	var in client.Edition
	if err := decode(r, &in); err != nil {
		return err
	}
	e := editionIn(&in)
	e.Slug = edition.FollowSlot(e.Slug, old.Date, old.Slot, e.Date, e.Slot)
	if err := checkEdition(e); err != nil {
		return err
	}
	e.ID = old.ID
	if err := a.d.Store.UpdateEdition(r.Context(), e, identity(r).User.Email); err != nil {
		return err
	}
	saved, err := a.d.Store.GetEdition(r.Context(), old.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, editionOut(saved))
}

func (a *API) editionRevisions(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	revs, err := a.d.Store.EditionRevisions(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, convert(revs, revisionOut))
}

func (a *API) publishEdition(w http.ResponseWriter, r *http.Request) error {
	e, err := a.pathEdition(r)
	if err != nil {
		return err
	}
	if ps := edition.Validate(e); len(ps) > 0 {
		return invalid("the edition has problems: %s", ps.Error())
	}
	if err := a.d.Store.SetEditionStatus(r.Context(), e.ID, model.EditionPublished); err != nil {
		return err
	}
	if e, err = a.d.Store.GetEdition(r.Context(), e.ID); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, editionOut(e))
}

// Suppressions.

func (a *API) listSuppressions(w http.ResponseWriter, r *http.Request) error {
	limit, offset := paging(r)
	items, err := a.d.Store.Suppressions(r.Context(), offset, limit)
	if err != nil {
		return err
	}
	total, err := a.d.Store.CountSuppressions(r.Context())
	if err != nil {
		return err
	}
	out := client.Page[client.Suppression]{Data: []client.Suppression{}, Total: total, Limit: limit, Offset: offset}
	for _, s := range items {
		out.Data = append(out.Data, client.Suppression{Email: s.Email, Reason: string(s.Reason), Detail: s.Detail, CreatedAt: s.CreatedAt})
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) suppress(w http.ResponseWriter, r *http.Request) error {
	var in client.SuppressionInput
	if err := decode(r, &in); err != nil {
		return err
	}
	email, err := address.Normalize(in.Email)
	if err != nil {
		return invalid("email: %s", err.Error())
	}
	if err := a.d.Store.Suppress(r.Context(), email, model.SuppressManual, in.Detail); err != nil {
		return err
	}
	s, err := a.d.Store.Suppression(r.Context(), email)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, client.Suppression{Email: s.Email, Reason: string(s.Reason), Detail: s.Detail, CreatedAt: s.CreatedAt})
}

func (a *API) unsuppress(w http.ResponseWriter, r *http.Request) error {
	email, err := address.Normalize(r.PathValue("email"))
	if err != nil {
		return &apiError{status: http.StatusNotFound, code: "not_found", msg: "Not found."}
	}
	if err := a.d.Store.Unsuppress(r.Context(), email); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
