package auth

import (
	"fmt"
	"testing"
	"time"
)

func TestLimiterDelaysGrowPerAccountAndClient(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	l := NewLimiter(LimitOptions{Now: func() time.Time { return now }, PerClient: 1000})
	for range 3 {
		l.Fail("198.51.100.7", "owner@example.com")
	}
	if got := l.RetryAfter("198.51.100.7", "owner@example.com"); got != time.Second {
		t.Fatalf("after 3 failures: wait %s, want 1s", got)
	}
	if !l.Allow("203.0.113.9", "owner@example.com") {
		t.Fatal("another client is held back by a stranger's failures")
	}
	for range 20 {
		now = now.Add(l.RetryAfter("198.51.100.7", "owner@example.com"))
		l.Fail("198.51.100.7", "owner@example.com")
	}
	if got := l.RetryAfter("198.51.100.7", "owner@example.com"); got != 15*time.Minute {
		t.Fatalf("after 23 failures: wait %s, want the 15m cap", got)
	}
	// One client guessing many accounts is capped across them.
	l = NewLimiter(LimitOptions{Now: func() time.Time { return now }})
	for i := range 20 {
		l.Fail("192.0.2.1", fmt.Sprintf("user%d@example.com", i))
	}
	if l.Allow("192.0.2.1", "fresh@example.com") {
		t.Fatal("a client past 20 failures may try yet another account")
	}
	now = now.Add(16 * time.Minute)
	if !l.Allow("192.0.2.1", "fresh@example.com") {
		t.Fatal("the client's window passed but it is still held back")
	}
}
