package web

import (
	"crypto/subtle"
	"errors"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/herald-news/herald/internal/inbound"
)

// The webhook handlers: the shared secret, a bounded body, and the answer
// each provider expects; package inbound reads the bodies, and package
// bounce records what they report.

// webhookAuth checks the shared secret: as the basic-auth password, the
// X-Herald-Webhook-Secret header or the "secret" query parameter. With no
// secret configured the webhooks do not exist.
func (s *Server) webhookAuth(w http.ResponseWriter, r *http.Request) bool {
	secret := s.opts.Webhooks.Secret
	if secret == "" {
		s.notFound(w, r)
		return false
	}
	got := r.Header.Get("X-Herald-Webhook-Secret")
	if _, pw, ok := r.BasicAuth(); ok {
		got = pw
	}
	if got == "" {
		got = r.URL.Query().Get("secret")
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(secret)) != 1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="herald webhooks"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return false
	}
	return true
}

// readWebhook authenticates and reads a webhook body of bounded size.
func (s *Server) readWebhook(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if !s.webhookAuth(w, r) {
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		http.Error(w, "request body too large or unreadable", http.StatusRequestEntityTooLarge)
		return nil, false
	}
	return body, true
}

// finishWebhook applies reports and answers: 204 when stored, 500 (so
// the provider retries) when the database failed, reporting which.
func (s *Server) finishWebhook(w http.ResponseWriter, r *http.Request, provider string, reps []inbound.Report) bool {
	if err := s.bounces.Record(r.Context(), reps); err != nil {
		s.log.Error("apply bounce reports", "provider", provider, "err", err)
		http.Error(w, "could not store the report; try again", http.StatusInternalServerError)
		return false
	}
	w.WriteHeader(http.StatusNoContent)
	return true
}

func badPayload(w http.ResponseWriter) {
	http.Error(w, "payload not understood", http.StatusBadRequest)
}

// webhookPostmark takes Postmark's bounce and spam-complaint webhooks
// (one JSON object per request; RecordType "Bounce" or "SpamComplaint").
func (s *Server) webhookPostmark(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readWebhook(w, r)
	if !ok {
		return
	}
	reps, err := inbound.ParsePostmark(body)
	if err != nil {
		badPayload(w)
		return
	}
	if len(reps) == 0 {
		w.WriteHeader(http.StatusNoContent) // auto-replies and the like: nothing to do
		return
	}
	s.finishWebhook(w, r, "postmark", reps)
}

// webhookSendGrid takes SendGrid's Event Webhook: a JSON array of events,
// of which bounce (type bounce: hard, blocked: soft) and spamreport matter.
func (s *Server) webhookSendGrid(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readWebhook(w, r)
	if !ok {
		return
	}
	if key := s.opts.Webhooks.SendGridKey; key != nil {
		sig, ts := r.Header.Get(inbound.SendGridSignatureHeader), r.Header.Get(inbound.SendGridTimestampHeader)
		if err := inbound.VerifySendGrid(key, sig, ts, body); err != nil {
			s.log.Warn("SendGrid post refused", "err", err)
			http.Error(w, "signature not valid", http.StatusForbidden)
			return
		}
	}
	reps, err := inbound.ParseSendGrid(body)
	if err != nil {
		badPayload(w)
		return
	}
	s.finishWebhook(w, r, "sendgrid", reps)
}

func (s *Server) webhookGeneric(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readWebhook(w, r)
	if !ok {
		return
	}
	reps, err := inbound.ParseGeneric(body)
	var unknown *inbound.UnknownTypeError
	switch {
	case errors.As(err, &unknown):
		http.Error(w, unknown.Error(), http.StatusBadRequest)
		return
	case err != nil || len(reps) == 0:
		badPayload(w)
		return
	}
	s.finishWebhook(w, r, "generic", reps)
}

// webhookSES takes Amazon SES notifications delivered by SNS. The shared
// secret (put it in the subscription URL as basic auth) and the SNS
// signature must both check out; a subscription confirmation is confirmed
// by fetching its allowlisted SubscribeURL.
func (s *Server) webhookSES(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readWebhook(w, r)
	if !ok {
		return
	}
	m, err := inbound.ParseSNS(body)
	if err != nil {
		badPayload(w)
		return
	}
	if topics := s.opts.Webhooks.SNSTopics; len(topics) > 0 && !slices.Contains(topics, m.TopicArn) {
		s.log.Warn("SNS message from a topic not configured refused", "topic", m.TopicArn, "type", m.Type)
		http.Error(w, "topic not allowed", http.StatusForbidden)
		return
	}
	if err := s.sns.Verify(r.Context(), m); err != nil {
		s.log.Warn("SNS message refused", "err", err, "type", m.Type)
		http.Error(w, "signature not valid", http.StatusForbidden)
		return
	}
	switch m.Type {
	case "SubscriptionConfirmation":
		err := s.sns.ConfirmSubscription(r.Context(), m)
		if errors.Is(err, inbound.ErrURLNotAllowed) {
			http.Error(w, "subscribe URL not allowed", http.StatusForbidden)
			return
		}
		if err != nil {
			s.log.Error("confirm SNS subscription", "topic", m.TopicArn, "err", err)
			http.Error(w, "could not confirm the subscription", http.StatusBadGateway)
			return
		}
		s.log.Info("confirmed SNS subscription", "topic", m.TopicArn)
		w.WriteHeader(http.StatusNoContent)
	case "Notification":
		reps, err := inbound.ParseSES(m.Message)
		if err != nil {
			badPayload(w)
			return
		}
		s.finishWebhook(w, r, "ses", reps)
	default:
		w.WriteHeader(http.StatusNoContent) // UnsubscribeConfirmation: nothing to do
	}
}

// webhookMailgun takes Mailgun's webhooks (permanent and temporary
// failures, complaints). Mailgun signs each post in its body; a post whose
// signature does not verify, or was made outside the replay window, is
// refused. Mailgun stops retrying on 406, so a body it will never make
// readable gets that.
func (s *Server) webhookMailgun(w http.ResponseWriter, r *http.Request) {
	v := s.opts.Webhooks.Mailgun
	if v == nil {
		s.notFound(w, r)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		http.Error(w, "request body too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	reps, err := v.Verify(body, time.Now())
	switch {
	case errors.Is(err, inbound.ErrPayload):
		http.Error(w, "payload not understood", http.StatusNotAcceptable)
		return
	case err != nil:
		s.log.Warn("Mailgun post refused", "err", err)
		http.Error(w, "signature not valid", http.StatusForbidden)
		return
	}
	if !s.finishWebhook(w, r, "mailgun", reps) {
		v.Release(body) // Mailgun's retry of this post must be taken
	}
}
