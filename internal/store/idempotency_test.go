package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestIdempotencyKeys: a key is held by its first request; a second
// sees it under way, then its kept answer; another token's same key is
// its own; a released key runs afresh; a key under way for too long passes
// to a retry with the same hash only; keys expire; concurrent claims of
// one key let exactly one through.
func TestIdempotencyKeys(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock := time.Date(2026, 3, 4, 18, 0, 0, 0, time.UTC)
		s.SetClockForTest(func() time.Time { return clock })
		u := &store.User{Email: "app@example.com", Role: "editor", PasswordHash: "x"}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		tok := func(hash string) int64 {
			tk := &store.APIToken{UserID: u.ID, Name: hash, Role: "sender", Prefix: "hrld_x", Hash: hash}
			if err := s.CreateAPIToken(ctx, tk); err != nil {
				t.Fatal(err)
			}
			return tk.ID
		}
		a, b := tok("token-a"), tok("token-b")
		const ttl, stale = 24 * time.Hour, 10 * time.Minute
		claim := func(tokenID int64, key, hash string) (*store.IdempotencyKey, bool) {
			t.Helper()
			rec, held, err := s.ClaimIdempotencyKey(ctx, tokenID, key, hash, ttl, stale)
			if err != nil {
				t.Fatal(err)
			}
			return rec, held
		}

		first, held := claim(a, "order-1", "h1")
		if !held || first.Done() || !first.ExpiresAt.Equal(clock.Add(ttl)) {
			t.Fatalf("first claim: %+v held=%v", first, held)
		}
		if again, held := claim(a, "order-1", "h1"); held || again.ID != first.ID || again.Done() {
			t.Fatalf("claim while under way: %+v held=%v", again, held)
		}
		if other, held := claim(b, "order-1", "h9"); !held || other.ID == first.ID {
			t.Fatalf("another token's key: %+v held=%v", other, held)
		}
		if err := s.FinishIdempotencyKey(ctx, first.ID, 201, `{"message_id":"m1"}`); err != nil {
			t.Fatal(err)
		}
		if done, held := claim(a, "order-1", "h1"); held || !done.Done() || done.Status != 201 || done.Response != `{"message_id":"m1"}` {
			t.Fatalf("claim after finishing: %+v held=%v", done, held)
		}
		if diff, held := claim(a, "order-1", "h2"); held || diff.RequestHash != "h1" {
			t.Fatalf("claim with another body: %+v held=%v", diff, held)
		}

		// Released: the next claim holds it afresh.
		rel, _ := claim(a, "order-2", "h1")
		if err := s.ReleaseIdempotencyKey(ctx, rel.ID); err != nil {
			t.Fatal(err)
		}
		if again, held := claim(a, "order-2", "h1"); !held || again.Done() {
			t.Fatalf("after release: %+v held=%v", again, held)
		}

		// Under way past stale: a retry with the same body takes it over,
		// one with another body does not.
		clock = clock.Add(stale + time.Second)
		if diff, held := claim(a, "order-2", "h2"); held {
			t.Fatalf("stale key taken over by another body: %+v", diff)
		}
		over, held := claim(a, "order-2", "h1")
		if !held || !over.StartedAt.Equal(clock) {
			t.Fatalf("stale key not taken over: %+v held=%v", over, held)
		}
		if _, held := claim(a, "order-2", "h1"); held {
			t.Fatal("a key just taken over was taken over again")
		}

		// A day on, every key has expired: the same key is new again.
		clock = clock.Add(ttl)
		if fresh, held := claim(a, "order-1", "h2"); !held || fresh.Done() {
			t.Fatalf("expired key: %+v held=%v", fresh, held)
		}

		// Many requests with one key at once: one holds it.
		var wg sync.WaitGroup
		var mu sync.Mutex
		holders := 0
		for range 8 {
			wg.Go(func() {
				_, held, err := s.ClaimIdempotencyKey(ctx, b, "race", "h", ttl, stale)
				if err != nil {
					t.Error(err)
				}
				if held {
					mu.Lock()
					holders++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if holders != 1 {
			t.Errorf("%d concurrent claims held the key, want 1", holders)
		}
	})
}
