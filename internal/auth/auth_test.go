package auth_test

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
	"github.com/herald-news/herald/internal/validator"
)

func TestRolePermissions(t *testing.T) {
	want := map[auth.Role][]auth.Permission{
		auth.Owner:  auth.Permissions(),
		auth.Editor: {auth.ReadStats, auth.ManageOwnTokens, auth.ManageAccount, auth.Compose, auth.Publish, auth.Send, auth.SendMessage, auth.ManageAudience},
		auth.Author: {auth.ReadStats, auth.ManageOwnTokens, auth.ManageAccount, auth.Compose},
		auth.Viewer: {auth.ReadStats, auth.ManageOwnTokens, auth.ManageAccount},
		auth.Sender: {auth.SendMessage},
	}
	for role, perms := range want {
		has := map[auth.Permission]bool{}
		for _, p := range perms {
			has[p] = true
		}
		for _, p := range auth.Permissions() {
			if role.Can(p) != has[p] {
				t.Errorf("%s.Can(%s) = %v", role, p, role.Can(p))
			}
		}
	}
	if auth.Role("root").Can(auth.ReadStats) {
		t.Error("an unknown role holds a permission")
	}
	// The sender role is for API tokens only, below editors and owners
	// and beside the others.
	for _, c := range []struct {
		r, o auth.Role
		want bool
	}{{auth.Owner, auth.Sender, true}, {auth.Editor, auth.Sender, true}, {auth.Author, auth.Sender, false},
		{auth.Viewer, auth.Sender, false}, {auth.Sender, auth.Sender, true}, {auth.Sender, auth.Viewer, false}} {
		if got := c.r.AtLeast(c.o); got != c.want {
			t.Errorf("%s.AtLeast(%s) = %v", c.r, c.o, got)
		}
	}
	if _, err := auth.ParseRole("sender"); err == nil {
		t.Error("a user may have the sender role")
	}
	if r, err := auth.ParseTokenRole("sender"); err != nil || r != auth.Sender {
		t.Errorf("ParseTokenRole(sender) = %v, %v", r, err)
	}
}

// TestSenderTokens: an editor makes a sender token, which sends messages
// and nothing else; an author may not make one; a sender token stops
// working when its user may no longer send, instead of turning into the
// user's own role.
func TestSenderTokens(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc := auth.New(st, auth.Options{BcryptCost: bcrypt.MinCost})
		ed, err := auth.CreateUser(ctx, st, "ed@example.com", "Ed", auth.Editor, "editor-password", bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		au, err := auth.CreateUser(ctx, st, "au@example.com", "Au", auth.Author, "author-password", bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.CreateToken(ctx, au, "app", auth.Sender); err == nil {
			t.Fatal("an author created a sender token")
		}
		plain, _, err := svc.CreateToken(ctx, ed, "app", auth.Sender)
		if err != nil {
			t.Fatal(err)
		}
		id, err := svc.Token(ctx, plain)
		if err != nil || id.Role != auth.Sender || !id.Can(auth.SendMessage) || id.Can(auth.ReadStats) || id.Can(auth.Send) {
			t.Fatalf("Token = %+v, %v", id, err)
		}
		if err := auth.SetRole(ctx, st, ed.ID, auth.Author); err != nil {
			t.Fatal(err)
		}
		if id, err := svc.Token(ctx, plain); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("sender token of a user demoted to author = %+v, %v; want refused", id, err)
		}
	})
}

