// Package inbound reads what mail providers report back about Herald's
// mail: bounces and spam complaints from Amazon SES through SNS, SendGrid,
// Postmark, Mailgun, and Herald's own generic format. Package bounce
// records them (suppressions, soft-bounce counts and events in the store),
// as it records the reports that come back by mail.
//
// Contract: the parsers take bodies from strangers and never panic; they
// fail only with ErrPayload (or *UnknownTypeError for the generic format)
// and return only actionable reports (an address and one of the three
// kinds bounce.Recorder acts on). Signatures (SNS, signed SendGrid, Mailgun) are checked here;
// only the SNS verifier fetches anything, and only certificates and
// subscription URLs on allowlisted AWS hosts. The HTTP side (routes,
// shared secret, answers) stays in package web.
package inbound

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/herald-news/herald/internal/bounce"
	"github.com/herald-news/herald/internal/model"
)

// Report is one bounce or complaint, whatever provider sent it: Kind
// (EventBounce, hard; EventSoftBounce; EventComplaint), Email, the
// Message-ID Herald set when the provider echoes it, and Detail. It is the
// report bounce.Recorder records, as it records the reports that come back
// by mail.
type Report = bounce.Report

// ErrPayload is returned by the webhook parsers for a body they cannot read.
var ErrPayload = errors.New("payload not understood")

// ParsePostmark reads one Postmark bounce or spam-complaint webhook. It
// returns no reports for record types that need no action (auto-replies
// and the like), and ErrPayload when the body is not a Postmark record
// with an email address.
func ParsePostmark(body []byte) ([]Report, error) {
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
		return nil, fmt.Errorf("%w: %w", ErrPayload, err)
	}
	if p.Email == "" {
		return nil, fmt.Errorf("%w: no Email", ErrPayload)
	}
	rep := Report{Email: p.Email, Detail: strings.TrimSpace(p.Type + ": " + p.Description + " " + p.Details)}
	if id := p.Metadata["herald-message-id"]; id != "" {
		rep.MessageID = id
	}
	switch {
	case p.RecordType == "SpamComplaint" || p.Type == "SpamComplaint" || p.Type == "SpamNotification":
		rep.Kind = model.EventComplaint
	case p.Type == "HardBounce" || p.Type == "BadEmailAddress" || p.Type == "ManuallyDeactivated":
		rep.Kind = model.EventBounce
	case p.Type == "SoftBounce" || p.Type == "Transient" || p.Type == "DnsError" || p.Type == "Blocked":
		rep.Kind = model.EventSoftBounce
	default:
		return nil, nil
	}
	return []Report{rep}, nil
}

// The headers of SendGrid's signed Event Webhook: the signature and the
// timestamp it covers.
const (
	SendGridSignatureHeader = "X-Twilio-Email-Event-Webhook-Signature"
	SendGridTimestampHeader = "X-Twilio-Email-Event-Webhook-Timestamp"
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

// VerifySendGrid checks a signed Event Webhook post: the signature (base64
// ASN.1 ECDSA) is over the timestamp header followed by the raw body. No
// age limit applies to the timestamp: SendGrid retries a failed post for
// up to a day, and replaying a report only re-applies it.
func VerifySendGrid(key *ecdsa.PublicKey, signature, timestamp string, body []byte) error {
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

// ParseSendGrid reads a SendGrid Event Webhook body. Events other than
// bounces and spam reports, and events without an email address, give no
// report; a body that is not a JSON array of events is ErrPayload.
func ParseSendGrid(body []byte) ([]Report, error) {
	var evs []struct {
		Email  string `json:"email"`
		Event  string `json:"event"`
		Type   string `json:"type"`
		Reason string `json:"reason"`
		Status string `json:"status"`
		SMTPID string `json:"smtp-id"`
	}
	if err := json.Unmarshal(body, &evs); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPayload, err)
	}
	var reps []Report
	for _, e := range evs {
		if e.Email == "" {
			continue // nothing to act on
		}
		rep := Report{Email: e.Email, MessageID: e.SMTPID, Detail: strings.TrimSpace(e.Status + " " + e.Reason)}
		switch {
		case e.Event == "spamreport":
			rep.Kind = model.EventComplaint
		case e.Event == "bounce" && e.Type == "blocked":
			rep.Kind = model.EventSoftBounce
		case e.Event == "bounce":
			rep.Kind = model.EventBounce
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

// UnknownTypeError is ParseGeneric's error for a report type it does not
// know; its message is fit to show the sender.
type UnknownTypeError struct{ typ string }

func (e *UnknownTypeError) Error() string {
	return fmt.Sprintf("unknown report type %q (hard_bounce, soft_bounce or complaint)", bounce.Clean(e.typ, 40))
}

// ParseGeneric reads Herald's own report format (see genericReport).
// Entries without an email address are left out; an entry of an unknown
// type fails the whole body with *UnknownTypeError, and a body that is not
// JSON of that shape with ErrPayload.
func ParseGeneric(body []byte) ([]Report, error) {
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
		return nil, fmt.Errorf("%w: %w", ErrPayload, err)
	}
	var reps []Report
	for _, g := range list {
		if g.Email == "" {
			continue
		}
		rep := Report{Email: g.Email, MessageID: g.MessageID, Detail: g.Detail}
		switch g.Type {
		case "hard_bounce", "bounce":
			rep.Kind = model.EventBounce
		case "soft_bounce":
			rep.Kind = model.EventSoftBounce
		case "complaint":
			rep.Kind = model.EventComplaint
		default:
			return nil, &UnknownTypeError{typ: g.Type}
		}
		reps = append(reps, rep)
	}
	return reps, nil
}
