// Package inbound reads what mail providers report back about Herald's
// mail (bounces and spam complaints from Amazon SES through SNS, SendGrid,
// Postmark, and Herald's own generic format) and acts on it: suppressions,
// soft-bounce counts and events in the store.
//
// Contract: the parsers take bodies from strangers and never panic; they
// fail only with ErrPayload (or *UnknownTypeError for the generic format)
// and return only actionable reports (an address and one of the three
// kinds Apply acts on). Signatures (SNS, signed SendGrid) are checked here;
// only the SNS verifier fetches anything, and only certificates and
// subscription URLs on allowlisted AWS hosts. The HTTP side (routes,
// shared secret, answers) stays in package web.
package inbound

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/address"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

// Report is one bounce or complaint, whatever provider sent it.
type Report struct {
	Kind      model.EventKind // EventBounce (hard), EventSoftBounce or EventComplaint
	Email     string
	MessageID string // the Message-ID Herald set, when the provider echoes it
	Detail    string
}

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
	return fmt.Sprintf("unknown report type %q (hard_bounce, soft_bounce or complaint)", truncate(e.typ, 40))
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

var heraldMessageID = regexp.MustCompile(`herald\.c(\d+)\.s(\d+)@`)

// Applier acts on reports: it suppresses hard bounces and complaints,
// counts soft bounces toward a threshold, and records an event for each,
// counted toward the campaign that caused it.
type Applier struct {
	Store *store.Store
	// SoftBounceThreshold soft bounces within SoftBounceWindow of each
	// other suppress an address.
	SoftBounceThreshold int
	SoftBounceWindow    time.Duration
}

// Apply acts on reps; reports without a valid address are left out. An
// error means the store failed (the sender should retry).
func (a Applier) Apply(ctx context.Context, reps []Report) error {
	var evs []model.Event
	for _, rep := range reps {
		email, err := address.Normalize(rep.Email)
		if err != nil {
			continue // nothing to act on
		}
		detail := truncate(rep.Detail, 500)
		e := model.Event{Kind: rep.Kind, Detail: detail, At: time.Now().UTC()}
		if m := heraldMessageID.FindStringSubmatch(rep.MessageID); m != nil {
			e.CampaignID, _ = strconv.ParseInt(m[1], 10, 64)
			e.SubscriberID, _ = strconv.ParseInt(m[2], 10, 64)
		}
		if e.SubscriberID == 0 {
			if sub, err := a.Store.SubscriberByEmail(ctx, email); err == nil {
				e.SubscriberID = sub.ID
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		if e.CampaignID == 0 && e.SubscriberID != 0 {
			// No Message-ID of ours in the report (a provider that does
			// not echo it, a complaint loop that strips it): count it
			// toward the last campaign that reached this reader, so a
			// campaign's bounces and complaints are all there.
			if e.CampaignID, err = a.Store.LastCampaignSentTo(ctx, e.SubscriberID); err != nil {
				return err
			}
		}
		switch rep.Kind {
		case model.EventBounce:
			err = a.Store.Suppress(ctx, email, model.SuppressHardBounce, detail)
		case model.EventComplaint:
			err = a.Store.Suppress(ctx, email, model.SuppressComplaint, detail)
		case model.EventSoftBounce:
			_, _, err = a.Store.SoftBounce(ctx, email, detail, a.SoftBounceThreshold, a.SoftBounceWindow)
		default:
			continue
		}
		if err != nil {
			return err
		}
		evs = append(evs, e)
	}
	return a.Store.RecordEvents(ctx, evs)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
