package auth_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"golang.org/x/crypto/bcrypt"

	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
	"github.com/herald-news/herald/internal/token"
)

// clock is a settable time for a Service.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// TestSignInFlowsOnBothDatabases runs two-factor sign-in, recovery codes,
// reset links and session limits against SQLite and PostgreSQL, so the
// new columns and tables work on both.
func TestSignInFlowsOnBothDatabases(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		signer, _ := token.NewSigner(bytes.Repeat([]byte("s"), 32))
		clk := &clock{t: time.Now()}
		st.SetClockForTest(func() time.Time { return clk.t.UTC() })
		svc := auth.New(st, auth.Options{BcryptCost: bcrypt.MinCost, Now: clk.now, Signer: signer, BaseURL: "https://herald.example"})
		u, err := auth.CreateUser(ctx, st, "desk@example.com", "Desk", auth.Editor, "a long password", bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		c := auth.Client{IP: "192.0.2.1", UserAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"}

		// Enrol: pending until the first code, then ten recovery codes.
		_, id, err := svc.Login(ctx, u.Email, "a long password", c)
		if err != nil || id.Stage != store.StageFull {
			t.Fatalf("first sign-in: %v, %+v", err, id)
		}
		en, err := svc.BeginTOTP(ctx, id.User)
		if err != nil || !strings.HasPrefix(en.QR, "data:image/png;base64,") || !strings.Contains(en.URL, "issuer=Herald") {
			t.Fatalf("BeginTOTP = %+v, %v", en, err)
		}
		secret := strings.ReplaceAll(en.Secret, " ", "")
		if _, err := svc.ConfirmTOTP(ctx, id, "123456", c); !errors.Is(err, auth.ErrBadCode) {
			t.Fatalf("wrong first code: %v", err)
		}
		code, _ := totp.GenerateCode(secret, clk.t)
		codes, err := svc.ConfirmTOTP(ctx, id, code, c)
		if err != nil || len(codes) != 10 {
			t.Fatalf("ConfirmTOTP = %v, %v", codes, err)
		}

		// The next sign-in waits for a code; the enrolment's is spent.
		pending, pid, err := svc.Login(ctx, u.Email, "a long password", c)
		if err != nil || pid.Stage != store.StageSecond {
			t.Fatalf("sign-in with an app: %v, %+v", err, pid)
		}
		if _, _, _, err := svc.SecondFactor(ctx, pending, code, c); !errors.Is(err, auth.ErrBadCode) {
			t.Fatalf("replayed code: %v", err)
		}
		clk.t = clk.t.Add(30 * time.Second)
		code2, _ := totp.GenerateCode(secret, clk.t)
		full, fid, left, err := svc.SecondFactor(ctx, pending, code2, c)
		if err != nil || fid.Stage != store.StageFull || left != -1 || full == pending {
			t.Fatalf("SecondFactor = %v, %+v, %d", err, fid, left)
		}
		if _, err := svc.Session(ctx, pending); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("the waiting session outlived the sign-in: %v", err)
		}
		pending, _, _ = svc.Login(ctx, u.Email, "a long password", c)
		if _, _, left, err := svc.SecondFactor(ctx, pending, codes[9], c); err != nil || left != 9 {
			t.Fatalf("recovery code: left %d, %v", left, err)
		}

		// Sessions: listed with their device, ended one at a time.
		ss, err := auth.Sessions(ctx, st, u.ID, cookieHash(t, svc, ctx, full))
		if err != nil || len(ss) != 3 {
			t.Fatalf("Sessions = %+v, %v", ss, err)
		}
		if ss[0].Device != "Safari 17 on macOS" || ss[0].IP != "192.0.2.1" {
			t.Fatalf("session shown as %q from %q", ss[0].Device, ss[0].IP)
		}
		if err := auth.EndSession(ctx, st, u.ID+1000, ss[0].Ref); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("ending another user's session: %v", err)
		}

		// Reset: the link works once, within 30 minutes, and ends sessions.
		if err := svc.RequestReset(ctx, u.Email, c); err != nil {
			t.Fatal(err)
		}
		link := latestResetLink(t, st, signer)
		tok := link[strings.LastIndexByte(link, '/')+1:]
		if _, err := svc.CheckResetLink(ctx, tok); err != nil {
			t.Fatalf("fresh link: %v", err)
		}
		if _, err := svc.ResetPassword(ctx, tok, "short", c); !errors.Is(err, auth.ErrWeakPassword) {
			t.Fatalf("weak password: %v", err)
		}
		if _, err := svc.ResetPassword(ctx, tok, "another long password", c); err != nil {
			t.Fatalf("reset: %v", err)
		}
		if _, err := svc.ResetPassword(ctx, tok, "a third long password", c); !errors.Is(err, auth.ErrResetLink) {
			t.Fatalf("link used twice: %v", err)
		}
		if n, _ := st.UserSessions(ctx, u.ID); len(n) != 0 {
			t.Fatalf("%d sessions survived the reset", len(n))
		}
		if err := svc.RequestReset(ctx, u.Email, auth.Client{IP: "192.0.2.2"}); err != nil {
			t.Fatal(err)
		}
		late := latestResetLink(t, st, signer)
		clk.t = clk.t.Add(31 * time.Minute)
		if _, err := svc.CheckResetLink(ctx, late[strings.LastIndexByte(late, '/')+1:]); !errors.Is(err, auth.ErrResetLink) {
			t.Fatalf("a link after 31 minutes: %v", err)
		}

		// An owner's reset removes the app and its codes.
		if had, err := auth.ResetSecondFactors(ctx, st, u.ID); err != nil || !had {
			t.Fatalf("ResetSecondFactors = %v, %v", had, err)
		}
		if n, _ := st.RecoveryCodesLeft(ctx, u.ID); n != 0 {
			t.Fatalf("%d recovery codes left after the reset", n)
		}

		// Idle timeout and lifetime from the policy.
		fresh, fid2, err := svc.Login(ctx, u.Email, "another long password", auth.Client{IP: "192.0.2.3"})
		if err != nil || fid2.Stage != store.StageFull {
			t.Fatalf("sign-in after the second factors' reset: %v, %+v", err, fid2)
		}
		pol := auth.DefaultPolicy()
		pol.IdleTimeout = 30 * time.Minute
		if err := svc.SavePolicy(ctx, pol); err != nil {
			t.Fatal(err)
		}
		clk.t = clk.t.Add(20 * time.Minute)
		if _, err := svc.Session(ctx, fresh); err != nil {
			t.Fatalf("a session used 20 minutes ago: %v", err)
		}
		clk.t = clk.t.Add(20 * time.Minute)
		if _, err := svc.Session(ctx, fresh); err != nil {
			t.Fatalf("a session used 20 minutes ago (40 since sign-in): %v", err)
		}
		clk.t = clk.t.Add(31 * time.Minute)
		if _, err := svc.Session(ctx, fresh); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("a session idle past the timeout: %v", err)
		}
		pol.IdleTimeout, pol.SessionLifetime = 0, time.Hour
		if err := svc.SavePolicy(ctx, pol); err != nil {
			t.Fatal(err)
		}
		fresh, _, _ = svc.Login(ctx, u.Email, "another long password", auth.Client{IP: "192.0.2.3"})
		clk.t = clk.t.Add(61 * time.Minute)
		if _, err := svc.Session(ctx, fresh); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("a session past its lifetime: %v", err)
		}
		if err := svc.SavePolicy(ctx, auth.Policy{SessionLifetime: time.Minute}); err == nil {
			t.Fatal("a one-minute session lifetime was accepted")
		}
	})
}

