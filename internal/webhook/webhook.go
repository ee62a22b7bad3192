// Package webhook posts Herald's outgoing webhooks: the notices of
// subscriber and campaign events that admins ask for, one JSON POST per
// event and endpoint. (Bounce reports that providers post to Herald are
// package web's.)
//
// Contract: the store writes each notice as a delivery row in the
// transaction of its event; a Sender on any node claims due rows under a
// lease, posts them signed with the endpoint's secret (the Herald-Signature
// header: t=UNIX-TIME,v1=hex HMAC-SHA256 over "t.body"), and records the
// answer. A 2xx answer delivers; anything else, or no answer within the
// timeout, is tried again with exponential backoff until the attempt limit,
// then the delivery is failed. The body, and the event ID in it, are the
// same on every try, so a receiver can drop a notice it has already seen;
// the signature's time is the try's. A sender that stops gives back the
// rows it had not started.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/unfurl"
)

// Headers of every webhook POST.
const (
	SignatureHeader = "Herald-Signature" // t=UNIX-TIME,v1=HEX
	EventHeader     = "Herald-Event"     // the event type, such as subscriber.created
	DeliveryHeader  = "Herald-Delivery"  // the delivery's number, for the admin's history
)

// Sign returns the Herald-Signature value for body sent at t: the Unix
// time and the hex HMAC-SHA256, keyed by secret, of the time, a dot and
// the body.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Errors of Verify.
var (
	ErrBadSignature = errors.New("the signature does not match the body")
	ErrTooOld       = errors.New("the signature's time is too far from now")
)

// Verify checks a Herald-Signature header against the body it came with,
// as a receiver does: the HMAC must match and, when tolerance is above
// zero, the signed time must be within tolerance of now (which stops an
// old notice from being replayed).
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return fmt.Errorf("%w: the header is not t=UNIX-TIME,v1=HEX", ErrBadSignature)
	}
	want := mac(secret, ts, body)
	ok := false
	for _, s := range sigs {
		ok = ok || hmac.Equal(s, want)
	}
	if !ok {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); tolerance > 0 && (d > tolerance || d < -tolerance) {
		return ErrTooOld
	}
	return nil
}

// CheckURL validates an endpoint URL as an admin typed it and returns it
// trimmed. Only absolute http and https URLs are taken; the error says why
// another is not, in words fit to show.
func CheckURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", errors.New("give the URL the notices are posted to, such as https://example.com/herald-hooks")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("the webhook URL does not parse; write it as https://example.com/path")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Scheme == "" {
			return "", errors.New("the webhook URL must start with https:// or http://")
		}
		return "", fmt.Errorf("the webhook URL must start with https:// or http://, not %s://", u.Scheme)
	}
	if u.Host == "" || u.Hostname() == "" {
		return "", errors.New("the webhook URL has no host name")
	}
	if u.Fragment != "" {
		return "", errors.New("the webhook URL must not have a #fragment: it is never sent")
	}
	return raw, nil
}

// CheckReceiver is CheckURL and more: the receiver's host must resolve to
// public addresses only, unless allow covers them (the same rule the
// sender's client keeps at every post, see Options.Allow). The error says
// which address was refused and why, without having contacted it.
func CheckReceiver(ctx context.Context, raw string, allow []netip.Prefix) (string, error) {
	raw, err := CheckURL(raw)
	if err != nil {
		return "", err
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("the webhook URL does not parse; write it as https://example.com/path")
	}
	if err := unfurl.CheckHost(ctx, u, allow); err != nil {
		return "", fmt.Errorf("the webhook receiver %w (an operator can allow receivers on private networks with webhook_allow_private)", err)
	}
	return raw, nil
}

// ParseEvents reads event names as an admin or an API client gave them.
// The error names the first unknown one and the known ones.
func ParseEvents(names []string) ([]model.WebhookEvent, error) {
	var out []model.WebhookEvent
	seen := map[model.WebhookEvent]bool{}
	for _, n := range names {
		e := model.WebhookEvent(strings.TrimSpace(n))
		if e == "" || seen[e] {
			continue
		}
		if !e.Valid() {
			known := make([]string, 0, len(model.WebhookEvents()))
			for _, k := range model.WebhookEvents() {
				known = append(known, string(k))
			}
			return nil, fmt.Errorf("unknown event %q (choose from %s)", truncate(string(e), 40), strings.Join(known, ", "))
		}
		seen[e] = true
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, errors.New("choose at least one event to send")
	}
	return out, nil
}

// NewSecret returns a random signing secret, "whsec_" and 48 hex digits.
func NewSecret() string {
	var b [24]byte
	rand.Read(b[:])
	return "whsec_" + hex.EncodeToString(b[:])
}

// CheckSecret validates a secret an admin chose: 16 to 200 printable
// characters without spaces.
func CheckSecret(s string) error {
	if len(s) < 16 || len(s) > 200 {
		return errors.New("the signing secret must be 16 to 200 characters long (leave it empty to have one made)")
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f {
			return errors.New("the signing secret must not hold spaces or control characters")
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
