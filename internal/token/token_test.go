package token

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

var (
	oldKey = bytes.Repeat([]byte("o"), 32)
	newKey = bytes.Repeat([]byte("n"), 32)
)

func TestSignVerifyAndRotation(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	old, _ := NewSigner(oldKey)
	rotated, _ := NewSigner(newKey, oldKey)
	c := Claims{Purpose: Unsubscribe, SubscriberID: 42, CampaignID: 7, ListID: 3}
	tok := old.Sign(c)
	got, err := rotated.Verify(tok, Unsubscribe, now)
	if err != nil || got != c {
		t.Fatalf("old token under rotated keys = %+v, %v", got, err)
	}
	fresh := rotated.Sign(c)
	if _, err := old.Verify(fresh, Unsubscribe, now); !errors.Is(err, ErrInvalid) {
		t.Fatalf("token signed with a key the verifier lacks: %v", err)
	}
	if _, err := rotated.Verify(tok, Preferences, now); !errors.Is(err, ErrInvalid) {
		t.Fatal("token accepted for another purpose")
	}
}

func TestForgedAlteredExpired(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	s, _ := NewSigner(newKey)
	tok := s.Sign(Claims{Purpose: Confirm, SubscriberID: 5, Expires: now.Add(time.Hour)})
	if _, err := s.Verify(tok, Confirm, now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify(tok, Confirm, now.Add(2*time.Hour)); !errors.Is(err, ErrInvalid) {
		t.Fatal("expired token accepted")
	}
	b := []byte(tok)
	for i := range b {
		altered := append([]byte(nil), b...)
		altered[i] ^= 1
		if _, err := s.Verify(string(altered), Confirm, now); err == nil {
			t.Fatalf("token altered at %d accepted", i)
		}
	}
	for _, junk := range []string{"", "x", "!!!!", string(make([]byte, 500))} {
		if _, err := s.Verify(junk, Confirm, now); !errors.Is(err, ErrInvalid) {
			t.Fatalf("junk %q accepted", junk)
		}
	}
	if _, err := NewSigner([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
}

func FuzzVerify(f *testing.F) {
	s, _ := NewSigner(newKey)
	f.Add(s.Sign(Claims{Purpose: Click, SubscriberID: 1, CampaignID: 2}))
	f.Add("AAAA")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := s.Verify(tok, Click, time.Unix(0, 0))
		if err == nil && s.Sign(c) != tok {
			t.Fatalf("accepted a token that is not the canonical signature of its claims: %q", tok)
		}
	})
}

func BenchmarkSign(b *testing.B) {
	s, _ := NewSigner(newKey)
	for b.Loop() {
		s.Sign(Claims{Purpose: Unsubscribe, SubscriberID: 123456, CampaignID: 42})
	}
}

func TestMailboxSpelling(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	old, _ := NewSigner(oldKey)
	rotated, _ := NewSigner(newKey, oldKey)
	c := Claims{Purpose: Bounce, SubscriberID: 123456, CampaignID: 789}
	tok := old.SignMailbox(c)
	if tok != strings.ToLower(tok) || len("bounces+"+tok) > 64 {
		t.Fatalf("mailbox token %q is not a short lower-case local part", tok)
	}
	// A relay that upper-cases the local part does not break it, and a
	// key rotated out of first place still verifies.
	for _, spelt := range []string{tok, strings.ToUpper(tok)} {
		got, err := rotated.VerifyMailbox(spelt, Bounce, now)
		if err != nil || got != c {
			t.Fatalf("VerifyMailbox(%q) = %+v, %v", spelt, got, err)
		}
	}
	if _, err := rotated.VerifyMailbox(tok, Unsubscribe, now); !errors.Is(err, ErrInvalid) {
		t.Fatal("bounce token accepted for another purpose")
	}
	b := []byte(tok)
	for i := range b {
		altered := append([]byte(nil), b...)
		altered[i] = 'a' + (altered[i]-'a'+1)%26
		if altered[i] == b[i] || b[i] < 'a' {
			altered[i] = 'q'
		}
		if string(altered) == tok {
			continue
		}
		if _, err := rotated.VerifyMailbox(string(altered), Bounce, now); err == nil {
			t.Fatalf("mailbox token altered at %d accepted", i)
		}
	}
	if _, err := rotated.VerifyMailbox(old.Sign(c), Bounce, now); err == nil {
		t.Fatal("base64 spelling accepted as a mailbox token")
	}
}