func TestBootstrapLoginSessionsAndTokens(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var out bytes.Buffer
		created, err := auth.Bootstrap(ctx, st, "", "", bcrypt.MinCost, &out)
		if err != nil || !created {
			t.Fatalf("Bootstrap = %v, %v", created, err)
		}
		// The password stands alone on its line, not indented, so that
		// copying the line copies nothing but the password.
		m := regexp.MustCompile(`\n\n(\S+)\n\n`).FindStringSubmatch(out.String())
		if m == nil || strings.Contains(out.String(), "    ") {
			t.Fatalf("no one-time password alone on its line:\n%q", out.String())
		}
		password := m[1]
		if u, err := st.UserByEmail(ctx, auth.DefaultOwnerEmail); err != nil || !u.MustChangePassword {
			t.Fatalf("the owner with a generated password is not asked to change it: %+v, %v", u, err)
		}
		if again, err := auth.Bootstrap(ctx, st, "", "x", bcrypt.MinCost, &out); again || err != nil {
			t.Fatalf("second Bootstrap = %v, %v; want nothing done", again, err)
		}

		now := time.Now()
		svc := auth.New(st, auth.Options{BcryptCost: bcrypt.MinCost, Now: func() time.Time { return now },
			Limit: auth.LimitOptions{PerAccount: 3}})
		if _, _, err := svc.Login(ctx, auth.DefaultOwnerEmail, "wrong password", auth.Client{IP: "10.0.0.1"}); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("wrong password: %v", err)
		}
		if _, _, err := svc.Login(ctx, "nobody@example.com", password, auth.Client{IP: "10.0.0.1"}); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("unknown user: %v", err)
		}
		cookie, id, err := svc.Login(ctx, " ADMIN@herald.local ", password, auth.Client{IP: "10.0.0.1"})
		if err != nil || id.Role != auth.Owner {
			t.Fatalf("Login = %v, %v", id, err)
		}
		got, err := svc.Session(ctx, cookie)
		if err != nil || got.User.Email != auth.DefaultOwnerEmail || !auth.CheckCSRF(got, id.CSRF) {
			t.Fatalf("Session = %+v, %v", got, err)
		}
		if auth.CheckCSRF(got, "forged") || auth.CheckCSRF(got, "") {
			t.Error("a wrong CSRF token was accepted")
		}

		// Three failures from one client slow that client down, with a
		// wait that doubles; they never lock the owner out from elsewhere
		// (a stranger's guesses locked the account for everyone before).
		for range 3 {
			svc.Login(ctx, auth.DefaultOwnerEmail, "wrong password", auth.Client{IP: "10.0.0.2"})
		}
		if _, _, err := svc.Login(ctx, auth.DefaultOwnerEmail, password, auth.Client{IP: "10.0.0.3"}); err != nil {
			t.Fatalf("the owner from another client after a stranger's 3 failures: %v", err)
		}
		if _, _, err := svc.Login(ctx, auth.DefaultOwnerEmail, password, auth.Client{IP: "10.0.0.2"}); !errors.Is(err, auth.ErrRateLimited) {
			t.Fatalf("the guessing client at once: %v, want ErrRateLimited", err)
		}
		now = now.Add(1500 * time.Millisecond)
		if _, _, err := svc.Login(ctx, auth.DefaultOwnerEmail, "wrong again", auth.Client{IP: "10.0.0.2"}); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("after the first wait: %v", err)
		}
		now = now.Add(1500 * time.Millisecond) // the wait has doubled to 2s
		if _, _, err := svc.Login(ctx, auth.DefaultOwnerEmail, password, auth.Client{IP: "10.0.0.2"}); !errors.Is(err, auth.ErrRateLimited) {
			t.Fatalf("within the doubled wait: %v, want ErrRateLimited", err)
		}
		now = now.Add(time.Second)
		if _, _, err := svc.Login(ctx, auth.DefaultOwnerEmail, password, auth.Client{IP: "10.0.0.2"}); err != nil {
			t.Fatalf("after the doubled wait: %v", err)
		}

		// Tokens: shown once, stored hashed, scoped, capped by the user's role.
		ed, err := auth.CreateUser(ctx, st, "ed@example.com", "Ed", auth.Editor, "editor-password", bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.CreateToken(ctx, ed, "too much", auth.Owner); err == nil {
			t.Fatal("an editor created an owner token")
		}
		plain, tok, err := svc.CreateToken(ctx, ed, "ci", auth.Editor)
		if err != nil || !strings.HasPrefix(plain, auth.TokenPrefix) || strings.Contains(tok.Hash, plain) {
			t.Fatalf("CreateToken = %q %+v %v", plain, tok, err)
		}
		tid, err := svc.Token(ctx, plain)
		if err != nil || tid.Role != auth.Editor || tid.User.ID != ed.ID {
			t.Fatalf("Token = %+v, %v", tid, err)
		}
		if _, err := svc.Token(ctx, plain+"x"); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("bad token: %v", err)
		}
		if err := auth.SetRole(ctx, st, ed.ID, auth.Viewer); err != nil {
			t.Fatal(err)
		}
		if tid, _ := svc.Token(ctx, plain); tid.Role != auth.Viewer {
			t.Fatalf("token of a demoted user has role %s, want viewer", tid.Role)
		}

		// Password change ends sessions; the last owner stays.
		if err := auth.SetPassword(ctx, st, auth.DefaultOwnerEmail, "short", bcrypt.MinCost); !errors.Is(err, auth.ErrWeakPassword) {
			t.Fatalf("weak password: %v", err)
		}
		if err := auth.SetPassword(ctx, st, auth.DefaultOwnerEmail, "a new long password", bcrypt.MinCost); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Session(ctx, cookie); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("session after password change: %v", err)
		}
		if err := auth.RemoveUser(ctx, st, auth.DefaultOwnerEmail); !errors.Is(err, auth.ErrLastOwner) {
			t.Fatalf("removing the last owner: %v", err)
		}
		if err := auth.RemoveUser(ctx, st, "ed@example.com"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Token(ctx, plain); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("token of a removed user: %v", err)
		}
	})
}

