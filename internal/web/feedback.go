package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/herald-news/herald/internal/feedback"
	"github.com/herald-news/herald/internal/i18n"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/token"
)

// feedbackTitles are the feedback pages' titles; their words are in
// templates/feedback.html.
var feedbackTitles = map[string]string{
	"rate": "How was it?", "more": "Thank you", "leaving": "You are unsubscribed", "done": "Thank you",
}

type feedbackView struct {
	Step       string // rate, more, leaving, done
	Token      string
	PrefToken  string
	Rating     int
	Sections   []string
	Reasons    []string
	MaxComment int
	Problem    string // why an answer was not recorded, for the reader
}

func (s *Server) feedbackPage(w http.ResponseWriter, r *http.Request, status int, v feedbackView) {
	v.Sections, v.Reasons, v.MaxComment = feedback.Sections, feedback.Reasons, feedback.MaxComment
	csrf := s.csrfToken(w, r)
	// The feedback pages' words are English only so far (docs/languages.md):
	// the page says so in its lang.
	s.render(w, r, status, "feedback", view{L: i18n.For(i18n.Source), Title: feedbackTitles[v.Step], NoIndex: true, CSRF: csrf, Data: v})
}

// feedbackRate shows the ratings with the one the email's link chose. A
// GET records nothing: mail scanners open links.
func (s *Server) feedbackRate(w http.ResponseWriter, r *http.Request) {
	if _, err := s.signer.Verify(r.PathValue("token"), token.Feedback, now()); err != nil {
		s.badToken(w, r)
		return
	}
	rating, _ := strconv.Atoi(r.URL.Query().Get("r"))
	s.feedbackPage(w, r, http.StatusOK, feedbackView{Step: "rate", Token: r.PathValue("token"), Rating: rating})
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
	if !s.saveFeedback(w, r, f) {
		return
	}
	s.feedbackPage(w, r, http.StatusOK, feedbackView{Step: "more", Token: r.PathValue("token"), Rating: rating})
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
	for _, f := range answers {
		if !s.saveFeedback(w, r, f) {
			return
		}
	}
	s.feedbackPage(w, r, http.StatusOK, feedbackView{Step: "done"})
}

// unsubscribeWhy records why a reader left, asked after the unsubscribe.
func (s *Server) unsubscribeWhy(w http.ResponseWriter, r *http.Request) {
	c, ok := s.feedbackForm(w, r, token.Unsubscribe)
	if !ok {
		return
	}
	f := model.Feedback{Kind: model.FeedbackLeaving, CampaignID: c.CampaignID, SubscriberID: c.SubscriberID,
		Reason: r.PostFormValue("reason"), Comment: r.PostFormValue("comment")}
	if !s.saveFeedback(w, r, f) {
		return
	}
	s.feedbackPage(w, r, http.StatusOK, feedbackView{Step: "done"})
}

// feedbackForm checks a feedback form's token and CSRF token.
func (s *Server) feedbackForm(w http.ResponseWriter, r *http.Request, purpose token.Purpose) (token.Claims, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "This request could not be read", "Please go back and try again.")
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
// why, and nothing is stored. A test copy (no campaign) stores nothing.
func (s *Server) saveFeedback(w http.ResponseWriter, r *http.Request, f model.Feedback) bool {
	if err := feedback.Check(&f); err != nil {
		problem := "Nothing was recorded."
		if p, ok := errors.AsType[*feedback.Problem](err); ok {
			problem = "Nothing was recorded: " + p.Reason + "."
		}
		s.feedbackPage(w, r, http.StatusUnprocessableEntity, feedbackView{Step: "done", Problem: problem})
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
