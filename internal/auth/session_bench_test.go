package auth_test

import (
	"context"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/store/storetest"
)

// BenchmarkSession measures what every admin request pays to find its
// session (SQLite): the session and user, and the sign-in policy read
// with it; "store" is the session query alone, for the ratio.
func BenchmarkSession(b *testing.B) {
	ctx := context.Background()
	st := storetest.SQLite(b)
	svc := auth.New(st, auth.Options{BcryptCost: bcrypt.MinCost})
	if _, err := auth.CreateUser(ctx, st, "desk@example.com", "", auth.Editor, "a long password", bcrypt.MinCost); err != nil {
		b.Fatal(err)
	}
	cookie, id, err := svc.Login(ctx, "desk@example.com", "a long password", auth.Client{IP: "192.0.2.1"})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("service", func(b *testing.B) {
		for b.Loop() {
			if _, err := svc.Session(ctx, cookie); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("store", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := st.SessionUser(ctx, id.SessionHash); err != nil {
				b.Fatal(err)
			}
		}
	})
}