func TestBootstrapWithConfiguredPassword(t *testing.T) {
	st := storetest.SQLite(t)
	var out bytes.Buffer
	if _, err := auth.Bootstrap(context.Background(), st, "chief@example.com", "configured-password", bcrypt.MinCost, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "configured-password") {
		t.Fatalf("the configured password was printed: %s", out.String())
	}
	svc := auth.New(st, auth.Options{BcryptCost: bcrypt.MinCost})
	if _, _, err := svc.Login(context.Background(), "chief@example.com", "configured-password", auth.Client{IP: "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
}

// TestChangeOwnPassword: a signed-in user changes their password; the
// current one is asked for (except right after a sign-in with a generated
// one), the rules are the validator's, the session making the change
// stays and every other one ends, and the change is audited.
func TestChangeOwnPassword(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var out bytes.Buffer
		if _, err := auth.Bootstrap(ctx, st, "chief@example.com", "", bcrypt.MinCost, &out); err != nil {
			t.Fatal(err)
		}
		onetime := regexp.MustCompile(`\n\n(\S+)\n\n`).FindStringSubmatch(out.String())[1]
		svc := auth.New(st, auth.Options{BcryptCost: bcrypt.MinCost})
		c := auth.Client{IP: "10.0.0.2"}
		// A copied password with the indentation around it is told so.
		if _, _, err := svc.Login(ctx, "chief@example.com", "    "+onetime, c); !errors.Is(err, auth.ErrSpacesAroundPassword) {
			t.Fatalf("a password with spaces around it: %v, want ErrSpacesAroundPassword", err)
		}
		if _, _, err := svc.Login(ctx, "nobody@example.com", onetime+" ", c); !errors.Is(err, auth.ErrSpacesAroundPassword) {
			t.Fatalf("an unknown address with spaces around the password: %v, want the same answer", err)
		}
		elsewhere, _, err := svc.Login(ctx, "chief@example.com", onetime, c)
		if err != nil {
			t.Fatal(err)
		}
		cookie, id, err := svc.Login(ctx, "chief@example.com", onetime, c)
		if err != nil || !id.User.MustChangePassword || auth.NeedsCurrentPassword(id) {
			t.Fatalf("Login = %+v, %v; want asked to change, without the current password", id, err)
		}
		for _, tc := range []struct {
			next string
			want error
		}{
			{"short", validator.ErrPasswordShort},
			{" spaced out passphrase ", validator.ErrPasswordSpaces},
			{onetime, auth.ErrSamePassword},
		} {
			if _, err := svc.ChangePassword(ctx, id, "", tc.next, c); !errors.Is(err, tc.want) {
				t.Errorf("new password %q: %v, want %v", tc.next, err, tc.want)
			}
		}
		ended, err := svc.ChangePassword(ctx, id, "", "my own long passphrase", c)
		if err != nil || ended != 1 {
			t.Fatalf("ChangePassword = %d, %v; want the other session ended", ended, err)
		}
		if _, err := svc.Session(ctx, cookie); err != nil {
			t.Fatalf("the session that changed the password ended: %v", err)
		}
		if _, err := svc.Session(ctx, elsewhere); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("the other session: %v, want ended", err)
		}
		u, _ := st.UserByEmail(ctx, "chief@example.com")
		if u.MustChangePassword {
			t.Fatal("still asked to change the password")
		}
		entries, err := st.AuditEntries(ctx, audit.Filter{Action: audit.UserPassword})
		if err != nil || len(entries) != 1 {
			t.Fatalf("audit entries %+v, %v; want one", entries, err)
		}

		// From now on the current password is asked for.
		id2, err := svc.Session(ctx, cookie)
		if err != nil || !auth.NeedsCurrentPassword(id2) {
			t.Fatalf("Session = %+v, %v; want the current password asked for", id2, err)
		}
		if _, err := svc.ChangePassword(ctx, id2, onetime, "another long passphrase", c); !errors.Is(err, auth.ErrCurrentPassword) {
			t.Fatalf("wrong current password: %v", err)
		}
		if _, err := svc.ChangePassword(ctx, id2, "my own long passphrase", "another long passphrase", c); err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.Login(ctx, "chief@example.com", "another long passphrase", c); err != nil {
			t.Fatalf("the new password does not sign in: %v", err)
		}

		// herald user passwd without --password-stdin: generated, asked
		// to change again.
		pw, err := auth.SetGeneratedPassword(ctx, st, "chief@example.com", bcrypt.MinCost)
		if err != nil || strings.TrimSpace(pw) != pw || len(pw) < auth.MinPasswordLength {
			t.Fatalf("SetGeneratedPassword = %q, %v", pw, err)
		}
		if u, _ := st.UserByEmail(ctx, "chief@example.com"); !u.MustChangePassword {
			t.Fatal("a generated password is not to be changed")
		}
	})
}

