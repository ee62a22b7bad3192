package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/token"
	"github.com/herald-news/herald/internal/validator"
)

// prefSubscriber verifies a preference-centre token and loads its
// subscriber; an erased subscriber's link no longer works.
func (s *Server) prefSubscriber(w http.ResponseWriter, r *http.Request) *model.Subscriber {
	c, err := s.signer.Verify(r.PathValue("token"), token.Preferences, now())
	if err != nil {
		s.badToken(w, r)
		return nil
	}
	sub, err := s.store.SubscriberByID(r.Context(), c.SubscriberID)
	if errors.Is(err, store.ErrNotFound) {
		s.badToken(w, r)
		return nil
	}
	if err != nil {
		s.serverError(w, r, "read subscriber", err)
		return nil
	}
	return sub
}

type prefList struct {
	model.List
	Checked bool
}

// prefLists returns the lists a subscriber may choose from: every public
// list and every list they are on, with their current choice.
func (s *Server) prefLists(r *http.Request, subscriberID int64) ([]prefList, error) {
	lists, err := s.store.Lists(r.Context())
	if err != nil {
		return nil, err
	}
	subs, err := s.store.Subscriptions(r.Context(), subscriberID)
	if err != nil {
		return nil, err
	}
	status := map[int64]model.SubscriptionStatus{}
	for _, sub := range subs {
		status[sub.ListID] = sub.Status
	}
	var out []prefList
	for _, l := range lists {
		st, on := status[l.ID]
		if !l.Public && !on {
			continue
		}
		out = append(out, prefList{List: l.List, Checked: on && st != model.SubUnsubscribed})
	}
	return out, nil
}

func (s *Server) preferencesPage(w http.ResponseWriter, r *http.Request) {
	sub := s.prefSubscriber(w, r)
	if sub == nil {
		return
	}
	lists, err := s.prefLists(r, sub.ID)
	if err != nil {
		s.serverError(w, r, "read lists", err)
		return
	}
	lang := s.forReader(r, subscribed(lists))
	saved := ""
	if r.URL.Query().Get("saved") == "1" {
		saved = lang.T("preferences.saved")
	}
	csrf := s.csrfToken(w, r)
	s.render(w, r, http.StatusOK, "preferences", view{L: lang, Title: lang.T("preferences.title"), NoIndex: true, CSRF: csrf, Data: struct {
		Token, Email, Name, Saved string
		Lists                     []prefList
	}{r.PathValue("token"), sub.Email, sub.Name, saved, lists}})
}

// subscribed returns the lists of a reader's choice that they are on.
func subscribed(lists []prefList) []*model.List {
	var out []*model.List
	for i := range lists {
		if lists[i].Checked {
			out = append(out, &lists[i].List)
		}
	}
	return out
}

func (s *Server) preferencesPost(w http.ResponseWriter, r *http.Request) {
	if s.limited(w, r) {
		return
	}
	if !parseForm(w, r) || !s.csrfOK(r) {
		s.badCSRF(w, r)
		return
	}
	sub := s.prefSubscriber(w, r)
	if sub == nil {
		return
	}
	ctx := r.Context()
	if name := cleanName(r.PostFormValue("name")); name != sub.Name {
		if err := s.store.SetSubscriberName(ctx, sub.ID, name); validator.As(err) != nil {
			s.badName(w, r, err, "/preferences/"+r.PathValue("token"))
			return
		} else if err != nil {
			s.serverError(w, r, "rename subscriber", err)
			return
		}
	}
	lists, err := s.prefLists(r, sub.ID)
	if err != nil {
		s.serverError(w, r, "read lists", err)
		return
	}
	var want []int64
	for _, v := range r.PostForm["list"] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			want = append(want, id)
		}
	}
	var leave []int64
	for _, l := range lists {
		on := slices.Contains(want, l.ID)
		switch {
		case on && !l.Checked:
			// The link in their own mailbox proves the address: no
			// second confirmation needed, whatever the list's opt-in.
			if err := s.store.SetSubscription(ctx, sub.ID, l.ID, model.SubConfirmed, model.SourceForm); err != nil {
				s.serverError(w, r, "subscribe", err)
				return
			}
		case !on && l.Checked:
			leave = append(leave, l.ID)
		}
	}
	if len(leave) > 0 {
		if _, err := s.store.Unsubscribe(ctx, sub.ID, leave, model.SourceForm); err != nil {
			s.serverError(w, r, "unsubscribe", err)
			return
		}
		s.events.Add(model.Event{Kind: model.EventUnsubscribe, SubscriberID: sub.ID, At: time.Now().UTC()})
	}
	http.Redirect(w, r, "/preferences/"+r.PathValue("token")+"?saved=1", http.StatusSeeOther)
}

