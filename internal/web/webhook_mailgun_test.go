package web_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/inbound"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/web"
)

const mailgunKey = "key-0123456789abcdef0123456789abcdef"

// mailgunBody is a Mailgun webhook post about email, signed with key at at.
func mailgunBody(key string, at time.Time, token, event, severity, email string) string {
	ts := strconv.FormatInt(at.Unix(), 10)
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(ts + token))
	return fmt.Sprintf(`{"signature":{"timestamp":%q,"token":%q,"signature":%q},
		"event-data":{"event":%q,"severity":%q,"reason":"bounce","recipient":%q,
		"delivery-status":{"code":550,"enhanced-code":"5.1.1","message":"550 5.1.1 no such user"}}}`,
		ts, token, hex.EncodeToString(m.Sum(nil)), event, severity, email)
}

// TestMailgunWebhook: /webhooks/mailgun takes posts signed with the
// domain's webhook signing key within the replay window, and no other.
func TestMailgunWebhook(t *testing.T) {
	t.Parallel()
	v, err := inbound.NewMailgunVerifier(mailgunKey)
	if err != nil {
		t.Fatal(err)
	}
	st := newSite(t, sqlite(t), func(o *web.Options) { o.Webhooks.Mailgun = v })
	ctx := context.Background()
	suppressed := func(email string) model.SuppressionReason {
		sp, err := st.store.Suppression(ctx, email)
		if errors.Is(err, store.ErrNotFound) {
			return ""
		}
		if err != nil {
			t.Fatal(err)
		}
		return sp.Reason
	}
	mg := st.ts.URL + "/webhooks/mailgun"
	now := time.Now()
	// Bad: signed with another key.
	if code := postJSON(t, mg, "", "", mailgunBody("key-someone-elses-key-000000000", now, "tok-1", "failed", "permanent", "victim@example.com")); code != http.StatusForbidden || suppressed("victim@example.com") != "" {
		t.Fatalf("wrong key = %d", code)
	}
	// Stale: signed an hour ago.
	if code := postJSON(t, mg, "", "", mailgunBody(mailgunKey, now.Add(-time.Hour), "tok-2", "failed", "permanent", "victim@example.com")); code != http.StatusForbidden || suppressed("victim@example.com") != "" {
		t.Fatalf("stale signature = %d", code)
	}
	// Good: a permanent failure, a complaint, a temporary failure.
	if code := postJSON(t, mg, "", "", mailgunBody(mailgunKey, now, "tok-3", "failed", "permanent", "gone@example.com")); code != http.StatusNoContent || suppressed("gone@example.com") != model.SuppressHardBounce {
		t.Fatalf("permanent failure = %d, %q", code, suppressed("gone@example.com"))
	}
	if code := postJSON(t, mg, "", "", mailgunBody(mailgunKey, now, "tok-4", "complained", "", "angry@example.com")); code != http.StatusNoContent || suppressed("angry@example.com") != model.SuppressComplaint {
		t.Fatalf("complaint = %d", code)
	}
	if code := postJSON(t, mg, "", "", mailgunBody(mailgunKey, now, "tok-5", "failed", "temporary", "full@example.com")); code != http.StatusNoContent || suppressed("full@example.com") != "" {
		t.Fatalf("temporary failure = %d", code)
	}
	if n, err := st.store.SoftBounceCount(ctx, "full@example.com"); err != nil || n != 1 {
		t.Fatalf("soft bounces = %d, %v", n, err)
	}
	// Replayed: the same post again.
	if code := postJSON(t, mg, "", "", mailgunBody(mailgunKey, now, "tok-5", "failed", "temporary", "full@example.com")); code != http.StatusForbidden {
		t.Fatalf("replay = %d", code)
	}
	if code := postJSON(t, mg, "", "", `not json`); code != http.StatusNotAcceptable {
		t.Fatalf("junk = %d", code)
	}
	// Without a signing key configured the endpoint does not exist.
	off := newSite(t, sqlite(t), nil)
	if code := postJSON(t, off.ts.URL+"/webhooks/mailgun", "", "", mailgunBody(mailgunKey, now, "tok-6", "failed", "permanent", "gone@example.com")); code != http.StatusNotFound {
		t.Fatalf("no key configured = %d", code)
	}
}
