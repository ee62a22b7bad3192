package admin

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/validator"
)

// Forgotten passwords, reset links, passkey sign-in and single sign-on:
// the sign-in doors besides the password form (login.go).

func (a *Admin) forgotForm(w http.ResponseWriter, r *http.Request) error {
	return a.showForgot(w, r, http.StatusOK, map[string]any{"Token": a.loginToken(w, r)})
}

// showForgot renders the forgotten-password page with data.
func (a *Admin) showForgot(w http.ResponseWriter, r *http.Request, status int, data map[string]any) error {
	data["Minutes"] = int(auth.ResetTTL / time.Minute)
	a.page(w, r, status, "forgot", a.lang(r).T("admin.account.forgot.title"), "", data)
	return nil
}

func (a *Admin) forgot(w http.ResponseWriter, r *http.Request) error {
	l := a.lang(r)
	if !a.loginCSRF(r) {
		return a.showForgot(w, r, http.StatusForbidden, map[string]any{"Token": a.loginToken(w, r), "Problem": l.T("admin.account.forgot.expired")})
	}
	err := a.d.Auth.RequestReset(r.Context(), r.FormValue("email"), a.client(r))
	if errors.Is(err, auth.ErrRateLimited) {
		return a.showForgot(w, r, http.StatusTooManyRequests, map[string]any{"Token": a.loginToken(w, r), "Problem": l.T("admin.account.forgot.too_many")})
	}
	if err != nil {
		return err
	}
	// The same answer whether or not the address has an account.
	return a.showForgot(w, r, http.StatusOK, map[string]any{"Sent": true})
}

// showReset renders the reset page with data.
func (a *Admin) showReset(w http.ResponseWriter, r *http.Request, status int, data map[string]any) error {
	data["Minutes"], data["Min"] = int(auth.ResetTTL/time.Minute), validator.MinPasswordLength
	a.page(w, r, status, "reset", a.lang(r).T("admin.account.reset.title"), "", data)
	return nil
}

func (a *Admin) resetForm(w http.ResponseWriter, r *http.Request) error {
	u, err := a.d.Auth.CheckResetLink(r.Context(), r.PathValue("token"))
	if errors.Is(err, auth.ErrResetLink) {
		return a.showReset(w, r, http.StatusNotFound, map[string]any{"Invalid": true})
	}
	if err != nil {
		return err
	}
	return a.showReset(w, r, http.StatusOK, map[string]any{"Token": a.loginToken(w, r), "Email": u.Email, "Link": r.PathValue("token")})
}