// dataExport is "download my data": everything stored about a subscriber.
type dataExport struct {
	Email         string                     `json:"email"`
	Name          string                     `json:"name"`
	Attributes    map[string]any             `json:"attributes,omitempty"`
	Status        model.SubscriberStatus     `json:"status"`
	CreatedAt     time.Time                  `json:"created_at"`
	UpdatedAt     time.Time                  `json:"updated_at"`
	Subscriptions []exportSubscription       `json:"subscriptions"`
	History       []store.SubscriptionChange `json:"history"`
	Events        []exportEvent              `json:"events"`
	ExportedAt    time.Time                  `json:"exported_at"`
}

type exportSubscription struct {
	List      string                   `json:"list"`
	Status    model.SubscriptionStatus `json:"status"`
	Source    model.Source             `json:"source"`
	UpdatedAt time.Time                `json:"updated_at"`
}

type exportEvent struct {
	Kind       model.EventKind `json:"kind"`
	CampaignID int64           `json:"campaign_id,omitempty"`
	URL        string          `json:"url,omitempty"`
	At         time.Time       `json:"at"`
}

const maxExportEvents = 10000

func (s *Server) preferencesData(w http.ResponseWriter, r *http.Request) {
	sub := s.prefSubscriber(w, r)
	if sub == nil {
		return
	}
	ctx := r.Context()
	subs, err := s.store.Subscriptions(ctx, sub.ID)
	if err != nil {
		s.serverError(w, r, "read subscriptions", err)
		return
	}
	hist, err := s.store.SubscriptionHistory(ctx, sub.ID)
	if err != nil {
		s.serverError(w, r, "read history", err)
		return
	}
	evs, err := s.store.SubscriberEvents(ctx, sub.ID, maxExportEvents)
	if err != nil {
		s.serverError(w, r, "read events", err)
		return
	}
	out := dataExport{Email: sub.Email, Name: sub.Name, Attributes: sub.Attributes, Status: sub.Status,
		CreatedAt: sub.CreatedAt, UpdatedAt: sub.UpdatedAt, History: hist, ExportedAt: time.Now().UTC(),
		Subscriptions: []exportSubscription{}, Events: []exportEvent{}}
	if out.History == nil {
		out.History = []store.SubscriptionChange{}
	}
	for _, x := range subs {
		out.Subscriptions = append(out.Subscriptions, exportSubscription{x.ListSlug, x.Status, x.Source, x.UpdatedAt})
	}
	for _, e := range evs {
		out.Events = append(out.Events, exportEvent{e.Kind, e.CampaignID, e.URL, e.At})
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		s.serverError(w, r, "encode data", err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="my-data.json"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(append(b, '\n'))
}

func (s *Server) preferencesErase(w http.ResponseWriter, r *http.Request) {
	if s.limited(w, r) {
		return
	}
	if !parseForm(w, r) || !s.csrfOK(r) {
		s.badCSRF(w, r)
		return
	}
	sub := s.prefSubscriber(w, r)
	if sub == nil {
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		http.Redirect(w, r, "/preferences/"+r.PathValue("token"), http.StatusSeeOther)
		return
	}
	// The page is in the language of the lists they were on.
	lists, err := s.prefLists(r, sub.ID)
	if err != nil {
		s.serverError(w, r, "read lists", err)
		return
	}
	lang := s.forReader(r, subscribed(lists))
	// Erasure also skips mail of running campaigns not yet sent to them.
	if err := s.store.EraseSubscriber(r.Context(), sub.Email); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.serverError(w, r, "erase subscriber", err)
		return
	}
	s.render(w, r, http.StatusOK, "notice", view{L: lang, Title: lang.T("preferences.erased_title"), NoIndex: true, Data: notice{
		Paragraphs: []string{lang.T("preferences.erased")},
	}})
}
