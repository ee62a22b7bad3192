package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/herald-news/herald/internal/feedback"
	"github.com/herald-news/herald/internal/i18n"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/token"
)

// feedbackTitles are the catalog keys of the feedback pages' titles.
var feedbackTitles = map[string]string{
	"rate": "feedback.page.rate_title", "more": "feedback.page.thanks_title",
	"leaving": "feedback.page.leaving_title", "done": "feedback.page.thanks_title",
}

type feedbackView struct {
	Step       string // rate, more, leaving, done
	Token      string
	PrefToken  string
	Rating     int
	Sections   []string
	Reasons    []string
	MaxComment int
	Problem    string // why an answer was not recorded, in the reader's language
}

// feedbackLang returns the language of a feedback page: the language the
// link's mail was in. That is the token's list's; for a campaign's link,
// its edition's own language if it sets one, else the campaign's first
// list's, as the mail had it; else negotiated.
func (s *Server) feedbackLang(r *http.Request, c token.Claims) *i18n.Localizer {
	if c.ListID == 0 && c.CampaignID != 0 {
		if info, err := s.campaigns.get(r.Context(), c.CampaignID); err == nil {
			if e, err := s.store.GetEdition(r.Context(), info.editionID); err == nil && e.Language != "" {
				return i18n.For(e.Language)
			}
		}
	}
	targets, err := s.unsubscribeTargets(r.Context(), c)
	if err != nil {
		return s.negotiate(r)
	}
	lang, _ := s.forTargets(r, targets, nil)
	return lang
}

func (s *Server) feedbackPage(w http.ResponseWriter, r *http.Request, status int, lang *i18n.Localizer, v feedbackView) {
	v.Sections, v.Reasons, v.MaxComment = feedback.Sections, feedback.Reasons, feedback.MaxComment
	title := feedbackTitles[v.Step]
	if v.Problem != "" {
		title = "feedback.page.not_recorded_title"
	}
	csrf := s.csrfToken(w, r)
	s.render(w, r, status, "feedback", view{L: lang, Title: lang.T(title), NoIndex: true, CSRF: csrf, Data: v})
}

// feedbackRate shows the ratings with the one the email's link chose. A
// GET records nothing: mail scanners open links.
func (s *Server) feedbackRate(w http.ResponseWriter, r *http.Request) {
	c, err := s.signer.Verify(r.PathValue("token"), token.Feedback, now())
	if err != nil {
		s.badToken(w, r)
		return
	}
	rating, _ := strconv.Atoi(r.URL.Query().Get("r"))
	s.feedbackPage(w, r, http.StatusOK, s.feedbackLang(r, c), feedbackView{Step: "rate", Token: r.PathValue("token"), Rating: rating})
}

// feedbackPost records the rating, then offers the comment box and the
// sections' ratings.
func (s *Server) feedbackPost(w http.ResponseWriter, r *http.Request) {
	c, ok := s.feedbackForm(w, r, token.Feedback)
	if !ok {
		return
	}
	rating, _ := strconv.Atoi(r.PostFormValue("r"))
	f := model.Feedback{Kind: model.FeedbackBriefing, CampaignID: c.CampaignID, SubscriberID: c.SubscriberID, Rating: rating}
	lang := s.feedbackLang(r, c)
	if !s.saveFeedback(w, r, lang, f) {
		return
	}
	s.feedbackPage(w, r, http.StatusOK, lang, feedbackView{Step: "more", Token: r.PathValue("token"), Rating: rating})
}

// feedbackMore records the optional comment and sections' ratings.
func (s *Server) feedbackMore(w http.ResponseWriter, r *http.Request) {
	c, ok := s.feedbackForm(w, r, token.Feedback)
	if !ok {
		return
	}
	rating, _ := strconv.Atoi(r.PostFormValue("r"))
	answers := []model.Feedback{{Kind: model.FeedbackBriefing, CampaignID: c.CampaignID, SubscriberID: c.SubscriberID,
		Rating: rating, Comment: r.PostFormValue("comment")}}
	for _, sec := range feedback.Sections {
		if v, _ := strconv.Atoi(r.PostFormValue("s_" + sec)); v != 0 {
			answers = append(answers, model.Feedback{Kind: model.FeedbackSection, CampaignID: c.CampaignID, SubscriberID: c.SubscriberID,
				Section: sec, Rating: v})
		}
	}
	lang := s.feedbackLang(r, c)
	for _, f := range answers {
		if !s.saveFeedback(w, r, lang, f) {
			return
		}
	}
	s.feedbackPage(w, r, http.StatusOK, lang, feedbackView{Step: "done"})
}

// unsubscribeWhy records why a reader left, asked after the unsubscribe.
func (s *Server) unsubscribeWhy(w http.ResponseWriter, r *http.Request) {
	c, ok := s.feedbackForm(w, r, token.Unsubscribe)
	if !ok {
		return
	}
	f := model.Feedback{Kind: model.FeedbackLeaving, CampaignID: c.CampaignID, SubscriberID: c.SubscriberID,
		Reason: r.PostFormValue("reason"), Comment: r.PostFormValue("comment")}
	lang := s.feedbackLang(r, c)
	if !s.saveFeedback(w, r, lang, f) {
		return
	}
	s.feedbackPage(w, r, http.StatusOK, lang, feedbackView{Step: "done"})
}

// feedbackForm checks a feedback form's token and CSRF token.
func (s *Server) feedbackForm(w http.ResponseWriter, r *http.Request, purpose token.Purpose) (token.Claims, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request_title", "error.go_back")
		return token.Claims{}, false
	}
	c, err := s.signer.Verify(r.PathValue("token"), purpose, now())
	if err != nil {
		s.badToken(w, r)
		return c, false
	}
	if !s.csrfOK(r) {
		s.badCSRF(w, r)
		return c, false
	}
	return c, true
}

// saveFeedback checks and stores an answer; a bad one gets a page saying
// why in the reader's language, and nothing is stored. A test copy (no
// campaign) stores nothing.
func (s *Server) saveFeedback(w http.ResponseWriter, r *http.Request, lang *i18n.Localizer, f model.Feedback) bool {
	if err := feedback.Check(&f); err != nil {
		problem := lang.T("error.go_back")
		if p, ok := errors.AsType[*feedback.Problem](err); ok {
			args := slices.Clone(p.Args)
			for i, a := range args {
				if n, ok := a.(int); ok {
					args[i] = lang.Number(n)
				}
			}
			problem = lang.T(p.Key, args...)
		}
		s.feedbackPage(w, r, http.StatusUnprocessableEntity, lang, feedbackView{Step: "done", Problem: problem})
		return false
	}
	if f.CampaignID == 0 && f.Kind != model.FeedbackLeaving {
		return true
	}
	if err := s.store.SaveFeedback(r.Context(), f); err != nil {
		s.serverError(w, r, "save feedback", err)
		return false
	}
	return true
}
