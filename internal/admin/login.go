package admin

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"github.com/herald-news/herald/internal/audit"
	"net/http"
	"strings"

	"github.com/herald-news/herald/internal/auth"
)

// The sign-in form has no session yet, so its CSRF token is a random
// value kept in a cookie and echoed by the form (double submit).
const loginCSRFCookie = "herald_login"

func (a *Admin) loginForm(w http.ResponseWriter, r *http.Request) error {
	return a.showLogin(w, r, http.StatusOK, "")
}

func (a *Admin) showLogin(w http.ResponseWriter, r *http.Request, status int, problem string) error {
	b := make([]byte, 24)
	rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: tok, Path: "/admin/login", HttpOnly: true,
		Secure: a.secure, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	a.page(w, r, status, "login", "Sign in", "", map[string]any{
		"Token": tok, "Next": safeNext(r.FormValue("next")), "Problem": problem, "Email": r.FormValue("email"),
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
	c, err := r.Cookie(loginCSRFCookie)
	if err != nil || !a.sameOrigin(r) || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.FormValue("csrf"))) != 1 {
		return a.showLogin(w, r, http.StatusForbidden, "The sign-in form expired. Try again.")
	}
	cookie, _, err := a.d.Auth.Login(r.Context(), r.FormValue("email"), r.FormValue("password"), a.clientIP(r))
	switch {
	case errors.Is(err, auth.ErrRateLimited):
		return a.showLogin(w, r, http.StatusTooManyRequests, "Too many failed attempts from here. Wait a moment and try again: each failure doubles the wait.")
	case errors.Is(err, auth.ErrBadCredentials):
		return a.showLogin(w, r, http.StatusUnauthorized, "That email and password do not match an account.")
	case err != nil:
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: a.cookieName(), Value: cookie, Path: "/", HttpOnly: true, Secure: a.secure,
		SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Path: "/admin/login", MaxAge: -1})
	http.Redirect(w, r, safeNext(r.FormValue("next")), http.StatusSeeOther)
	return nil
}

func (a *Admin) logout(w http.ResponseWriter, r *http.Request) error {
	if err := a.d.Auth.Logout(r.Context(), identity(r)); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: a.cookieName(), Path: "/", MaxAge: -1, HttpOnly: true, Secure: a.secure})
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
	return nil
}

// clientIP is the address sign-in throttling applies to: behind a
// trusted proxy, the reader's, not the proxy's (which would make every
// failed attempt count against everyone).
func (a *Admin) clientIP(r *http.Request) string { return audit.ClientIP(r, a.d.TrustProxy) }