// TestPasskeyNameAndRecoveryCodeErrors: a passkey name over the limit is
// refused, never cut (a name of the limit's length in accented letters
// is not "too long"); new recovery codes without an app are
// ErrNoAuthenticator, and a store that fails says so, not that.
func TestPasskeyNameAndRecoveryCodeErrors(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	svc := auth.New(st, auth.Options{BcryptCost: bcrypt.MinCost, BaseURL: "http://localhost:8080"})
	u, err := auth.CreateUser(ctx, st, "ed@example.com", "Ed", auth.Editor, "editor-password", bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{strings.Repeat("é", auth.MaxPasskeyName+1), "two\nlines"} {
		if _, err := svc.FinishPasskeyRegistration(ctx, u, "no-such-ceremony", name, nil); !errors.Is(err, auth.ErrPasskeyName) {
			t.Errorf("name %q: %v, want ErrPasskeyName", name, err)
		}
	}
	if _, err := svc.FinishPasskeyRegistration(ctx, u, "no-such-ceremony", strings.Repeat("é", auth.MaxPasskeyName), nil); !errors.Is(err, auth.ErrPasskey) {
		t.Errorf("a name of %d characters: %v, want the ceremony checked (ErrPasskey)", auth.MaxPasskeyName, err)
	}

	if _, err := svc.NewRecoveryCodes(ctx, u); !errors.Is(err, auth.ErrNoAuthenticator) {
		t.Fatalf("recovery codes without an app: %v", err)
	}
	u.TOTP = true
	st.Close()
	if _, err := svc.NewRecoveryCodes(ctx, u); err == nil || errors.Is(err, auth.ErrNoAuthenticator) {
		t.Fatalf("recovery codes with a failing store: %v, want the failure", err)
	}
}
