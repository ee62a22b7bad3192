package inbound

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/model"
)

const mailgunKey = "key-0123456789abcdef0123456789abcdef"

// mailgunPost is a Mailgun webhook body for eventData, signed with key at
// time at with token.
func mailgunPost(key string, at time.Time, token, eventData string) []byte {
	ts := strconv.FormatInt(at.Unix(), 10)
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(ts + token))
	return fmt.Appendf(nil, `{"signature":{"timestamp":%q,"token":%q,"signature":%q},"event-data":%s}`,
		ts, token, hex.EncodeToString(m.Sum(nil)), eventData)
}

// Event data in the shapes Mailgun documents for its webhooks.
const (
	mailgunPermanent = `{"event":"failed","severity":"permanent","reason":"bounce","recipient":"gone@example.com","id":"G9Bn5sl1TC6nu79C8C0bwg","timestamp":1795000000.12,
		"message":{"headers":{"to":"gone@example.com","message-id":"herald.c7.s41@example.com","from":"news@example.com","subject":"Evening"}},
		"delivery-status":{"code":550,"enhanced-code":"5.1.1","message":"550 5.1.1 The email account that you tried to reach does not exist","attempt-no":1,"description":""}}`
	mailgunTemporary = `{"event":"failed","severity":"temporary","reason":"generic","recipient":"full@example.com",
		"message":{"headers":{"message-id":"herald.c7.s42@example.com"}},
		"delivery-status":{"code":452,"enhanced-code":"4.2.2","message":"452 4.2.2 mailbox over quota","attempt-no":2}}`
	mailgunComplaint = `{"event":"complained","recipient":"angry@example.com","message":{"headers":{"message-id":"herald.c7.s43@example.com"}}}`
	mailgunKnown     = `{"event":"failed","severity":"permanent","reason":"suppress-bounce","recipient":"known@example.com","delivery-status":{"code":605,"message":"Not delivering to previously bounced address"}}`
	mailgunDelivered = `{"event":"delivered","recipient":"fine@example.com","delivery-status":{"code":250}}`
)

func TestMailgunKinds(t *testing.T) {
	for _, c := range []struct {
		data, email string
		kind        model.EventKind
		messageID   string
	}{
		{mailgunPermanent, "gone@example.com", model.EventBounce, "herald.c7.s41@example.com"},
		{mailgunTemporary, "full@example.com", model.EventSoftBounce, "herald.c7.s42@example.com"},
		{mailgunComplaint, "angry@example.com", model.EventComplaint, "herald.c7.s43@example.com"},
		{mailgunKnown, "known@example.com", model.EventBounce, ""},
		{mailgunDelivered, "", "", ""},
		{`{"event":"failed","severity":"permanent","reason":"suppress-unsubscribe","recipient":"left@example.com"}`, "", "", ""},
	} {
		reps, err := ParseMailgun([]byte(`{"event-data":` + c.data + `}`))
		if err != nil {
			t.Fatal(err)
		}
		if c.kind == "" {
			if len(reps) != 0 {
				t.Errorf("%s: reports %+v, want none", c.data, reps)
			}
			continue
		}
		if len(reps) != 1 || reps[0].Kind != c.kind || reps[0].Email != c.email || reps[0].MessageID != c.messageID {
			t.Errorf("%s: reports %+v, want one %s of %s", c.data, reps, c.kind, c.email)
		}
	}
	reps, _ := ParseMailgun([]byte(`{"event-data":` + mailgunPermanent + `}`))
	if want := "550 5.1.1 550 5.1.1 The email account that you tried to reach does not exist"; reps[0].Detail != want {
		t.Errorf("detail %q, want %q", reps[0].Detail, want)
	}
	for _, junk := range []string{``, `[]`, `{"event-data":{}}`, `not json`} {
		if _, err := ParseMailgun([]byte(junk)); !errors.Is(err, ErrPayload) {
			t.Errorf("ParseMailgun(%q): %v, want ErrPayload", junk, err)
		}
	}
}

