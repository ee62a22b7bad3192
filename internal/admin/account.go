package admin

import (
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/store"
)

// The account page: one's own second factors (authenticator app, recovery
// codes, passkeys) and signed-in sessions.

func (a *Admin) account(w http.ResponseWriter, r *http.Request) error {
	return a.showAccount(w, r, http.StatusOK, nil)
}

// showAccount renders the account page; codes, when set, are new recovery
// codes shown on this response only.
func (a *Admin) showAccount(w http.ResponseWriter, r *http.Request, status int, codes []string) error {
	ctx := r.Context()
	id := identity(r)
	keys, err := a.d.Store.Passkeys(ctx, id.User.ID)
	if err != nil {
		return err
	}
	left, err := a.d.Store.RecoveryCodesLeft(ctx, id.User.ID)
	if err != nil {
		return err
	}
	sessions, err := auth.Sessions(ctx, a.d.Store, id.User.ID, id.SessionHash)
	if err != nil {
		return err
	}
	pol, err := a.d.Auth.Policy(ctx)
	if err != nil {
		return err
	}
	a.page(w, r, status, "account", "Account", "account", map[string]any{
		"User": id.User, "Passkeys": keys, "RecoveryLeft": left, "Sessions": sessions, "Codes": codes,
		"PasskeysAvailable": a.d.Auth.PasskeysAvailable(), "Required": pol.RequireTwoFactor && auth.MustUseTwoFactor(id.Role),
	})
	return nil
}

func (a *Admin) enrolForm(w http.ResponseWriter, r *http.Request) error {
	return a.showEnrol(w, r, http.StatusOK, "")
}

func (a *Admin) showEnrol(w http.ResponseWriter, r *http.Request, status int, problem string) error {
	id := identity(r)
	if id.User.TOTP {
		return a.redirect(w, r, "/admin/account", "Your authenticator app is set up already. Remove it first to set up another.", false)
	}
	e, err := a.d.Auth.BeginTOTP(r.Context(), id.User)
	if err != nil {
		return err
	}
	a.page(w, r, status, "enrol", "Set up two-factor sign-in", "account", map[string]any{
		// The QR code is a data: URL Herald made, which html/template
		// would otherwise refuse as unsafe.
		"Enrolment": e, "QR": template.URL(e.QR), "Problem": problem, "Forced": id.Stage == store.StageEnrol,
	})
	return nil
}

func (a *Admin) enrol(w http.ResponseWriter, r *http.Request) error {
	id := identity(r)
	codes, err := a.d.Auth.ConfirmTOTP(r.Context(), id, r.FormValue("code"), a.client(r))
	switch {
	case errors.Is(err, auth.ErrBadCode):
		return a.showEnrol(w, r, http.StatusBadRequest, "That code is not right. Check the time on your phone and enter the code your app shows now.")
	case errors.Is(err, auth.ErrRateLimited):
		return a.showEnrol(w, r, http.StatusTooManyRequests, "Too many wrong codes. Wait a few minutes and try again.")
	case err != nil:
		return err
	}
	id.User.TOTP = true
	a.page(w, r, http.StatusOK, "recovery", "Recovery codes", "account", map[string]any{"Codes": codes, "New": true})
	return nil
}

func (a *Admin) recoveryCodes(w http.ResponseWriter, r *http.Request) error {
	codes, err := a.d.Auth.NewRecoveryCodes(r.Context(), identity(r).User)
	if err != nil {
		return a.redirect(w, r, "/admin/account", "Set up an authenticator app first.", true)
	}
	a.page(w, r, http.StatusOK, "recovery", "Recovery codes", "account", map[string]any{"Codes": codes})
	return nil
}

func (a *Admin) totpRemove(w http.ResponseWriter, r *http.Request) error {
	return a.policyRedirect(w, r, "/admin/account", a.d.Auth.DisableTOTP(r.Context(), identity(r)), "Authenticator app and recovery codes removed.")
}

// policyRedirect goes back to target saying done, or why the policy
// refused the change.
func (a *Admin) policyRedirect(w http.ResponseWriter, r *http.Request, target string, err error, done string) error {
	var pe *auth.PolicyError
	if errors.As(err, &pe) {
		return a.redirect(w, r, target, title(pe.Reason)+".", true)
	}
	if err != nil {
		return err
	}
	return a.redirect(w, r, target, done, false)
}

func (a *Admin) passkeyBegin(w http.ResponseWriter, r *http.Request) error {
	cer, err := a.d.Auth.BeginPasskeyRegistration(r.Context(), identity(r).User)
	if err != nil {
		return a.passkeyError(w, r, err)
	}
	return writeJSON(w, http.StatusOK, cer)
}

func (a *Admin) passkeyFinish(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxCeremony))
	if err != nil {
		return err
	}
	q := r.URL.Query()
	p, err := a.d.Auth.FinishPasskeyRegistration(r.Context(), identity(r).User, q.Get("key"), q.Get("name"), body)
	if err != nil {
		return a.passkeyError(w, r, err)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"id": p.ID, "name": p.Name})
}

