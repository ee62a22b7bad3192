package admin_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/herald-news/herald/internal/browsertest"
)

// signInBrowser fills the password form and submits it.
func signInBrowser(b *browsertest.Browser, t *testing.T, base, email string) {
	t.Helper()
	b.Do(chromedp.Navigate(base+"/admin/login"), chromedp.WaitVisible(css("#email")),
		chromedp.SendKeys(css("#email"), email), chromedp.SendKeys(css("#password"), password))
	clickNav(b, t, "#login-form button[type=submit]")
}

// signOutBrowser presses Sign out in the sidebar.
func signOutBrowser(b *browsertest.Browser, t *testing.T) {
	t.Helper()
	browsertest.Run(b, chromedp.Evaluate[bool](`window.__old = true`))
	browsertest.Run(b, chromedp.Evaluate[bool](`document.querySelector('form[action="/admin/logout"]').submit(), true`))
	waitJS(b, t, `!window.__old && document.readyState === "complete"`)
}

// enterCode types a code on the second-factor page and submits it.
func enterCode(b *browsertest.Browser, t *testing.T, code string) {
	t.Helper()
	b.Do(chromedp.WaitVisible(css("#code")))
	browsertest.Run(b, chromedp.Evaluate[bool](`document.getElementById("code").value = "", true`))
	b.Do(chromedp.SendKeys(css("#code"), code))
	clickNav(b, t, `form[action="/admin/login/second"] button[type=submit]`)
}

func pagePath(b *browsertest.Browser) string {
	return browsertest.Run(b, chromedp.Evaluate[string](`location.pathname`))
}

func bodyText(b *browsertest.Browser) string {
	return browsertest.Run(b, chromedp.Evaluate[string](`document.body.innerText`))
}

// assertNoPageErrors fails on console errors and exceptions other than
// the refused sign-in answers the test provokes on purpose.
func assertNoPageErrors(b *browsertest.Browser, t *testing.T) {
	t.Helper()
	for _, p := range b.Problems() {
		if strings.Contains(p, "status of 401") || strings.Contains(p, "status of 400") || strings.Contains(p, "status of 404") {
			continue
		}
		t.Errorf("browser problem: %s", p)
	}
}

// TestBrowserTwoFactor is an editor's first week with two-factor sign-in
// in Chromium: set up the app from the account page (QR code and key),
// save the ten recovery codes, sign in with an app code, see the same
// code refused the second time, then lose the phone and sign in with a
// recovery code, which works once.
func TestBrowserTwoFactor(t *testing.T) {
	e, base := signinEnv(t)
	b := browsertest.New(t)

	signInBrowser(b, t, base, "editor@example.com")
	b.Do(chromedp.Navigate(base+"/admin/account"), chromedp.WaitVisible(css("#totp-setup")))
	clickNav(b, t, "#totp-setup")
	waitJS(b, t, `document.getElementById("totp-qr") && document.getElementById("totp-qr").complete`)
	if w := browsertest.Run(b, chromedp.Evaluate[int](`document.getElementById("totp-qr").naturalWidth`)); w != 240 {
		t.Fatalf("the QR code is %d pixels wide, want an image of 240", w)
	}
	b.Screenshot("enrolment")
	secret := strings.ReplaceAll(browsertest.Run(b, chromedp.Text(css("#totp-secret"))), " ", "")
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b.Do(chromedp.SendKeys(css("#code"), code))
	clickNav(b, t, `form[action="/admin/account/2fa"] button[type=submit]`)
	b.Do(chromedp.WaitVisible(css("#recovery-codes")))
	b.Screenshot("recovery-codes")
	codes := browsertest.Run(b, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#recovery-codes li")].map(li => li.textContent)`))
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes shown, want 10", len(codes))
	}
	if u := mustUser(t, e, "editor@example.com"); !u.TOTP {
		t.Fatal("the app is not recorded as set up")
	}
	e.assertNotLogged(append([]string{secret}, codes...)...)

	// Sign in with the app: the enrolment code is spent, the next one works.
	signOutBrowser(b, t)
	signInBrowser(b, t, base, "editor@example.com")
	if p := pagePath(b); p != "/admin/login/second" {
		t.Fatalf("after the password: %s, want the second-factor page", p)
	}
	b.Screenshot("second-factor")
	enterCode(b, t, code)
	if !strings.Contains(bodyText(b), "was used already") {
		t.Fatalf("a replayed code was not refused:\n%s", bodyText(b))
	}
	next, _ := totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	enterCode(b, t, next)
	if p := pagePath(b); p != "/admin/" {
		t.Fatalf("after the app code: %s, want the dashboard", p)
	}

	// Phone lost: a recovery code signs in once.
	signOutBrowser(b, t)
	signInBrowser(b, t, base, "editor@example.com")
	enterCode(b, t, codes[0])
	if p := pagePath(b); p != "/admin/" || !strings.Contains(bodyText(b), "Recovery codes left: 9") {
		t.Fatalf("after a recovery code: %s\n%s", p, bodyText(b))
	}
	signOutBrowser(b, t)
	signInBrowser(b, t, base, "editor@example.com")
	enterCode(b, t, codes[0])
	if p := pagePath(b); p != "/admin/login/second" {
		t.Fatalf("a spent recovery code signed in (%s)", p)
	}
	assertNoPageErrors(b, t)
}

// addAuthenticator gives the browser a virtual platform authenticator
// (DevTools WebAuthn domain) that holds discoverable credentials and
// verifies its user, as a laptop's fingerprint reader would.
func addAuthenticator(b *browsertest.Browser, t *testing.T) {
	t.Helper()
	b.Do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
				Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
				IsUserVerified: true, AutomaticPresenceSimulation: true},
		})
		return err
	}))
}

