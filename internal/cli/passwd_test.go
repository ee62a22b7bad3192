package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/store"
)

// oneTimeLine returns the line after the one-time password's heading: the
// password alone, with nothing around it to copy by mistake.
func oneTimeLine(t *testing.T, out string) string {
	t.Helper()
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "one-time password") && i+1 < len(lines) {
			pw := lines[i+1]
			if pw == "" || strings.TrimSpace(pw) != pw || strings.ContainsAny(pw, " \t") {
				t.Fatalf("the one-time password line is %q: not the password alone", pw)
			}
			return pw
		}
	}
	t.Fatalf("no one-time password printed:\n%s", out)
	return ""
}

// TestUserPasswordsFromTheCLI: a generated password is printed alone on
// its line and marks the user to replace it at the first sign-in; a typed
// one (--password-stdin) follows the validator's rules, so spaces around
// it are refused with the reason, and it is not to be replaced. Each
// change is audited as the command line's.
func TestUserPasswordsFromTheCLI(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	data := "--data=" + dir
	out, errs, code := herald(t, nil, nil, data, "user", "create", "chief@example.com", "--role", "owner")
	if code != 0 {
		t.Fatalf("user create: %d %q", code, errs)
	}
	pw := oneTimeLine(t, out)
	st, err := store.Open(ctx, store.Options{SQLitePath: filepath.Join(dir, "herald.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.UserByEmail(ctx, "chief@example.com")
	if err != nil || !u.MustChangePassword || bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(pw)) != nil {
		t.Fatalf("the generated password is not the user's, to be replaced: %+v, %v", u, err)
	}

	_, errs, code = herald(t, nil, strings.NewReader("  spaced passphrase  \n"), data, "user", "passwd", "chief@example.com", "--password-stdin")
	if code == 0 || !strings.Contains(errs, "cannot begin or end with a space") {
		t.Fatalf("a typed password with spaces around it: %d %q", code, errs)
	}
	if _, errs, code = herald(t, nil, strings.NewReader("my own passphrase\n"), data, "user", "passwd", "chief@example.com", "--password-stdin"); code != 0 {
		t.Fatalf("user passwd --password-stdin: %d %q", code, errs)
	}
	if u, _ := st.UserByEmail(ctx, "chief@example.com"); u.MustChangePassword {
		t.Fatal("a typed password is still to be replaced")
	}
	out, errs, code = herald(t, nil, nil, data, "user", "passwd", "chief@example.com")
	if code != 0 {
		t.Fatalf("user passwd: %d %q", code, errs)
	}
	pw = oneTimeLine(t, out)
	if u, _ := st.UserByEmail(ctx, "chief@example.com"); !u.MustChangePassword || bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(pw)) != nil {
		t.Fatal("a generated password from user passwd is not the user's, to be replaced")
	}
	got, err := st.AuditEntries(ctx, audit.Filter{Action: audit.UserPassword})
	if err != nil || len(got) != 2 || got[0].Via != audit.ViaCLI {
		t.Fatalf("password changes in the audit log: %+v, %v", got, err)
	}
}