func (a *Admin) passkeyDelete(w http.ResponseWriter, r *http.Request) error {
	pid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return a.policyRedirect(w, r, "/admin/account", a.d.Auth.RemovePasskey(r.Context(), identity(r), pid), "Passkey removed.")
}

func (a *Admin) sessionEnd(w http.ResponseWriter, r *http.Request) error {
	id := identity(r)
	ref := r.FormValue("session")
	if err := auth.EndSession(r.Context(), a.d.Store, id.User.ID, ref); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return a.redirect(w, r, "/admin/account", "That session has ended already.", false)
		}
		return err
	}
	if ref == id.SessionHash {
		http.SetCookie(w, &http.Cookie{Name: a.cookieName(), Path: "/", MaxAge: -1, HttpOnly: true, Secure: a.secure})
		http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
		return nil
	}
	return a.redirect(w, r, "/admin/account", "Session ended.", false)
}

func (a *Admin) sessionsEndOthers(w http.ResponseWriter, r *http.Request) error {
	id := identity(r)
	n, err := auth.EndOtherSessions(r.Context(), a.d.Store, id.User.ID, id.SessionHash)
	if err != nil {
		return err
	}
	return a.redirect(w, r, "/admin/account", fmt.Sprintf("Signed out everywhere else (%d sessions).", n), false)
}

// userSessions shows an owner another user's sessions.
func (a *Admin) userSessions(w http.ResponseWriter, r *http.Request) error {
	u, err := a.pathUser(r)
	if err != nil {
		return err
	}
	uid := u.ID
	sessions, err := auth.Sessions(r.Context(), a.d.Store, uid, identity(r).SessionHash)
	if err != nil {
		return err
	}
	a.page(w, r, http.StatusOK, "user_sessions", "Sessions of "+u.Email, "users", map[string]any{"User": u, "Sessions": sessions})
	return nil
}

// userSessionsEnd ends one (form field session) or all of another user's
// sessions.
func (a *Admin) userSessionsEnd(w http.ResponseWriter, r *http.Request) error {
	u, err := a.pathUser(r)
	if err != nil {
		return err
	}
	uid := u.ID
	back := "/admin/users/" + strconv.FormatInt(uid, 10) + "/sessions"
	if ref := r.FormValue("session"); ref != "" {
		if err := auth.EndSession(r.Context(), a.d.Store, uid, ref); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return a.redirect(w, r, back, "Session of "+u.Email+" ended.", false)
	}
	n, err := auth.EndOtherSessions(r.Context(), a.d.Store, uid, "")
	if err != nil {
		return err
	}
	return a.redirect(w, r, back, fmt.Sprintf("%s is signed out everywhere (%d sessions).", u.Email, n), false)
}

// userReset2FA removes another user's second factors.
func (a *Admin) userReset2FA(w http.ResponseWriter, r *http.Request) error {
	u, err := a.pathUser(r)
	if err != nil {
		return err
	}
	uid := u.ID
	had, err := auth.ResetSecondFactors(r.Context(), a.d.Store, uid)
	if err != nil {
		return err
	}
	if !had {
		return a.redirect(w, r, "/admin/users", u.Email+" has no second factor to reset.", false)
	}
	return a.redirect(w, r, "/admin/users", "Second factors of "+u.Email+" removed. They sign in with their password and set up a new one.", false)
}

// signinSettings shows the sign-in policy and the single sign-on
// providers.
func (a *Admin) signinSettings(w http.ResponseWriter, r *http.Request) error {
	pol, err := a.d.Auth.Policy(r.Context())
	if err != nil {
		return err
	}
	a.page(w, r, http.StatusOK, "signin_settings", "Sign-in", "signin", map[string]any{
		"Policy": pol, "LifetimeHours": hours(pol.SessionLifetime), "IdleMinutes": int(pol.IdleTimeout / time.Minute),
		"Providers": a.d.Auth.Providers(), "BaseURL": a.d.BaseURL,
	})
	return nil
}

func hours(d time.Duration) string { return strconv.FormatFloat(d.Hours(), 'f', -1, 64) }

func (a *Admin) signinSettingsSave(w http.ResponseWriter, r *http.Request) error {
	lifetime, err := strconv.ParseFloat(r.FormValue("lifetime_hours"), 64)
	if err != nil {
		return a.redirect(w, r, "/admin/settings/signin", "Give the session lifetime in hours.", true)
	}
	idle, err := strconv.Atoi(r.FormValue("idle_minutes"))
	if err != nil || idle < 0 {
		return a.redirect(w, r, "/admin/settings/signin", "Give the idle timeout in minutes (0 for none).", true)
	}
	p := auth.Policy{
		RequireTwoFactor:  r.FormValue("require_2fa") == "on",
		PasswordSignInOff: r.FormValue("password_off") == "on",
		SessionLifetime:   time.Duration(lifetime * float64(time.Hour)),
		IdleTimeout:       time.Duration(idle) * time.Minute,
	}
	return a.policyRedirect(w, r, "/admin/settings/signin", a.d.Auth.SavePolicy(r.Context(), p), "Sign-in settings saved.")
}

// pathUser is the user the path's {id} names.
func (a *Admin) pathUser(r *http.Request) (*store.User, error) {
	uid, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return a.d.Store.UserByID(r.Context(), uid)
}