func cookieHash(t *testing.T, svc *auth.Service, ctx context.Context, cookie string) string {
	t.Helper()
	id, err := svc.Session(ctx, cookie)
	if err != nil {
		t.Fatal(err)
	}
	return id.SessionHash
}

// latestResetLink claims the queued reset message and returns its link.
func latestResetLink(t *testing.T, st *store.Store, signer *token.Signer) string {
	t.Helper()
	jobs, err := st.ClaimMail(context.Background(), 10, time.Minute)
	if err != nil || len(jobs) == 0 {
		t.Fatalf("ClaimMail = %v, %v", jobs, err)
	}
	j := jobs[len(jobs)-1]
	if j.ResetID == 0 || j.SubscriberID != 0 {
		t.Fatalf("queued job %+v is not a reset", j)
	}
	r, _, err := st.PasswordResetByID(context.Background(), j.ResetID)
	if err != nil {
		t.Fatal(err)
	}
	return auth.ResetLink(signer, "https://herald.example", r)
}

func TestDevice(t *testing.T) {
	for ua, want := range map[string]string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36":                         "Chrome 131 on Windows",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0":           "Edge 131 on Windows",
		"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0":                                                                  "Firefox 128 on Linux",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1": "Safari 17 on iOS",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36":                   "Chrome 131 on Android",
		"curl/8.5.0": "curl",
		"":           "Unknown device",
	} {
		if got := auth.Device(ua); got != want {
			t.Errorf("Device(%q) = %q, want %q", ua, got, want)
		}
	}
}

// TestResetMessagesCappedPerAccount: requests for one account from many
// clients send at most ResetsPerWindow messages in the window, and every
// request gets the same answer.
func TestResetMessagesCappedPerAccount(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	signer, _ := token.NewSigner(bytes.Repeat([]byte("s"), 32))
	svc := auth.New(st, auth.Options{BcryptCost: bcrypt.MinCost, Signer: signer, BaseURL: "https://herald.example"})
	u, err := auth.CreateUser(ctx, st, "desk@example.com", "", auth.Editor, "a long password", bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		if err := svc.RequestReset(ctx, "desk@example.com", auth.Client{IP: fmt.Sprintf("198.51.100.%d", i+1)}); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	if n, err := st.RecentPasswordResets(ctx, u.ID, time.Now().Add(-time.Hour)); err != nil || n != auth.ResetsPerWindow {
		t.Fatalf("%d reset messages queued (%v), want %d", n, err, auth.ResetsPerWindow)
	}
}
