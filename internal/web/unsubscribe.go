package web

import (
	"context"
	"errors"
	"html/template"
	"mime"
	"net/http"
	"slices"
	"time"

	"github.com/herald-news/herald/internal/i18n"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/token"
)

// unsubscribeTargets returns the lists an unsubscribe token is about: its
// list, else its campaign's lists, else nil (every list).
func (s *Server) unsubscribeTargets(ctx context.Context, c token.Claims) ([]int64, error) {
	switch {
	case c.ListID != 0:
		return []int64{c.ListID}, nil
	case c.CampaignID != 0:
		info, err := s.campaigns.get(ctx, c.CampaignID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return info.lists, nil
	}
	return nil, nil
}

type unsubscribeView struct {
	Token, PrefToken string
	Lists            []*model.List // subscribed lists the link is about
	Others           bool          // subscribed to other lists too
	Question         template.HTML // "Stop receiving A, B?"
}

// unsubscribePage shows one button. A GET never unsubscribes: mail
// scanners and prefetchers open links.
func (s *Server) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	c, err := s.signer.Verify(r.PathValue("token"), token.Unsubscribe, now())
	if err != nil {
		s.badToken(w, r)
		return
	}
	ctx := r.Context()
	targets, err := s.unsubscribeTargets(ctx, c)
	if err != nil {
		s.serverError(w, r, "read campaign", err)
		return
	}
	subs, err := s.store.Subscriptions(ctx, c.SubscriberID)
	if err != nil {
		s.serverError(w, r, "read subscriptions", err)
		return
	}
	v := unsubscribeView{Token: r.PathValue("token"), PrefToken: s.prefToken(c.SubscriberID)}
	for _, sub := range subs {
		if sub.Status == model.SubUnsubscribed {
			continue
		}
		if targets != nil && !slices.Contains(targets, sub.ListID) {
			v.Others = true
			continue
		}
		l, err := s.listByID(ctx, sub.ListID)
		if err != nil {
			s.serverError(w, r, "read list", err)
			return
		}
		v.Lists = append(v.Lists, l)
	}
	if targets == nil {
		v.Others = false // "all" is already what the button does
	}
	csrf := s.csrfToken(w, r)
	lang, about := s.forTargets(r, targets, v.Lists)
	v.Question = lang.HTML("unsubscribe.question_html", "Lists", strongNames(lang, v.Lists))
	s.render(w, r, http.StatusOK, "unsubscribe", view{L: lang, list: about, Title: lang.T("unsubscribe.title"), NoIndex: true, CSRF: csrf, Data: v})
}

// forTargets returns the language of a page about an unsubscribe link's
// lists, and the one list it is about, if one: the link's first list's
// (shown is what the page shows, when it knows), else negotiated.
func (s *Server) forTargets(r *http.Request, targets []int64, shown []*model.List) (*i18n.Localizer, *model.List) {
	if len(targets) == 0 {
		if len(shown) > 0 {
			return s.forReader(r, shown), nil
		}
		return s.negotiate(r), nil
	}
	for _, l := range shown {
		if l.ID == targets[0] {
			return s.forList(r, l), l
		}
	}
	l, err := s.listByID(r.Context(), targets[0])
	if err != nil {
		return s.negotiate(r), nil
	}
	return s.forList(r, l), l
}

func (s *Server) prefToken(subscriberID int64) string {
	return s.signer.Sign(token.Claims{Purpose: token.Preferences, SubscriberID: subscriberID})
}

// unsubscribePost is both RFC 8058 one-click (a mail provider's POST with
// List-Unsubscribe=One-Click, no cookie, no form token) and the page's
// button (CSRF-checked).
func (s *Server) unsubscribePost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	var perr error
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		perr = r.ParseMultipartForm(maxFormBody)
	} else {
		perr = r.ParseForm()
	}
	if perr != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request_title", "error.go_back")
		return
	}
	c, err := s.signer.Verify(r.PathValue("token"), token.Unsubscribe, now())
	if err != nil {
		s.badToken(w, r)
		return
	}
	oneClick := r.PostFormValue("List-Unsubscribe") == "One-Click"
	if !oneClick && !s.csrfOK(r) {
		s.badCSRF(w, r)
		return
	}
	ctx := r.Context()
	targets, err := s.unsubscribeTargets(ctx, c)
	if err != nil {
		s.serverError(w, r, "read campaign", err)
		return
	}
	source := model.SourceOneClick
	if !oneClick {
		source = model.SourceForm
		if r.PostFormValue("scope") == "all" {
			targets = nil
		}
	}
	left, err := s.store.Unsubscribe(ctx, c.SubscriberID, targets, source)
	if err != nil {
		s.serverError(w, r, "unsubscribe", err)
		return
	}
	if len(left) > 0 {
		s.events.Add(model.Event{Kind: model.EventUnsubscribe, CampaignID: c.CampaignID, SubscriberID: c.SubscriberID, At: time.Now().UTC()})
	}
	if oneClick {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte("unsubscribed\n"))
		return
	}
	// Only now, with the reader unsubscribed, the optional question.
	s.feedbackPage(w, r, http.StatusOK, feedbackView{Step: "leaving", Token: r.PathValue("token"), PrefToken: s.prefToken(c.SubscriberID)})
}
