package inbound

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/herald-news/herald/internal/model"
)

// MailgunWindow is how far a Mailgun webhook's signed timestamp may be from
// now, either way: a post signed longer ago is refused as a replay (and a
// clock that drifted further is told so in the log).
const MailgunWindow = 15 * time.Minute

// mailgunPayload is a Mailgun webhook post: the signature, and the event.
type mailgunPayload struct {
	Signature struct {
		Timestamp string `json:"timestamp"`
		Token     string `json:"token"`
		Signature string `json:"signature"`
	} `json:"signature"`
	EventData struct {
		Event     string `json:"event"`
		Severity  string `json:"severity"`
		Reason    string `json:"reason"`
		Recipient string `json:"recipient"`
		Message   struct {
			Headers struct {
				MessageID string `json:"message-id"`
			} `json:"headers"`
		} `json:"message"`
		DeliveryStatus struct {
			Code         json.Number `json:"code"`
			EnhancedCode string      `json:"enhanced-code"`
			Message      string      `json:"message"`
			Description  string      `json:"description"`
		} `json:"delivery-status"`
	} `json:"event-data"`
}

// MailgunVerifier checks the signatures of Mailgun's webhooks: an
// HMAC-SHA256, keyed with the domain's webhook signing key, of the
// timestamp followed by the token, in hex. A timestamp outside
// MailgunWindow is refused, and so is a token this verifier (this node)
// took before within it.
type MailgunVerifier struct {
	key []byte

	mu     sync.Mutex
	seen   map[string]time.Time // token -> its timestamp
	pruned time.Time            // when seen last lost its old tokens
}

// NewMailgunVerifier returns a verifier for the webhook signing key shown in
// Mailgun's control panel (Sending → Webhooks).
func NewMailgunVerifier(key string) (*MailgunVerifier, error) {
	key = strings.TrimSpace(key)
	if len(key) < 16 {
		return nil, errors.New("too short to be a Mailgun webhook signing key")
	}
	return &MailgunVerifier{key: []byte(key), seen: map[string]time.Time{}}, nil
}

// Errors of MailgunVerifier.Verify.
var (
	ErrMailgunSignature = errors.New("Mailgun signature does not match")
	ErrMailgunStale     = errors.New("Mailgun signature timestamp is outside the replay window")
	ErrMailgunReplay    = errors.New("Mailgun signature token was already used")
)

// Verify checks the signature of one Mailgun webhook body at time now and
// returns its reports (see ParseMailgun).
func (v *MailgunVerifier) Verify(body []byte, now time.Time) ([]Report, error) {
	var p mailgunPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPayload, err)
	}
	sig := p.Signature
	if sig.Timestamp == "" || sig.Token == "" || sig.Signature == "" {
		return nil, fmt.Errorf("%w: no signature", ErrMailgunSignature)
	}
	m := hmac.New(sha256.New, v.key)
	m.Write([]byte(sig.Timestamp + sig.Token))
	got, err := hex.DecodeString(sig.Signature)
	if err != nil || !hmac.Equal(m.Sum(nil), got) {
		return nil, ErrMailgunSignature
	}
	secs, err := strconv.ParseInt(sig.Timestamp, 10, 64)
	if err != nil {
		return nil, ErrMailgunStale
	}
	at := time.Unix(secs, 0)
	if d := now.Sub(at); d > MailgunWindow || d < -MailgunWindow {
		return nil, fmt.Errorf("%w (signed %s, now %s)", ErrMailgunStale, at.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if !v.fresh(sig.Token, at, now) {
		return nil, ErrMailgunReplay
	}
	return p.reports(), nil
}

// Release forgets the token of a body Verify accepted, for when its
// reports could not be stored: Mailgun's retry of the same signed post must
// then be taken, not refused as a replay (which would lose the report).
func (v *MailgunVerifier) Release(body []byte) {
	var p mailgunPayload
	if json.Unmarshal(body, &p) != nil || p.Signature.Token == "" {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.seen, p.Signature.Token)
}

// fresh records token and reports whether it was new within the window.
func (v *MailgunVerifier) fresh(token string, at, now time.Time) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.seen[token]; ok {
		return false
	}
	if now.Sub(v.pruned) > time.Minute {
		for t, when := range v.seen {
			if now.Sub(when) > MailgunWindow {
				delete(v.seen, t) // too old to be accepted again anyway
			}
		}
		v.pruned = now
	}
	v.seen[token] = at
	return true
}

// ParseMailgun reads a Mailgun webhook body without checking its signature
// (MailgunVerifier.Verify checks it first): permanent failures are hard
// bounces (those Mailgun did not even try, as the address bounced before,
// too), temporary failures soft ones, and complaints complaints. Other
// events (delivered, opened, ...) give no report; a body that is not a
// Mailgun webhook is ErrPayload.
func ParseMailgun(body []byte) ([]Report, error) {
	var p mailgunPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPayload, err)
	}
	if p.EventData.Event == "" {
		return nil, fmt.Errorf("%w: no event-data", ErrPayload)
	}
	return p.reports(), nil
}

func (p *mailgunPayload) reports() []Report {
	e := p.EventData
	if e.Recipient == "" {
		return nil
	}
	ds := e.DeliveryStatus
	detail := strings.TrimSpace(strings.Join(strings.Fields(ds.Code.String()+" "+ds.EnhancedCode+" "+firstNonEmpty(ds.Message, ds.Description)), " "))
	rep := Report{Email: e.Recipient, MessageID: strings.Trim(e.Message.Headers.MessageID, "<>"), Detail: detail}
	switch {
	case e.Event == "complained":
		rep.Kind = model.EventComplaint
		rep.Detail = "complaint reported through Mailgun"
	case e.Event == "failed" && e.Reason == "suppress-complaint":
		// Mailgun did not try: the reader complained before.
		rep.Kind = model.EventComplaint
		rep.Detail = "complaint known to Mailgun"
	case e.Event == "failed" && e.Reason == "suppress-unsubscribe":
		return nil // Mailgun's own unsubscribe list: lists are Herald's to keep
	case e.Event == "failed" && e.Severity == "permanent":
		// Including "suppress-bounce": the address bounced for good before.
		rep.Kind = model.EventBounce
	case e.Event == "failed" && e.Severity == "temporary":
		rep.Kind = model.EventSoftBounce
	default:
		return nil
	}
	return []Report{rep}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
