package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/store"
)

// TestUser2FAResetAndSigninPolicy: herald user 2fa-reset clears a user's
// second factors, and herald signin shows and changes the sign-in policy:
// it refuses to turn passwords off with no single sign-on provider and
// turns them back on (the way back in when the provider fails).
func TestUser2FAResetAndSigninPolicy(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	data := "--data=" + dir
	if _, errs, code := herald(t, nil, strings.NewReader("a long enough password\n"), data, "user", "create", "chief@example.com", "--role", "owner", "--password-stdin"); code != 0 {
		t.Fatalf("user create: %d %q", code, errs)
	}
	st, err := store.Open(ctx, store.Options{SQLitePath: filepath.Join(dir, "herald.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.UserByEmail(ctx, "chief@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetTOTPPending(ctx, u.ID, "JBSWY3DPEHPK3PXP"); err != nil {
		t.Fatal(err)
	}
	if err := st.ConfirmTOTP(ctx, u.ID, "JBSWY3DPEHPK3PXP", 1, []string{"h1", "h2"}); err != nil {
		t.Fatal(err)
	}
	if out, _, _ := herald(t, nil, nil, data, "user", "ls"); !strings.Contains(out, "app") {
		t.Fatalf("user ls does not show the app:\n%s", out)
	}
	out, errs, code := herald(t, nil, nil, data, "user", "2fa-reset", "chief@Example.com")
	if code != 0 || !strings.Contains(out, "removed the authenticator app") {
		t.Fatalf("2fa-reset: %d %q %q", code, out, errs)
	}
	if u, _ := st.UserByEmail(ctx, "chief@example.com"); u.TOTP {
		t.Fatal("the app is still there")
	}
	if got, err := st.AuditEntries(ctx, audit.Filter{Action: audit.UserTwoFactorReset}); err != nil || len(got) != 1 ||
		got[0].Via != audit.ViaCLI || !strings.HasPrefix(got[0].Actor, "cli:") || got[0].Object != audit.Object("user", u.ID) {
		t.Fatalf("the reset in the audit log: %+v, %v", got, err)
	}
	if out, _, _ := herald(t, nil, nil, data, "user", "2fa-reset", "chief@example.com"); !strings.Contains(out, "had no second factor") {
		t.Fatalf("second 2fa-reset: %q", out)
	}
	if _, errs, code := herald(t, nil, nil, data, "user", "2fa-reset", "nobody@example.com"); code == 0 || !strings.Contains(errs, "no user has the address") {
		t.Fatalf("unknown user: %d %q", code, errs)
	}

	out, errs, code = herald(t, nil, nil, data, "signin", "--require-2fa", "on", "--idle-timeout", "45m")
	if code != 0 || !strings.Contains(out, "two-factor required for owners and editors: on") || !strings.Contains(out, "idle timeout: 45m0s") {
		t.Fatalf("signin: %d %q %q", code, out, errs)
	}
	if _, errs, code := herald(t, nil, nil, data, "signin", "--password", "off"); code == 0 || !strings.Contains(errs, "single sign-on provider") {
		t.Fatalf("passwords off without a provider: %d %q", code, errs)
	}
	// As if an owner had turned passwords off through the admin.
	p, _ := auth.LoadPolicy(ctx, st)
	p.PasswordSignInOff = true
	if err := auth.SavePolicy(ctx, st, p, true); err != nil {
		t.Fatal(err)
	}
	out, errs, code = herald(t, nil, nil, data, "signin", "--password", "on")
	if code != 0 || !strings.Contains(out, "password sign-in: on") {
		t.Fatalf("passwords back on: %d %q %q", code, out, errs)
	}
	if p, _ := auth.LoadPolicy(ctx, st); p.PasswordSignInOff || !p.RequireTwoFactor || p.IdleTimeout.Minutes() != 45 {
		t.Fatalf("policy after the CLI: %+v", p)
	}
}
