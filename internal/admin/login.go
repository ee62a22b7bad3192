package admin

import (
	"cmp"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/i18n"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/validator"
)

// The sign-in pages have no session yet, so their CSRF token is a random
// value kept in a cookie and echoed by the form (double submit). One
// cookie serves the sign-in, forgotten-password, reset and passkey forms.
const loginCSRFCookie = "herald_login"

// loginToken returns the double-submit token, setting its cookie when the
// browser has none yet (a second tab keeps the first one's token valid).
func (a *Admin) loginToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(loginCSRFCookie); err == nil && len(c.Value) == 32 {
		return c.Value
	}
	b := make([]byte, 24)
	rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: tok, Path: "/admin/", HttpOnly: true,
		Secure: a.secure, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	return tok
}

// loginCSRF checks a sign-in form's token (field csrf, or the
// X-CSRF-Token header from a script) against its cookie.
func (a *Admin) loginCSRF(r *http.Request) bool {
	c, err := r.Cookie(loginCSRFCookie)
	if err != nil || !a.sameOrigin(r) {
		return false
	}
	sent := r.Header.Get("X-CSRF-Token")
	if sent == "" {
		sent = r.FormValue("csrf")
	}
	return sent != "" && subtle.ConstantTimeCompare([]byte(c.Value), []byte(sent)) == 1
}

func (a *Admin) loginForm(w http.ResponseWriter, r *http.Request) error {
	return a.showLogin(w, r, http.StatusOK, "")
}

func (a *Admin) showLogin(w http.ResponseWriter, r *http.Request, status int, problem string) error {
	tok := a.loginToken(w, r)
	pol, err := a.d.Auth.Policy(r.Context())
	if err != nil {
		return err
	}
	a.page(w, r, status, "login", a.lang(r).T("admin.login.title"), "", map[string]any{
		"Token": tok, "Next": safeNext(r.FormValue("next")), "Problem": problem, "Email": r.FormValue("email"),
		"Providers": a.d.Auth.Providers(), "Passkeys": a.d.Auth.PasskeysAvailable() && !pol.PasswordSignInOff,
		"PasswordOff": pol.PasswordSignInOff,
	})
	return nil
}

// safeNext keeps redirects after sign-in inside the admin.
func safeNext(s string) string {
	if !strings.HasPrefix(s, "/admin/") || strings.HasPrefix(s, "//") || strings.Contains(s, "\\") {
		return "/admin/"
	}
	return s
}

func (a *Admin) login(w http.ResponseWriter, r *http.Request) error {
	l := a.lang(r)
	if !a.loginCSRF(r) {
		return a.showLogin(w, r, http.StatusForbidden, l.T("admin.account.login.expired"))
	}
	cookie, id, err := a.d.Auth.Login(r.Context(), r.FormValue("email"), r.FormValue("password"), a.client(r))
	switch {
	case errors.Is(err, auth.ErrPasswordSignInOff):
		return a.showLogin(w, r, http.StatusForbidden, l.T("admin.account.login.password_off"))
	case errors.Is(err, auth.ErrRateLimited):
		return a.showLogin(w, r, http.StatusTooManyRequests, l.T("admin.account.login.too_many"))
	case errors.Is(err, auth.ErrSpacesAroundPassword):
		return a.showLogin(w, r, http.StatusUnauthorized, l.T("admin.account.login.spaces"))
	case errors.Is(err, auth.ErrBadCredentials):
		return a.showLogin(w, r, http.StatusUnauthorized, l.T("admin.account.login.no_match"))
	case err != nil:
		return err
	}
	a.setSession(w, cookie)
	next := safeNext(r.FormValue("next"))
	switch {
	case id.Stage == store.StageSecond:
		http.Redirect(w, r, "/admin/login/second?next="+urlQueryEscape(next), http.StatusSeeOther)
	case id.Stage == store.StageEnrol:
		return a.redirect(w, r, "/admin/account/2fa", l.T("admin.account.enrol.required"), false)
	case id.User.MustChangePassword:
		// A password Herald generated is replaced before anything else.
		http.Redirect(w, r, "/admin/account", http.StatusSeeOther)
	default:
		http.Redirect(w, r, next, http.StatusSeeOther)
	}
	return nil
}

// setSession gives the browser its session cookie.
func (a *Admin) setSession(w http.ResponseWriter, cookie string) {
	http.SetCookie(w, &http.Cookie{Name: a.cookieName(), Value: cookie, Path: "/", HttpOnly: true, Secure: a.secure,
		SameSite: http.SameSiteLaxMode})
}

