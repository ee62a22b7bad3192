package admin_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	gomail "github.com/emersion/go-message/mail"
	"github.com/pquerna/otp/totp"
	"golang.org/x/crypto/bcrypt"

	"github.com/herald-news/herald/internal/admin"
	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/delivery/deliverytest"
	"github.com/herald-news/herald/internal/store"
)

// signinEnv is an env whose sign-in has everything configured: the
// public address at localhost (a relying party browsers accept for
// passkeys), reset links signed with the token key and, for reset mail,
// the mail queue delivering to the outbox, as serve runs it.
// providers, when set, are single sign-on providers.
func signinEnv(t *testing.T, providers ...auth.ProviderConfig) (*env, string) {
	t.Helper()
	var base string
	logs := &logBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newEnv(t, func(d *admin.Deps) {
		base = strings.Replace(d.BaseURL, "127.0.0.1", "localhost", 1)
		d.BaseURL = base
		d.Log = log
		d.Auth = auth.New(d.Store, auth.Options{BcryptCost: bcrypt.MinCost, Signer: deliverytest.Signer(t), BaseURL: base,
			Providers: providers, Log: log})
	})
	e.svc = e.deps.Auth
	e.logs = logs
	q, err := delivery.NewMailQueue(delivery.MailQueueConfig{Store: e.st, Sender: e.outbox, Signer: deliverytest.Signer(t), BaseURL: base,
		From: "Courier <news@example.com>", Poll: 50 * time.Millisecond, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	q.Start()
	t.Cleanup(func() { q.Close(context.Background()) })
	return e, base
}

// anon is a browser-like client with no session yet.
func (e *env) anon() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: e.t, e: e, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// form GETs a page and returns its first CSRF token.
func (c *client) form(path string) string {
	c.t.Helper()
	m := csrfField.FindStringSubmatch(c.get(path))
	if m == nil {
		c.t.Fatalf("no CSRF token on %s", path)
	}
	return m[1]
}

// signIn posts the password form and returns the response.
func (c *client) signIn(email string) *http.Response {
	c.t.Helper()
	return c.post("/admin/login", url.Values{"csrf": {c.form("/admin/login")}, "email": {email}, "password": {password}})
}

var secretText = regexp.MustCompile(`id="totp-secret">([A-Z2-7 ]+)<`)

// enrolTOTP sets up an authenticator app for a signed-in client (or one
// waiting for enrolment) and returns its secret.
func (c *client) enrolTOTP() string {
	c.t.Helper()
	page := c.get("/admin/account/2fa")
	m := secretText.FindStringSubmatch(page)
	if m == nil {
		c.t.Fatalf("no secret on the enrolment page:\n%s", page)
	}
	secret := strings.ReplaceAll(m[1], " ", "")
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		c.t.Fatal(err)
	}
	tok := csrfField.FindStringSubmatch(page)[1]
	res := c.post("/admin/account/2fa", url.Values{"csrf": {tok}, "code": {code}})
	if res.StatusCode != http.StatusOK {
		c.t.Fatalf("confirming the first code: %d", res.StatusCode)
	}
	return secret
}

// TestTwoFactorRequiredSendsToEnrolment: with the owners' requirement on,
// an editor without a second factor can do nothing but enrol after
// signing in, and is signed in once the first code confirms the app. An
// author is not asked.
func TestTwoFactorRequiredSendsToEnrolment(t *testing.T) {
	e, _ := signinEnv(t)
	owner := e.login(auth.Owner)
	if res := owner.post("/admin/settings/signin", url.Values{"csrf": {owner.csrf}, "require_2fa": {"on"}, "lifetime_hours": {"12"},
		"idle_minutes": {"120"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("saving the policy: %d", res.StatusCode)
	}
	ed := e.anon()
	res := ed.signIn("editor@example.com")
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != "/admin/account/2fa" {
		t.Fatalf("editor sign-in: %d to %q, want enrolment", res.StatusCode, loc)
	}
	req, _ := http.NewRequest("GET", e.srv.URL+"/admin/campaigns", nil)
	if res := ed.do(req); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/account/2fa" {
		t.Fatalf("campaigns before enrolment: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	tok := ed.form("/admin/account/2fa")
	if s := ed.post("/admin/lists", url.Values{"csrf": {tok}, "name": {"X"}, "slug": {"x"}}).StatusCode; s != http.StatusForbidden {
		t.Fatalf("creating a list before enrolment: %d, want 403", s)
	}
	ed.enrolTOTP()
	if page := ed.get("/admin/campaigns"); !strings.Contains(page, "<h1>Campaigns</h1>") {
		t.Fatalf("after enrolment the editor is not signed in:\n%.400s", page)
	}
	au := e.anon()
	if res := au.signIn("author@example.com"); res.Header.Get("Location") != "/admin/" {
		t.Fatalf("author sign-in went to %q, want the dashboard", res.Header.Get("Location"))
	}
}

// TestSecondFactorCodes: a code is accepted once (a replay in its window
// is refused), a recovery code once, and wrong codes are throttled like
// passwords.
func TestSecondFactorCodes(t *testing.T) {
	e, _ := signinEnv(t)
	c := e.login(auth.Editor)
	secret := c.enrolTOTP()
	second := func(code string) int {
		cl := e.anon()
		if res := cl.signIn("editor@example.com"); !strings.HasPrefix(res.Header.Get("Location"), "/admin/login/second") {
			t.Fatalf("password sign-in went to %q, want the second factor", res.Header.Get("Location"))
		}
		return cl.post("/admin/login/second", url.Values{"csrf": {cl.form("/admin/login/second")}, "code": {code}}).StatusCode
	}
	next, _ := totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	if s := second(next); s != http.StatusSeeOther {
		t.Fatalf("a fresh code: %d", s)
	}
	if s := second(next); s != http.StatusUnauthorized {
		t.Fatalf("the same code again: %d, want 401", s)
	}
	codes, err := e.svc.NewRecoveryCodes(context.Background(), mustUser(t, e, "editor@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if s := second(strings.ToUpper(codes[3])); s != http.StatusSeeOther {
		t.Fatalf("a recovery code (typed in capitals): %d", s)
	}
	if s := second(codes[3]); s != http.StatusUnauthorized {
		t.Fatalf("a recovery code used twice: %d, want 401", s)
	}
	last := 0
	for range 5 {
		last = second("000000")
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("after many wrong codes: %d, want 429", last)
	}
	if !strings.Contains(e.logs.String(), "failed second factor") {
		t.Fatal("wrong codes were not logged at all (the check below would prove nothing)")
	}
	e.assertNotLogged(append([]string{secret, next}, codes...)...)
}

func mustUser(t *testing.T, e *env, email string) *store.User {
	t.Helper()
	u, err := e.st.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestOwnerResetsSecondFactorAndEndsSessions: an owner removes an
// editor's second factors and signs them out everywhere; the editor sees
// their own sessions with device and address and ends one.
func TestOwnerResetsSecondFactorAndEndsSessions(t *testing.T) {
	e, _ := signinEnv(t)
	ed := e.login(auth.Editor)
	ed.enrolTOTP()
	ed2 := e.login(auth.Viewer) // another user's session must survive
	page := ed.get("/admin/account")
	if !strings.Contains(page, "this browser") || !strings.Contains(page, "127.0.0.1") || !strings.Contains(page, "Go-http-client") && !strings.Contains(page, "Browser") {
		t.Fatalf("the account page does not list the session with its device and address:\n%s", page)
	}
	owner := e.login(auth.Owner)
	id := fmt.Sprint(e.users[auth.Editor].ID)
	if s := owner.post("/admin/users/"+id+"/2fa-reset", url.Values{"csrf": {owner.csrf}}).StatusCode; s != http.StatusSeeOther {
		t.Fatalf("reset: %d", s)
	}
	if u := mustUser(t, e, "editor@example.com"); u.TOTP {
		t.Fatal("the editor still has an authenticator app")
	}
	if page := owner.get("/admin/users/" + id + "/sessions"); !strings.Contains(page, "127.0.0.1") {
		t.Fatalf("the owner does not see the editor's session:\n%.600s", page)
	}
	if s := owner.post("/admin/users/"+id+"/sessions/end", url.Values{"csrf": {owner.csrf}}).StatusCode; s != http.StatusSeeOther {
		t.Fatalf("ending the sessions: %d", s)
	}
	req, _ := http.NewRequest("GET", e.srv.URL+"/admin/campaigns", nil)
	if res := ed.do(req); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/admin/login") {
		t.Fatalf("the editor's session still works: %d", res.StatusCode)
	}
	if page := ed2.get("/admin/campaigns"); !strings.Contains(page, "<h1>Campaigns</h1>") {
		t.Fatal("another user's session ended too")
	}
	// Both are in the audit log as the owner's, from the admin.
	for _, action := range []string{audit.UserTwoFactorReset, audit.SessionEnd} {
		got := auditEntries(t, e, action)
		if len(got) != 1 || got[0].Actor != "owner@example.com" || got[0].Via != audit.ViaAdmin || got[0].Object != "user/"+id || got[0].IP == "" {
			t.Errorf("%s in the audit log: %+v", action, got)
		}
	}
	if got := auditEntries(t, e, audit.UserTwoFactorReset); len(got) == 1 && audit.Show(got[0].Changes["app"].Before) != "true" {
		t.Errorf("the reset's changes: %+v", got[0].Changes)
	}
}

// auditEntries returns the audit log's entries of one action.
func auditEntries(t *testing.T, e *env, action string) []audit.Entry {
	t.Helper()
	got, err := e.st.AuditEntries(context.Background(), audit.Filter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestForgotPasswordSameAnswer: the form answers the same for an address
// with an account and one without, and only the first gets mail; the
// fourth request for one address within the window is refused for both.
func TestForgotPasswordSameAnswer(t *testing.T) {
	e, _ := signinEnv(t)
	ask := func(c *client, email string) (int, string) {
		req, _ := http.NewRequest("POST", e.srv.URL+"/admin/forgot", strings.NewReader(url.Values{"csrf": {c.form("/admin/forgot")}, "email": {email}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res := c.do(req)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	s1, known := ask(e.anon(), "viewer@example.com")
	s2, unknown := ask(e.anon(), "nobody@example.com")
	if s1 != http.StatusOK || s2 != http.StatusOK || known != unknown {
		t.Fatalf("answers differ: %d %d\n%s\n----\n%s", s1, s2, known, unknown)
	}
	waitOutbox(t, e, 1)
	// Wait a moment more: nothing goes to the unknown address.
	time.Sleep(300 * time.Millisecond)
	if n, _ := e.outbox.Count(); n != 1 {
		t.Fatalf("outbox holds %d messages, want 1", n)
	}
	for _, email := range []string{"viewer@example.com", "nobody@example.com"} {
		var s int
		for range 3 {
			s, _ = ask(e.anon(), email)
		}
		if s != http.StatusTooManyRequests {
			t.Errorf("fourth request for %s: %d, want 429", email, s)
		}
	}
}

// waitOutbox waits until the outbox holds n messages.
func waitOutbox(t *testing.T, e *env, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := e.outbox.Count(); err == nil && c >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the outbox did not get %d messages", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var resetLink = regexp.MustCompile(`https?://[^\s"<>]+/admin/reset/[A-Za-z0-9_-]+`)

// outboxResetLink returns the reset link in the newest outbox message.
func outboxResetLink(t *testing.T, e *env) string {
	t.Helper()
	items, err := e.outbox.List(0, 1)
	if err != nil || len(items) == 0 {
		t.Fatalf("outbox: %v", err)
	}
	_, raw, err := e.outbox.Get(items[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("List-Unsubscribe")) || bytes.Contains(raw, []byte("List-Id")) {
		t.Fatalf("the reset message carries list headers, as if to a reader:\n%s", raw)
	}
	mr, err := gomail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	for {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("no text part with a reset link in:\n%s", raw)
		}
		if ct, _, _ := p.Header.(*gomail.InlineHeader).ContentType(); ct != "text/plain" {
			continue
		}
		body, _ := io.ReadAll(p.Body)
		if m := resetLink.FindString(string(body)); m != "" {
			return m
		}
	}
}

func clientFor(ip string) auth.Client { return auth.Client{IP: ip} }

// logBuffer collects log lines from several goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// assertNotLogged fails when any secret appears in what was logged.
func (e *env) assertNotLogged(secrets ...string) {
	e.t.Helper()
	logged := e.logs.String()
	for _, s := range secrets {
		if s != "" && strings.Contains(logged, s) {
			e.t.Errorf("a secret was logged: %q in\n%s", s, logged)
		}
	}
}
