package admin_test

import (
	"bytes"
	"context"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	gomail "github.com/emersion/go-message/mail"
	"golang.org/x/crypto/bcrypt"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/browsertest"
)

// typeInto empties a field and types text into it, as a person would.
func typeInto(b *browsertest.Browser, sel, text string) {
	browsertest.Run(b, chromedp.Evaluate[bool](`document.querySelector(`+"`"+sel+"`"+`).value = "", true`))
	b.Do(chromedp.SendKeys(css(sel), text))
}

// assertOnlyRefusals fails on console errors and exceptions other than
// the refused answers (401, 422) the test provokes on purpose.
func assertOnlyRefusals(b *browsertest.Browser, t *testing.T) {
	t.Helper()
	for _, p := range b.Problems() {
		if strings.Contains(p, "status of 401") || strings.Contains(p, "status of 422") {
			continue
		}
		t.Errorf("browser problem: %s", p)
	}
}

// TestBrowserOneTimePasswordReplaced is issue 23's newcomer in Chromium:
// the one-time password pasted with the spaces around it is refused with
// a hint (not "do not match"); signed in with it, the user is sent to
// choose their own before anything else; a refused password says why on
// the same page; the new one keeps this browser signed in and ends the
// other session. Later the user changes it again from the account page,
// where the current password is asked for. Every change is audited.
func TestBrowserOneTimePasswordReplaced(t *testing.T) {
	e, base := signinEnv(t)
	ctx := context.Background()
	u, onetime, err := auth.CreateUserWithGeneratedPassword(ctx, e.st, "newcomer@example.com", "Nadia Okafor", auth.Owner, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	// Another browser signed in with the one-time password meanwhile.
	elsewhere := e.anon()
	res := elsewhere.post("/admin/login", url.Values{"csrf": {elsewhere.form("/admin/login")}, "email": {u.Email}, "password": {onetime}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/account" {
		t.Fatalf("sign-in with the one-time password: %d to %q, want the account page", res.StatusCode, res.Header.Get("Location"))
	}

	b := browsertest.New(t)
	b.Do(chromedp.Navigate(base+"/admin/login"), chromedp.WaitVisible(css("#email")),
		chromedp.SendKeys(css("#email"), u.Email), chromedp.SendKeys(css("#password"), "    "+onetime))
	clickNav(b, t, "#login-form button[type=submit]")
	page := bodyText(b)
	if !strings.Contains(page, "begins or ends with a space") || strings.Contains(page, "do not match") {
		t.Fatalf("a password pasted with its indentation was not told so:\n%s", page)
	}
	b.Screenshot("signin-spaces")

	typeInto(b, "#password", onetime)
	clickNav(b, t, "#login-form button[type=submit]")
	if p := pagePath(b); p != "/admin/account" {
		t.Fatalf("after the one-time password: %s, want the account page", p)
	}
	if h := browsertest.Run(b, chromedp.Text(css("h1"))); h != "Choose your own password" {
		t.Fatalf("the page asks %q", h)
	}
	if n := browsertest.Run(b, chromedp.Evaluate[int](`document.querySelectorAll("#current-password, #totp-setup, #end-others").length`)); n != 0 {
		t.Fatalf("the forced page shows %d other controls (or asks for the one-time password again)", n)
	}
	b.Screenshot("password-forced")
	// Nothing else opens before the password is replaced.
	b.Do(chromedp.Navigate(base + "/admin/campaigns"))
	waitJS(b, t, `document.readyState === "complete" && location.pathname === "/admin/account"`)

	for _, tc := range []struct{ next, confirm, field, want string }{
		{" my own passphrase ", " my own passphrase ", "#password-error", "cannot begin or end with a space"},
		{"my own passphrase", "my own passphrase!", "#confirm-error", "The two new passwords differ"},
		{onetime, onetime, "#password-error", "other than the one it replaces"},
	} {
		typeInto(b, "#new-password", tc.next)
		typeInto(b, "#confirm-password", tc.confirm)
		clickNav(b, t, "#password-save")
		if got := browsertest.Run(b, chromedp.Text(css(tc.field))); !strings.Contains(got, tc.want) {
			t.Fatalf("new password %q: %s says %q, want %q", tc.next, tc.field, got, tc.want)
		}
		if h := browsertest.Run(b, chromedp.Text(css("h1"))); h != "Choose your own password" {
			t.Fatalf("a refused password left the page: %q", h)
		}
	}
	b.Screenshot("password-refused")

	typeInto(b, "#new-password", "my own newsroom passphrase")
	typeInto(b, "#confirm-password", "my own newsroom passphrase")
	clickNav(b, t, "#password-save")
	if p := pagePath(b); p != "/admin/" || !strings.Contains(bodyText(b), "Your password is your own now.") {
		t.Fatalf("after choosing a password: %s\n%s", p, bodyText(b))
	}
	b.Screenshot("password-chosen")
	if got := mustUser(t, e, u.Email); got.MustChangePassword {
		t.Fatal("still asked to replace the password")
	}
	if page := elsewhere.get("/admin/account"); strings.Contains(page, "Choose your own password") {
		t.Fatal("the other session still works after the password changed")
	}

	// Later, from the account page: the current password is asked for.
	b.Do(chromedp.Navigate(base+"/admin/account"), chromedp.WaitVisible(css("#current-password")))
	typeInto(b, "#current-password", onetime)
	typeInto(b, "#new-password", "a second newsroom passphrase")
	typeInto(b, "#confirm-password", "a second newsroom passphrase")
	clickNav(b, t, "#password-save")
	if got := browsertest.Run(b, chromedp.Text(css("#current-error"))); got != "That is not your current password." {
		t.Fatalf("a wrong current password: %q", got)
	}
	if s := browsertest.Run(b, chromedp.Text(css("#password-problem"))); s == "" {
		t.Fatal("no summary above the form")
	}
	typeInto(b, "#current-password", "my own newsroom passphrase")
	typeInto(b, "#new-password", "a second newsroom passphrase")
	typeInto(b, "#confirm-password", "a second newsroom passphrase")
	clickNav(b, t, "#password-save")
	if p := pagePath(b); p != "/admin/account" || !strings.Contains(bodyText(b), "Password changed. You are still signed in here") {
		t.Fatalf("after changing the password: %s\n%s", p, bodyText(b))
	}
	b.Screenshot("password-changed")
	if _, _, err := e.svc.Login(ctx, u.Email, "a second newsroom passphrase", clientFor("198.51.100.9")); err != nil {
		t.Fatalf("the new password does not sign in: %v", err)
	}
	entries := auditEntries(t, e, audit.UserPassword)
	if len(entries) != 2 {
		t.Fatalf("%d password changes audited, want 2", len(entries))
	}
	for _, en := range entries {
		if en.Actor != u.Email || en.Via != audit.ViaAdmin {
			t.Errorf("audited as %s via %s, want the user in the admin", en.Actor, en.Via)
		}
	}
	e.assertNotLogged(onetime, "my own newsroom passphrase", "a second newsroom passphrase")
	assertOnlyRefusals(b, t)
}

// TestBrowserAccountInGerman: an editor who reads the admin in German sees
// the account page, its messages and the enrolment page in German; their
// password reset mail comes in German too, though the browser that asked
// for it speaks English, while an English user's comes in English.
func TestBrowserAccountInGerman(t *testing.T) {
	e, base := signinEnv(t)
	ctx := context.Background()
	ed := e.users[auth.Editor]
	if err := e.st.SetUserLanguage(ctx, ed.ID, "de"); err != nil {
		t.Fatal(err)
	}
	b := browsertest.New(t)
	signInBrowser(b, t, base, ed.Email)
	b.Do(chromedp.Navigate(base+"/admin/account"), chromedp.WaitVisible(css("#password-form")))
	b.Screenshot("account-de")
	page := html.UnescapeString(browsertest.Run(b, chromedp.Evaluate[string](`document.documentElement.outerHTML`)))
	for _, w := range []string{`<html lang="de">`, "<h1>Konto</h1>", "Aktuelles Passwort", "Passwort ändern", "Authenticator-App einrichten",
		"Noch keine Passkeys.", "Überall sonst abmelden", "dieser Browser", ">Passwort</span>", " unter Linux</strong>", "Redakteur · ",
		`data-msg-failed="Der Passkey konnte nicht verwendet werden."`} {
		if !strings.Contains(page, w) {
			t.Errorf("the German account page lacks %q", w)
		}
	}
	for _, english := range []string{"Change the password", "Authenticator app", "Sign out everywhere else", "this browser", "editor · "} {
		if strings.Contains(page, english) {
			t.Errorf("the German account page still says %q", english)
		}
	}
	// A refused password is explained in German on the same page.
	typeInto(b, "#current-password", password)
	typeInto(b, "#new-password", "ein neues Kennwort")
	typeInto(b, "#confirm-password", "ein anderes Kennwort")
	clickNav(b, t, "#password-save")
	if got := browsertest.Run(b, chromedp.Text(css("#confirm-error"))); !strings.HasPrefix(got, "Die beiden neuen Passwörter stimmen nicht überein.") {
		t.Errorf("the refusal reads %q", got)
	}
	b.Screenshot("account-de-refused")
	b.Do(chromedp.Navigate(base+"/admin/account/2fa"), chromedp.WaitVisible(css("#totp-qr")))
	if h := browsertest.Run(b, chromedp.Text(css("h1"))); h != "Zwei-Faktor-Anmeldung einrichten" {
		t.Errorf("the enrolment page reads %q", h)
	}

	// Signed out, the browser speaks English: the pages do, the mail
	// follows the user's setting.
	signOutBrowser(b, t)
	for _, email := range []string{ed.Email, e.users[auth.Viewer].Email} {
		b.Do(chromedp.Navigate(base+"/admin/forgot"), chromedp.WaitVisible(css("#email")), chromedp.SendKeys(css("#email"), email))
		clickNav(b, t, `form[action="/admin/forgot"] button[type=submit]`)
		b.Do(chromedp.WaitVisible(css("#forgot-sent")))
	}
	if got := browsertest.Run(b, chromedp.Text(css("#forgot-sent"))); !strings.HasPrefix(got, "If that address has an account here") {
		t.Errorf("the English page reads %q", got)
	}
	waitOutbox(t, e, 2)
	subject, text, body := outboxMessageTo(t, e, ed.Email)
	if subject != "Setzen Sie Ihr Herald-Passwort zurück" {
		t.Errorf("German subject %q", subject)
	}
	for _, w := range []string{"Jemand, hoffentlich Sie, hat verlangt, das Passwort von " + ed.Email, "noch 30 Minuten lang", "Ihr Passwort bleibt, wie es ist."} {
		if !strings.Contains(text, w) {
			t.Errorf("the German text part lacks %q:\n%s", w, text)
		}
	}
	if !strings.Contains(body, `<html lang="de"`) || !strings.Contains(html.UnescapeString(body), "Neues Passwort wählen") {
		t.Errorf("the German HTML part:\n%s", body)
	}
	subject, text, _ = outboxMessageTo(t, e, e.users[auth.Viewer].Email)
	if subject != "Reset your Herald password" || !strings.Contains(text, "Someone, hopefully you, asked to reset the password") {
		t.Errorf("the English mail: %q\n%s", subject, text)
	}
	assertOnlyRefusals(b, t)
}

// outboxMessageTo returns the subject, text and HTML of the outbox's
// message to email.
func outboxMessageTo(t *testing.T, e *env, email string) (subject, text, htmlPart string) {
	t.Helper()
	items, err := e.outbox.List(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.Envelope.To != email {
			continue
		}
		_, raw, err := e.outbox.Get(it.ID)
		if err != nil {
			t.Fatal(err)
		}
		mr, err := gomail.CreateReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		subject, err = mr.Header.Subject()
		if err != nil {
			t.Fatal(err)
		}
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			h, ok := p.Header.(*gomail.InlineHeader)
			if !ok {
				continue
			}
			ct, _, _ := h.ContentType()
			body, _ := io.ReadAll(p.Body)
			switch ct {
			case "text/plain":
				text = string(body)
			case "text/html":
				htmlPart = string(body)
			}
		}
		return subject, text, htmlPart
	}
	t.Fatalf("no message to %s in the outbox", email)
	return
}
