package admin

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/herald-news/herald/internal/auth"
)

// Forgotten passwords, reset links, passkey sign-in and single sign-on:
// the sign-in doors besides the password form (login.go).

func (a *Admin) forgotForm(w http.ResponseWriter, r *http.Request) error {
	a.page(w, r, http.StatusOK, "forgot", "Forgot your password?", "", map[string]any{"Token": a.loginToken(w, r)})
	return nil
}

func (a *Admin) forgot(w http.ResponseWriter, r *http.Request) error {
	if !a.loginCSRF(r) {
		a.page(w, r, http.StatusForbidden, "forgot", "Forgot your password?", "", map[string]any{"Token": a.loginToken(w, r),
			"Problem": "The form expired. Try again."})
		return nil
	}
	err := a.d.Auth.RequestReset(r.Context(), r.FormValue("email"), a.client(r))
	if errors.Is(err, auth.ErrRateLimited) {
		a.page(w, r, http.StatusTooManyRequests, "forgot", "Forgot your password?", "", map[string]any{"Token": a.loginToken(w, r),
			"Problem": "Too many requests. Wait a few minutes and try again."})
		return nil
	}
	if err != nil {
		return err
	}
	// The same answer whether or not the address has an account.
	a.page(w, r, http.StatusOK, "forgot", "Forgot your password?", "", map[string]any{"Sent": true})
	return nil
}

func (a *Admin) resetForm(w http.ResponseWriter, r *http.Request) error {
	u, err := a.d.Auth.CheckResetLink(r.Context(), r.PathValue("token"))
	if errors.Is(err, auth.ErrResetLink) {
		a.page(w, r, http.StatusNotFound, "reset", "Choose a new password", "", map[string]any{"Invalid": true})
		return nil
	}
	if err != nil {
		return err
	}
	a.page(w, r, http.StatusOK, "reset", "Choose a new password", "", map[string]any{"Token": a.loginToken(w, r), "Email": u.Email,
		"Link": r.PathValue("token")})
	return nil
}

func (a *Admin) reset(w http.ResponseWriter, r *http.Request) error {
	link := r.PathValue("token")
	again := func(status int, problem string) error {
		a.page(w, r, status, "reset", "Choose a new password", "", map[string]any{"Token": a.loginToken(w, r), "Link": link, "Problem": problem})
		return nil
	}
	if !a.loginCSRF(r) {
		return again(http.StatusForbidden, "The form expired. Try again.")
	}
	if r.FormValue("password") != r.FormValue("confirm") {
		return again(http.StatusBadRequest, "The two passwords differ. Type the same password twice.")
	}
	_, err := a.d.Auth.ResetPassword(r.Context(), link, r.FormValue("password"), a.client(r))
	switch {
	case errors.Is(err, auth.ErrResetLink):
		a.page(w, r, http.StatusNotFound, "reset", "Choose a new password", "", map[string]any{"Invalid": true})
		return nil
	case errors.Is(err, auth.ErrRateLimited):
		return again(http.StatusTooManyRequests, "Too many attempts. Wait a few minutes and try again.")
	case errors.Is(err, auth.ErrPasswordSignInOff):
		return a.showLogin(w, r, http.StatusForbidden, "Sign-in with a password is turned off here. Use your organisation's sign-in below.")
	case errors.Is(err, auth.ErrWeakPassword), errors.Is(err, auth.ErrLongPassword):
		return again(http.StatusBadRequest, title(err.Error())+".")
	case err != nil:
		return err
	}
	return a.redirect(w, r, "/admin/login", "Your password is changed and every session that used the old one has ended. Sign in with the new one.", false)
}

// title capitalises a sentence.
func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// maxCeremony bounds a passkey answer (a few kilobytes in practice).
const maxCeremony = 64 << 10