func TestMailgunSignature(t *testing.T) {
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	v, err := NewMailgunVerifier(mailgunKey)
	if err != nil {
		t.Fatal(err)
	}
	// Good: signed with the key, just now.
	reps, err := v.Verify(mailgunPost(mailgunKey, now.Add(-time.Minute), "tok-good-0001", mailgunPermanent), now)
	if err != nil || len(reps) != 1 || reps[0].Email != "gone@example.com" {
		t.Fatalf("good signature: %+v, %v", reps, err)
	}
	// Bad: another key, or the event changed under a good signature.
	if _, err := v.Verify(mailgunPost("key-not-the-domains-signing-key00", now, "tok-bad-0001", mailgunPermanent), now); !errors.Is(err, ErrMailgunSignature) {
		t.Fatalf("wrong key: %v", err)
	}
	// Mailgun signs the timestamp and token, not the event: a captured
	// signature put on another event is refused because its token was
	// used, and it is good only within the window anyway.
	genuine := mailgunPost(mailgunKey, now, "tok-swap-0001", mailgunTemporary)
	if _, err := v.Verify(genuine, now); err != nil {
		t.Fatal(err)
	}
	var p map[string]json.RawMessage
	json.Unmarshal(genuine, &p)
	p["event-data"] = json.RawMessage(`{"event":"complained","recipient":"victim@example.com"}`)
	swapped, _ := json.Marshal(p)
	if reps, err := v.Verify(swapped, now); !errors.Is(err, ErrMailgunReplay) {
		t.Fatalf("a used signature on another event: %+v, %v", reps, err)
	}
	if _, err := v.Verify([]byte(`{"event-data":`+mailgunPermanent+`}`), now); !errors.Is(err, ErrMailgunSignature) {
		t.Fatalf("unsigned: %v", err)
	}
	// Stale: signed longer ago than the window, or too far ahead.
	for _, at := range []time.Time{now.Add(-MailgunWindow - time.Minute), now.Add(MailgunWindow + time.Minute)} {
		if _, err := v.Verify(mailgunPost(mailgunKey, at, "tok-stale-"+at.Format("150405"), mailgunPermanent), now); !errors.Is(err, ErrMailgunStale) {
			t.Fatalf("signed at %s: %v, want stale", at, err)
		}
	}
	// Replayed: the same signed post again.
	again := mailgunPost(mailgunKey, now.Add(-time.Minute), "tok-good-0001", mailgunPermanent)
	if _, err := v.Verify(again, now); !errors.Is(err, ErrMailgunReplay) {
		t.Fatalf("replay: %v", err)
	}
	// A post whose reports could not be stored is released: Mailgun's
	// retry of it is taken, not refused as a replay (the report would be
	// lost for good).
	v.Release(again)
	if _, err := v.Verify(again, now); err != nil {
		t.Fatalf("the retry of a released post: %v", err)
	}
	if _, err := v.Verify(again, now); !errors.Is(err, ErrMailgunReplay) {
		t.Fatalf("replay after the retry was taken: %v", err)
	}
	// A token is forgotten once it could no longer pass the window anyway.
	later := now.Add(2 * MailgunWindow)
	if _, err := v.Verify(mailgunPost(mailgunKey, later, "tok-later-0001", mailgunTemporary), later); err != nil {
		t.Fatal(err)
	}
	if n := len(v.seen); n != 1 {
		t.Fatalf("%d tokens remembered, want 1", n)
	}
	if _, err := NewMailgunVerifier("short"); err == nil {
		t.Fatal("a short key taken")
	}
}

func FuzzMailgun(f *testing.F) {
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	for i, d := range []string{mailgunPermanent, mailgunTemporary, mailgunComplaint, mailgunKnown, mailgunDelivered} {
		f.Add(mailgunPost(mailgunKey, now, fmt.Sprintf("seed-token-%d", i), d))
		f.Add([]byte(`{"event-data":` + d + `}`))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		reps, err := ParseMailgun(body)
		checkErr(t, body, reps, err)
		checkReports(t, body, reps)
		v, _ := NewMailgunVerifier(mailgunKey)
		reps, err = v.Verify(body, now)
		if err != nil && len(reps) > 0 {
			t.Fatalf("error %v with reports", err)
		}
		checkReports(t, body, reps)
	})
}
