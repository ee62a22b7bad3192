package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestWebhookBatchSurvivesBadDetails: a SendGrid batch whose details are
// long non-ASCII text (cut at 500 bytes), carry a NUL or invalid UTF-8 is
// stored whole on both databases (PostgreSQL refuses invalid UTF-8 and
// NUL), and an event whose Message-ID names another subscriber than the
// address reported is filed under the reported address.
func TestWebhookBatchSurvivesBadDetails(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		st := newSite(t, s, nil)
		ctx := context.Background()
		other := st.subscriber("other@example.com", st.daily)
		bounced := st.subscriber("long@example.com", st.daily)
		c := st.campaign(false, nil, st.daily)
		// "5.1.10 " is 7 bytes, so byte 500 falls inside a two-byte "é".
		long := strings.Repeat("é", 400)
		events := []map[string]string{
			{"email": "long@example.com", "event": "bounce", "type": "bounce", "status": "5.1.10", "reason": long,
				"smtp-id": "<herald.c" + itoa(c.ID) + ".s" + itoa(other) + "@example.com>"},
			{"email": "nul@example.com", "event": "bounce", "type": "bounce", "status": "5.1.1", "reason": "bad\x00mailbox"},
			{"email": "plain@example.com", "event": "spamreport"},
		}
		body, _ := json.Marshal(events)
		// Invalid UTF-8 inside a JSON string: encoding/json would replace it,
		// so splice the raw byte in by hand.
		raw := strings.Replace(string(body), `"plain@example.com","event":"spamreport"`,
			`"plain@example.com","event":"spamreport","reason":"x`+"\xff"+`y"`, 1)
		if code := postJSON(t, st.ts.URL+"/webhooks/sendgrid?secret=hook-secret", "", "", raw); code != http.StatusNoContent {
			t.Fatalf("sendgrid batch = %d, want 204", code)
		}
		for _, email := range []string{"long@example.com", "nul@example.com", "plain@example.com"} {
			sp, err := s.Suppression(ctx, email)
			if errors.Is(err, store.ErrNotFound) {
				t.Fatalf("%s not suppressed", email)
			}
			if err != nil {
				t.Fatal(err)
			}
			if !utf8.ValidString(sp.Detail) || strings.ContainsRune(sp.Detail, 0) || len(sp.Detail) > 500 {
				t.Errorf("%s suppressed with detail %q (%d bytes)", email, sp.Detail, len(sp.Detail))
			}
		}
		// The event is the reported address's, not the Message-ID's reader.
		evs, err := s.SubscriberEvents(ctx, bounced, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 || evs[0].Kind != model.EventBounce {
			t.Fatalf("events of long@example.com = %+v, want its bounce", evs)
		}
		if !strings.HasPrefix(evs[0].Detail, "5.1.10 éé") || !utf8.ValidString(evs[0].Detail) {
			t.Errorf("bounce detail = %q", evs[0].Detail)
		}
		if evs, err := s.SubscriberEvents(ctx, other, 10); err != nil || len(evs) != 0 {
			t.Fatalf("events of other@example.com = %+v, %v; want none", evs, err)
		}
	})
}

// TestBadBytesInPublicRequests: a public path, query or form value with
// invalid UTF-8 or a NUL is a bad request, not a server error.
func TestBadBytesInPublicRequests(t *testing.T) {
	st := newSite(t, sqlite(t), nil)
	c := st.client()
	for _, path := range []string{"/archive/%ff", "/subscribe/a%00b", "/archive?page=%ff", "/unsubscribe/a%c3"} {
		if resp, _ := st.get(c, path); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s = %d, want 400", path, resp.StatusCode)
		}
	}
	resp, err := c.Post(st.ts.URL+"/subscribe/daily", "application/x-www-form-urlencoded", strings.NewReader("email=a%40example.com&name=a%00b"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("POST /subscribe/daily with a NUL in the name = %d, want 400", resp.StatusCode)
	}
	if resp, _ := st.get(c, "/archive/caf%C3%A9"); resp.StatusCode == http.StatusBadRequest {
		t.Errorf("GET /archive/café = 400; valid UTF-8 must pass")
	}
}
