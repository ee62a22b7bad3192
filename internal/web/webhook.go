package web

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/herald-news/herald/internal/bounce"
	"github.com/herald-news/herald/internal/model"
)

// report is one bounce or complaint, whatever provider sent it.
type report struct {
	kind      model.EventKind // EventBounce (hard), EventSoftBounce or EventComplaint
	email     string
	messageID string // the Message-ID Herald set, when the provider echoes it
	detail    string
}

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
// the provider retries) when the database failed.
func (s *Server) finishWebhook(w http.ResponseWriter, r *http.Request, provider string, reps []report) {
	if err := s.applyReports(r.Context(), reps); err != nil {
		s.log.Error("apply bounce reports", "provider", provider, "err", err)
		http.Error(w, "could not store the report; try again", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func badPayload(w http.ResponseWriter) {
	http.Error(w, "payload not understood", http.StatusBadRequest)
}

// applyReports records the reports the way every bounce and complaint is
// recorded (bounce.Recorder): hard bounces and complaints suppress at once,
// soft bounces count toward the limit.
func (s *Server) applyReports(ctx context.Context, reps []report) error {
	out := make([]bounce.Report, 0, len(reps))
	for _, r := range reps {
		out = append(out, bounce.Report{Kind: r.kind, Email: r.email, MessageID: r.messageID, Detail: truncate(r.detail, 500)})
	}
	return s.bounces.Record(ctx, out)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// webhookPostmark takes Postmark's bounce and spam-complaint webhooks
// (one JSON object per request; RecordType "Bounce" or "SpamComplaint").
func (s *Server) webhookPostmark(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readWebhook(w, r)
	if !ok {
		return
	}
	reps, err := parsePostmark(body)
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

// errPayload is returned by the webhook parsers for a body they cannot read.
var errPayload = errors.New("payload not understood")

// parsePostmark reads one Postmark bounce or spam-complaint webhook. It
// returns no reports for record types that need no action (auto-replies
// and the like), and errPayload when the body is not a Postmark record
// with an email address.
func parsePostmark(body []byte) ([]report, error) {
	var p struct {
		RecordType  string
		Type        string
		Email       string
		MessageID   string
		Description string
		Details     string
		Metadata    map[string]string
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("%w: %w", errPayload, err)
	}
	if p.Email == "" {
		return nil, fmt.Errorf("%w: no Email", errPayload)
	}
	rep := report{email: p.Email, detail: strings.TrimSpace(p.Type + ": " + p.Description + " " + p.Details)}
	if id := p.Metadata["herald-message-id"]; id != "" {
		rep.messageID = id
	}
	switch {
	case p.RecordType == "SpamComplaint" || p.Type == "SpamComplaint" || p.Type == "SpamNotification":
		rep.kind = model.EventComplaint
	case p.Type == "HardBounce" || p.Type == "BadEmailAddress" || p.Type == "ManuallyDeactivated":
		rep.kind = model.EventBounce
	case p.Type == "SoftBounce" || p.Type == "Transient" || p.Type == "DnsError" || p.Type == "Blocked":
		rep.kind = model.EventSoftBounce
	default:
		return nil, nil
	}
	return []report{rep}, nil
}

// webhookSendGrid takes SendGrid's Event Webhook: a JSON array of events,
// of which bounce (type bounce: hard, blocked: soft) and spamreport matter.
func (s *Server) webhookSendGrid(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readWebhook(w, r)
	if !ok {
		return
	}
	if key := s.opts.Webhooks.SendGridKey; key != nil {
		sig, ts := r.Header.Get(sendGridSignatureHeader), r.Header.Get(sendGridTimestampHeader)
		if err := verifySendGrid(key, sig, ts, body); err != nil {
			s.log.Warn("SendGrid post refused", "err", err)
			http.Error(w, "signature not valid", http.StatusForbidden)
			return
		}
	}
	reps, err := parseSendGrid(body)
	if err != nil {
		badPayload(w)
		return
	}
	s.finishWebhook(w, r, "sendgrid", reps)
}

// The headers of SendGrid's signed Event Webhook.
const (
	sendGridSignatureHeader = "X-Twilio-Email-Event-Webhook-Signature"
	sendGridTimestampHeader = "X-Twilio-Email-Event-Webhook-Timestamp"
)

// ParseSendGridKey reads the verification key SendGrid shows for a signed
// Event Webhook: a base64 DER public key (PEM framing is accepted too), on
// the P-256 curve.
func ParseSendGridKey(text string) (*ecdsa.PublicKey, error) {
	text = strings.TrimSpace(text)
	text = strings.TrimPrefix(text, "-----BEGIN PUBLIC KEY-----")
	text = strings.TrimSuffix(text, "-----END PUBLIC KEY-----")
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(text), ""))
	if err != nil {
		return nil, errors.New("not base64: paste the verification key as SendGrid shows it")
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, errors.New("not a public key: paste the verification key as SendGrid shows it")
	}
	key, ok := pub.(*ecdsa.PublicKey)
	if !ok || key.Curve != elliptic.P256() {
		return nil, errors.New("not an ECDSA P-256 key, which is what SendGrid signs with")
	}
	return key, nil
}

// verifySendGrid checks a signed Event Webhook post: the signature (base64
// ASN.1 ECDSA) is over the timestamp header followed by the raw body. No
// age limit applies to the timestamp: SendGrid retries a failed post for
// up to a day, and replaying a report only re-applies it.
func verifySendGrid(key *ecdsa.PublicKey, signature, timestamp string, body []byte) error {
	if signature == "" || timestamp == "" {
		return errors.New("no signature headers")
	}
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return errors.New("signature is not base64")
	}
	h := sha256.New()
	h.Write([]byte(timestamp))
	h.Write(body)
	if !ecdsa.VerifyASN1(key, h.Sum(nil), sig) {
		return errors.New("signature does not match")
	}
	return nil
}

// parseSendGrid reads a SendGrid Event Webhook body. Events other than
// bounces and spam reports, and events without an email address, give no
// report; a body that is not a JSON array of events is errPayload.
func parseSendGrid(body []byte) ([]report, error) {
	var evs []struct {
		Email  string `json:"email"`
		Event  string `json:"event"`
		Type   string `json:"type"`
		Reason string `json:"reason"`
		Status string `json:"status"`
		SMTPID string `json:"smtp-id"`
	}
	if err := json.Unmarshal(body, &evs); err != nil {
		return nil, fmt.Errorf("%w: %w", errPayload, err)
	}
	var reps []report
	for _, e := range evs {
		if e.Email == "" {
			continue // nothing to act on
		}
		rep := report{email: e.Email, messageID: e.SMTPID, detail: strings.TrimSpace(e.Status + " " + e.Reason)}
		switch {
		case e.Event == "spamreport":
			rep.kind = model.EventComplaint
		case e.Event == "bounce" && e.Type == "blocked":
			rep.kind = model.EventSoftBounce
		case e.Event == "bounce":
			rep.kind = model.EventBounce
		default:
			continue
		}
		reps = append(reps, rep)
	}
	return reps, nil
}

// genericReport is Herald's own format for any other provider or a script:
// {"type": "hard_bounce"|"soft_bounce"|"complaint", "email": "...",
// "message_id": "...", "detail": "..."}; one object, an array of them, or
// {"events": [...]}.
type genericReport struct {
	Type      string `json:"type"`
	Email     string `json:"email"`
	MessageID string `json:"message_id"`
	Detail    string `json:"detail"`
}

// unknownTypeError is parseGeneric's error for a report type it does not
// know; its message is fit to show the sender.
type unknownTypeError struct{ typ string }

func (e *unknownTypeError) Error() string {
	return fmt.Sprintf("unknown report type %q (hard_bounce, soft_bounce or complaint)", truncate(e.typ, 40))
}

func (s *Server) webhookGeneric(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readWebhook(w, r)
	if !ok {
		return
	}
	reps, err := parseGeneric(body)
	var unknown *unknownTypeError
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

// parseGeneric reads Herald's own report format (see genericReport).
// Entries without an email address are left out; an entry of an unknown
// type fails the whole body with *unknownTypeError, and a body that is not
// JSON of that shape with errPayload.
func parseGeneric(body []byte) ([]report, error) {
	var list []genericReport
	trimmed := strings.TrimSpace(string(body))
	var err error
	switch {
	case strings.HasPrefix(trimmed, "["):
		err = json.Unmarshal(body, &list)
	default:
		var one struct {
			genericReport
			Events []genericReport `json:"events"`
		}
		err = json.Unmarshal(body, &one)
		list = append(one.Events, one.genericReport)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errPayload, err)
	}
	var reps []report
	for _, g := range list {
		if g.Email == "" {
			continue
		}
		rep := report{email: g.Email, messageID: g.MessageID, detail: g.Detail}
		switch g.Type {
		case "hard_bounce", "bounce":
			rep.kind = model.EventBounce
		case "soft_bounce":
			rep.kind = model.EventSoftBounce
		case "complaint":
			rep.kind = model.EventComplaint
		default:
			return nil, &unknownTypeError{typ: g.Type}
		}
		reps = append(reps, rep)
	}
	return reps, nil
}