// writeJSON answers a script.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// passkeyError answers a failed passkey ceremony with words for the page.
func (a *Admin) passkeyError(w http.ResponseWriter, r *http.Request, err error) error {
	switch {
	case errors.Is(err, auth.ErrPasskey), errors.Is(err, auth.ErrNoPasskeys), errors.Is(err, auth.ErrPasswordSignInOff):
		return writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
	case errors.Is(err, auth.ErrRateLimited):
		return writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "Too many attempts. Wait a few minutes and try again."})
	}
	a.d.Log.Error("passkey request failed", "path", r.URL.Path, "err", err)
	return writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "Something went wrong on our side. Try again in a moment."})
}

func (a *Admin) passkeyLoginBegin(w http.ResponseWriter, r *http.Request) error {
	if !a.loginCSRF(r) {
		return writeJSON(w, http.StatusForbidden, map[string]string{"error": "The page expired. Reload it and try again."})
	}
	cer, err := a.d.Auth.BeginPasskeyLogin(r.Context())
	if err != nil {
		return a.passkeyError(w, r, err)
	}
	return writeJSON(w, http.StatusOK, cer)
}

func (a *Admin) passkeyLoginFinish(w http.ResponseWriter, r *http.Request) error {
	if !a.loginCSRF(r) {
		return writeJSON(w, http.StatusForbidden, map[string]string{"error": "The page expired. Reload it and try again."})
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxCeremony))
	if err != nil {
		return err
	}
	cookie, _, err := a.d.Auth.FinishPasskeyLogin(r.Context(), r.URL.Query().Get("key"), body, a.client(r))
	if err != nil {
		return a.passkeyError(w, r, err)
	}
	a.setSession(w, cookie)
	return writeJSON(w, http.StatusOK, map[string]string{"next": safeNext(r.URL.Query().Get("next"))})
}

// ssoCookie keeps the state of a round trip through a provider in the
// browser that started it.
const ssoCookie = "herald_sso"

func (a *Admin) ssoStart(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	to, state, err := a.d.Auth.StartSSO(r.Context(), name, safeNext(r.FormValue("next")))
	var se *auth.SSOError
	if errors.As(err, &se) {
		return a.showLogin(w, r, http.StatusNotFound, se.Reason+".")
	}
	if err != nil {
		a.d.Log.Error("single sign-on start failed", "provider", name, "err", err)
		return a.showLogin(w, r, http.StatusBadGateway, "The sign-in service "+name+" cannot be reached. Try again in a moment.")
	}
	// Lax: the provider's redirect back is a top-level navigation.
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: state, Path: "/admin/sso/", HttpOnly: true, Secure: a.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: 600})
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// oauthErrorCode is the shape of an OAuth error code (access_denied).
var oauthErrorCode = regexp.MustCompile(`^[a-z_]{1,40}$`)

func (a *Admin) ssoCallback(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Path: "/admin/sso/", MaxAge: -1, HttpOnly: true, Secure: a.secure})
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		// Anyone can write this parameter into a link: only an OAuth error
		// code (RFC 6749: letters and underscores) is shown, never free text.
		if !oauthErrorCode.MatchString(e) {
			a.d.Log.Warn("single sign-on error not shown", "provider", name, "error_length", len(e))
			e = "error"
		}
		return a.showLogin(w, r, http.StatusBadRequest, "The sign-in at "+name+" did not complete ("+e+").")
	}
	kept := ""
	if c, err := r.Cookie(ssoCookie); err == nil {
		kept = c.Value
	}
	res, err := a.d.Auth.FinishSSO(r.Context(), name, kept, q.Get("state"), q.Get("code"), a.client(r))
	var se *auth.SSOError
	switch {
	case errors.As(err, &se):
		return a.showLogin(w, r, http.StatusBadRequest, se.Reason+".")
	case err != nil:
		return err
	}
	a.setSession(w, res.Cookie)
	http.Redirect(w, r, safeNext(res.Next), http.StatusSeeOther)
	return nil
}