// pendingIdentity is the session of a browser that passed its password and
// owes a second factor, or nil.
func (a *Admin) pendingIdentity(r *http.Request) *auth.Identity {
	c, err := r.Cookie(a.cookieName())
	if err != nil {
		return nil
	}
	id, err := a.d.Auth.Session(r.Context(), c.Value)
	if err != nil || id.Stage != store.StageSecond {
		return nil
	}
	return id
}

func (a *Admin) secondForm(w http.ResponseWriter, r *http.Request) error {
	return a.showSecond(w, r, http.StatusOK, "")
}

func (a *Admin) showSecond(w http.ResponseWriter, r *http.Request, status int, problem string) error {
	id := a.pendingIdentity(r)
	if id == nil {
		http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
		return nil
	}
	a.page(w, r, status, "login_second", a.lang(r).T("admin.account.second.title"), "", map[string]any{
		"Token": a.loginToken(w, r), "SessionCSRF": id.CSRF, "Next": safeNext(r.FormValue("next")), "Problem": problem,
		"TOTP": id.User.TOTP, "Passkeys": id.User.Passkeys > 0 && a.d.Auth.PasskeysAvailable(), "Email": id.User.Email,
	})
	return nil
}

func (a *Admin) second(w http.ResponseWriter, r *http.Request) error {
	l := a.lang(r)
	id := a.pendingIdentity(r)
	if id == nil {
		return a.showLogin(w, r, http.StatusUnauthorized, l.T("admin.account.login.too_long"))
	}
	if !a.sameOrigin(r) || !auth.CheckCSRF(id, r.FormValue("csrf")) {
		return a.showSecond(w, r, http.StatusForbidden, l.T("admin.account.second.expired"))
	}
	c, _ := r.Cookie(a.cookieName())
	cookie, _, left, err := a.d.Auth.SecondFactor(r.Context(), c.Value, r.FormValue("code"), a.client(r))
	switch {
	case errors.Is(err, auth.ErrRateLimited):
		return a.showSecond(w, r, http.StatusTooManyRequests, l.T("admin.account.second.too_many"))
	case errors.Is(err, auth.ErrBadCode):
		return a.showSecond(w, r, http.StatusUnauthorized, l.T("admin.account.second.bad_code"))
	case errors.Is(err, auth.ErrNoSession):
		return a.showLogin(w, r, http.StatusUnauthorized, l.T("admin.account.login.too_long"))
	case err != nil:
		return err
	}
	a.setSession(w, cookie)
	msg := ""
	if left >= 0 {
		msg = l.T("admin.account.second.recovery_used") + " "
		switch left {
		case 0:
			msg += l.T("admin.account.second.recovery_none")
		default:
			msg += l.T("admin.account.second.recovery_left", "Count", l.Number(left))
		}
	}
	return a.redirect(w, r, safeNext(r.FormValue("next")), msg, left == 0)
}

func (a *Admin) logout(w http.ResponseWriter, r *http.Request) error {
	if err := a.d.Auth.Logout(r.Context(), identity(r)); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: a.cookieName(), Path: "/", MaxAge: -1, HttpOnly: true, Secure: a.secure})
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
	return nil
}

// client is the browser a sign-in request comes from: its address as the
// audit log reads it (the last X-Forwarded-For entry with trust_proxy,
// else the peer), and its User-Agent.
func (a *Admin) client(r *http.Request) auth.Client {
	return auth.Client{IP: a.clientIP(r), UserAgent: r.UserAgent()}
}

// clientIP is the address sign-in throttling applies to: behind a
// trusted proxy, the reader's, not the proxy's (which would make every
// failed attempt count against everyone).
func (a *Admin) clientIP(r *http.Request) string { return audit.ClientIP(r, a.d.TrustProxy) }

// setLanguage sets the language the signed-in user reads the admin in,
// then returns to the page they were on.
func (a *Admin) setLanguage(w http.ResponseWriter, r *http.Request) error {
	id := identity(r)
	lang := r.FormValue("language")
	if lang == i18n.Source {
		lang = ""
	}
	back := "/admin/"
	if ref, err := url.Parse(r.Referer()); err == nil && strings.HasPrefix(ref.Path, "/admin/") {
		back = ref.Path
	}
	err := a.d.Store.SetUserLanguage(r.Context(), id.User.ID, lang)
	if ve := validator.As(err); ve != nil {
		return a.redirect(w, r, back, ve.Message, true)
	}
	if err != nil {
		return err
	}
	return a.redirect(w, r, back, i18n.For(cmp.Or(lang, i18n.Source)).T("admin.language.saved"), false)
}