func (a *Admin) reset(w http.ResponseWriter, r *http.Request) error {
	link := r.PathValue("token")
	l := a.lang(r)
	again := func(status int, problem string) error {
		return a.showReset(w, r, status, map[string]any{"Token": a.loginToken(w, r), "Link": link, "Problem": problem})
	}
	if !a.loginCSRF(r) {
		return again(http.StatusForbidden, l.T("admin.account.forgot.expired"))
	}
	if r.FormValue("password") != r.FormValue("confirm") {
		return again(http.StatusBadRequest, l.T("admin.account.password.differ"))
	}
	_, err := a.d.Auth.ResetPassword(r.Context(), link, r.FormValue("password"), a.client(r))
	switch {
	case errors.Is(err, auth.ErrResetLink):
		return a.showReset(w, r, http.StatusNotFound, map[string]any{"Invalid": true})
	case errors.Is(err, auth.ErrRateLimited):
		return again(http.StatusTooManyRequests, l.T("admin.account.reset.too_many"))
	case errors.Is(err, auth.ErrPasswordSignInOff):
		return a.showLogin(w, r, http.StatusForbidden, l.T("admin.account.login.password_off"))
	case passwordProblem(l, err) != "":
		return again(http.StatusBadRequest, passwordProblem(l, err))
	case err != nil:
		return err
	}
	return a.redirect(w, r, "/admin/login", l.T("admin.account.reset.done"), false)
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

// passkeyErrorKeys word failed passkey ceremonies for the page.
var passkeyErrorKeys = []struct {
	err    error
	status int
	key    string
}{
	{auth.ErrPasskey, http.StatusBadRequest, "admin.account.passkeys.not_verified"},
	{auth.ErrNoPasskeys, http.StatusBadRequest, "admin.account.passkeys.need_base_url"},
	{auth.ErrPasswordSignInOff, http.StatusBadRequest, "admin.account.passkeys.password_off"},
	{auth.ErrPasskeyName, http.StatusBadRequest, "admin.account.passkeys.name_too_long"},
	{auth.ErrRateLimited, http.StatusTooManyRequests, "admin.account.passkeys.too_many"},
}

// passkeyError answers a failed passkey ceremony with words for the page,
// in the admin's language.
func (a *Admin) passkeyError(w http.ResponseWriter, r *http.Request, err error) error {
	l := a.lang(r)
	for _, k := range passkeyErrorKeys {
		if errors.Is(err, k.err) {
			return writeJSON(w, k.status, map[string]string{"error": l.T(k.key, "Max", auth.MaxPasskeyName)})
		}
	}
	a.d.Log.Error("passkey request failed", "path", r.URL.Path, "err", err)
	return writeJSON(w, http.StatusInternalServerError, map[string]string{"error": l.T("admin.account.passkeys.went_wrong")})
}

func (a *Admin) passkeyLoginBegin(w http.ResponseWriter, r *http.Request) error {
	if !a.loginCSRF(r) {
		return writeJSON(w, http.StatusForbidden, map[string]string{"error": a.lang(r).T("admin.account.passkeys.page_expired")})
	}
	cer, err := a.d.Auth.BeginPasskeyLogin(r.Context())
	if err != nil {
		return a.passkeyError(w, r, err)
	}
	return writeJSON(w, http.StatusOK, cer)
}

func (a *Admin) passkeyLoginFinish(w http.ResponseWriter, r *http.Request) error {
	if !a.loginCSRF(r) {
		return writeJSON(w, http.StatusForbidden, map[string]string{"error": a.lang(r).T("admin.account.passkeys.page_expired")})
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

// ssoReasonKeys word single sign-on's refusals (auth.SSOError's codes).
var ssoReasonKeys = map[string]string{
	"no_provider": "admin.account.sso.no_provider", "not_started": "admin.account.sso.not_started", "stale": "admin.account.sso.stale",
	"other_provider": "admin.account.sso.other_provider", "code_refused": "admin.account.sso.code_refused",
	"no_id_token": "admin.account.sso.no_id_token", "expired": "admin.account.sso.expired", "unverified": "admin.account.sso.unverified",
	"nonce": "admin.account.sso.nonce", "unreadable": "admin.account.sso.unreadable",
	"address_unverified": "admin.account.sso.address_unverified", "no_email": "admin.account.sso.no_email",
	"domain": "admin.account.sso.domain", "cannot_link": "admin.account.sso.cannot_link", "no_account": "admin.account.sso.no_account",
	"last_owner": "admin.account.sso.last_owner", "no_role": "admin.account.sso.no_role",
}

// ssoReason words a refused single sign-on in the admin's language.
func (a *Admin) ssoReason(r *http.Request, se *auth.SSOError) string {
	k, ok := ssoReasonKeys[se.Code]
	if !ok {
		return title(se.Reason) + "."
	}
	var args []any
	for n, v := range se.Args {
		args = append(args, n, v)
	}
	return a.lang(r).T(k, args...)
}

// ssoCookie keeps the state of a round trip through a provider in the
// browser that started it.
const ssoCookie = "herald_sso"

func (a *Admin) ssoStart(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	to, state, err := a.d.Auth.StartSSO(r.Context(), name, safeNext(r.FormValue("next")))
	var se *auth.SSOError
	if errors.As(err, &se) {
		return a.showLogin(w, r, http.StatusNotFound, a.ssoReason(r, se))
	}
	if err != nil {
		a.d.Log.Error("single sign-on start failed", "provider", name, "err", err)
		return a.showLogin(w, r, http.StatusBadGateway, a.lang(r).T("admin.account.login.sso_unreachable", "Provider", name))
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
		return a.showLogin(w, r, http.StatusBadRequest, a.lang(r).T("admin.account.login.sso_incomplete", "Provider", name, "Code", e))
	}
	kept := ""
	if c, err := r.Cookie(ssoCookie); err == nil {
		kept = c.Value
	}
	res, err := a.d.Auth.FinishSSO(r.Context(), name, kept, q.Get("state"), q.Get("code"), a.client(r))
	var se *auth.SSOError
	switch {
	case errors.As(err, &se):
		return a.showLogin(w, r, http.StatusBadRequest, a.ssoReason(r, se))
	case err != nil:
		return err
	}
	a.setSession(w, res.Cookie)
	http.Redirect(w, r, safeNext(res.Next), http.StatusSeeOther)
	return nil
}