// TestBrowserPasskey registers a passkey on the account page with
// Chromium's virtual authenticator, then signs in with it alone from the
// sign-in page (no password, no code: it counts as two factors).
func TestBrowserPasskey(t *testing.T) {
	e, base := signinEnv(t)
	b := browsertest.New(t)
	signInBrowser(b, t, base, "owner@example.com")
	addAuthenticator(b, t)
	b.Do(chromedp.Navigate(base+"/admin/account"), chromedp.WaitVisible(css("#passkey-add")),
		chromedp.SendKeys(css("#passkey-name"), "Newsroom laptop"))
	browsertest.Run(b, chromedp.Evaluate[bool](`window.__old = true`))
	b.Do(chromedp.Click(css("#passkey-add")))
	waitJS(b, t, `!window.__old && document.readyState === "complete" && document.querySelector(".passkey-row") !== null`)
	b.Screenshot("passkeys")
	if !strings.Contains(bodyText(b), "Newsroom laptop") {
		t.Fatalf("the passkey is not listed:\n%s", bodyText(b))
	}
	if u := mustUser(t, e, "owner@example.com"); u.Passkeys != 1 {
		t.Fatalf("owner has %d passkeys, want 1", u.Passkeys)
	}

	signOutBrowser(b, t)
	b.Do(chromedp.Navigate(base+"/admin/login"), chromedp.WaitVisible(css("#passkey-signin")))
	b.Screenshot("sign-in-options")
	browsertest.Run(b, chromedp.Evaluate[bool](`window.__old = true`))
	b.Do(chromedp.Click(css("#passkey-signin")))
	waitJS(b, t, `!window.__old && document.readyState === "complete" && location.pathname === "/admin/"`)
	if who := bodyText(b); !strings.Contains(who, "Owner") {
		t.Fatalf("signed in as someone else:\n%s", who)
	}
	b.Do(chromedp.Navigate(base+"/admin/account"), chromedp.WaitVisible(css("table.sessions")))
	how := browsertest.Run(b, chromedp.Evaluate[string](`[...document.querySelectorAll("table.sessions tbody tr")]
		.find(tr => tr.textContent.includes("this browser")).querySelector(".sub").textContent`))
	if how != "passkey" {
		t.Fatalf("this browser's session began with %q, want passkey", how)
	}
	assertNoPageErrors(b, t)
}

// TestBrowserPasswordReset: a forgotten password in Chromium. The link
// is taken from the outbox, where the mail queue delivered it; the new
// password signs in, the old one and the used link do not, and the
// session the user had elsewhere has ended.
func TestBrowserPasswordReset(t *testing.T) {
	e, base := signinEnv(t)
	elsewhere := e.login("viewer")
	b := browsertest.New(t)
	b.Do(chromedp.Navigate(base+"/admin/login"), chromedp.WaitVisible(css("#email")))
	if txt := browsertest.Run(b, chromedp.Text(css(`a[href="/admin/forgot"]`))); txt != "Forgot your password?" {
		t.Fatalf("the forgotten-password link reads %q", txt)
	}
	b.Do(chromedp.Click(css(`a[href="/admin/forgot"]`)))
	waitJS(b, t, `location.pathname === "/admin/forgot" && document.readyState === "complete"`)
	b.Do(chromedp.WaitVisible(css("#email")), chromedp.SendKeys(css("#email"), "viewer@example.com"))
	clickNav(b, t, `form[action="/admin/forgot"] button[type=submit]`)
	b.Do(chromedp.WaitVisible(css("#forgot-sent")))
	waitOutbox(t, e, 1)
	link := outboxResetLink(t, e)
	if !strings.HasPrefix(link, base+"/admin/reset/") {
		t.Fatalf("reset link %q is not on %s", link, base)
	}
	b.Do(chromedp.Navigate(link), chromedp.WaitVisible(css("#password")),
		chromedp.SendKeys(css("#password"), "a brand new passphrase"), chromedp.SendKeys(css("#confirm"), "a brand new passphrase"))
	b.Screenshot("reset")
	clickNav(b, t, `form button[type=submit]`)
	if p := pagePath(b); p != "/admin/login" || !strings.Contains(bodyText(b), "Your password is changed") {
		t.Fatalf("after the reset: %s\n%s", p, bodyText(b))
	}
	b.Do(chromedp.SendKeys(css("#email"), "viewer@example.com"), chromedp.SendKeys(css("#password"), "a brand new passphrase"))
	clickNav(b, t, "#login-form button[type=submit]")
	if p := pagePath(b); p != "/admin/" {
		t.Fatalf("the new password did not sign in: %s", p)
	}
	b.Do(chromedp.Navigate(link), chromedp.WaitVisible(css(".flash-err")))
	if !strings.Contains(bodyText(b), "not valid") {
		t.Fatalf("a used link still works:\n%s", bodyText(b))
	}
	if page := elsewhere.get("/admin/campaigns"); strings.Contains(page, "<h1>Campaigns</h1>") {
		t.Fatal("the session signed in with the old password still works")
	}
	if _, _, err := e.svc.Login(context.Background(), "viewer@example.com", password, clientFor("198.51.100.7")); err == nil {
		t.Fatal("the old password still signs in")
	}
	e.assertNotLogged(link[strings.LastIndexByte(link, '/')+1:], "a brand new passphrase")
	assertNoPageErrors(b, t)
}
