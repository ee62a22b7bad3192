package admin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/validator"
)

func (a *Admin) users(w http.ResponseWriter, r *http.Request) error {
	return a.usersPage(w, r, http.StatusOK, userIn{Role: string(auth.Author)}, nil)
}

// userIn is the add-a-user form as typed (never the password).
type userIn struct{ Email, Name, Role string }

// usersPage shows the users and the add-a-user form filled with in, and
// errs beside their fields (status 422 then).
func (a *Admin) usersPage(w http.ResponseWriter, r *http.Request, status int, in userIn, errs fieldErrors) error {
	us, err := a.d.Store.Users(r.Context())
	if err != nil {
		return err
	}
	a.page(w, r, status, "users", a.lang(r).T("admin.nav.users"), "users", map[string]any{"Users": us, "Roles": auth.AllRoles(), "In": in, "Errors": errs})
	return nil
}

func (a *Admin) userCreate(w http.ResponseWriter, r *http.Request) error {
	in := userIn{Email: strings.TrimSpace(r.FormValue("email")), Name: strings.TrimSpace(r.FormValue("name")), Role: r.FormValue("role")}
	l := a.lang(r)
	// The address, name and password are checked together, so every
	// problem shows at once, each in the user's language.
	pw := r.FormValue("password")
	errs := problems(l, validator.User(in.Email, in.Name))
	if msg := passwordProblem(l, validator.Password(pw)); msg != "" {
		if errs == nil {
			errs = fieldErrors{}
		}
		errs["password"] = msg
	}
	if errs == nil {
		_, err := auth.CreateUser(r.Context(), a.d.Store, in.Email, in.Name, auth.Role(in.Role), pw, a.bcryptCost())
		switch {
		case errors.Is(err, store.ErrConflict):
			errs = fieldErrors{"email": l.T("admin.settings.users.exists")}
		case passwordProblem(l, err) != "":
			errs = fieldErrors{"password": passwordProblem(l, err)}
		case problems(l, err) != nil:
			errs = problems(l, err)
		case err != nil:
			return err
		}
	}
	if errs != nil {
		return a.usersPage(w, r, http.StatusUnprocessableEntity, in, errs)
	}
	return a.redirect(w, r, "/admin/users", l.T("admin.settings.users.added"), false)
}

// bcryptCost is the cost new passwords are hashed with: the auth
// service's own, so tests that lower it stay fast.
func (a *Admin) bcryptCost() int { return a.d.Auth.BcryptCost() }

func (a *Admin) userSave(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	role, err := auth.ParseRole(r.FormValue("role"))
	if err != nil {
		return a.redirect(w, r, "/admin/users", a.lang(r).T("admin.settings.users.choose_role"), true)
	}
	if err := auth.SetRole(r.Context(), a.d.Store, id, role); err != nil {
		if errors.Is(err, auth.ErrLastOwner) {
			return a.redirect(w, r, "/admin/users", a.lang(r).T("admin.settings.users.last_owner_demote"), true)
		}
		return err
	}
	if pw := r.FormValue("password"); pw != "" {
		u, err := a.d.Store.UserByID(r.Context(), id)
		if err != nil {
			return err
		}
		if err := auth.SetPassword(r.Context(), a.d.Store, u.Email, pw, a.bcryptCost()); err != nil {
			if msg := passwordProblem(a.lang(r), err); msg != "" {
				return a.redirect(w, r, "/admin/users", msg, true)
			}
			if ve := validator.As(err); ve != nil {
				return a.redirect(w, r, "/admin/users", ve.In(a.lang(r)), true)
			}
			return err
		}
	}
	return a.redirect(w, r, "/admin/users", a.lang(r).T("admin.settings.users.saved"), false)
}

func (a *Admin) userDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := auth.RemoveUserByID(r.Context(), a.d.Store, id); err != nil {
		if errors.Is(err, auth.ErrLastOwner) {
			return a.redirect(w, r, "/admin/users", a.lang(r).T("admin.settings.users.last_owner_remove"), true)
		}
		return err
	}
	return a.redirect(w, r, "/admin/users", a.lang(r).T("admin.settings.users.removed"), false)
}

func (a *Admin) tokens(w http.ResponseWriter, r *http.Request) error {
	return a.tokensPage(w, r, http.StatusOK, tokenIn{}, nil)
}

// tokenIn is the new-token form as typed.
type tokenIn struct{ Name, Role string }

// tokensPage shows the tokens someone may see and the new-token form filled
// with in, and errs beside their fields (status 422 then).
func (a *Admin) tokensPage(w http.ResponseWriter, r *http.Request, status int, in tokenIn, errs fieldErrors) error {
	id := identity(r)
	owner := id.User.ID
	if id.Can(auth.ManageUsers) {
		owner = 0 // owners see every token
	}
	toks, err := a.d.Store.APITokens(r.Context(), owner)
	if err != nil {
		return err
	}
	emails := map[int64]string{}
	if owner == 0 {
		us, err := a.d.Store.Users(r.Context())
		if err != nil {
			return err
		}
		for _, u := range us {
			emails[u.ID] = u.Email
		}
	}
	a.page(w, r, status, "tokens", a.lang(r).T("admin.nav.tokens"), "tokens", map[string]any{"Tokens": toks, "Roles": tokenRoles(id.Role), "Emails": emails,
		"New": r.URL.Query().Has("new"), "In": in, "Errors": errs})
	return nil
}

// tokenRoles are the roles someone of role r may give a token: theirs and
// those below, and sender when they may send messages.
func tokenRoles(r auth.Role) []auth.Role {
	var roles []auth.Role
	for _, ro := range auth.TokenRoles() {
		if r.AtLeast(ro) {
			roles = append(roles, ro)
		}
	}
	return roles
}

func (a *Admin) tokenCreate(w http.ResponseWriter, r *http.Request) error {
	id, l := identity(r), a.lang(r)
	in := tokenIn{Name: r.FormValue("name"), Role: r.FormValue("role")}
	errs := problems(l, validator.Token(in.Name))
	role, err := auth.ParseTokenRole(in.Role)
	if err != nil {
		if errs == nil {
			errs = fieldErrors{}
		}
		errs["role"] = l.T("admin.settings.users.choose_role")
	}
	if errs != nil {
		return a.tokensPage(w, r, http.StatusUnprocessableEntity, in, errs)
	}
	plain, _, err := a.d.Auth.CreateToken(r.Context(), id.User, in.Name, role)
	if errs := problems(l, err); errs != nil {
		return a.tokensPage(w, r, http.StatusUnprocessableEntity, in, errs)
	} else if err != nil {
		return err
	}
	// Shown on this response only: the page is rendered here, not after a
	// redirect, so the token never sits in a cookie or a URL.
	toks, err := a.d.Store.APITokens(r.Context(), id.User.ID)
	if err != nil {
		return err
	}
	a.page(w, r, http.StatusOK, "tokens", a.lang(r).T("admin.nav.tokens"), "tokens", map[string]any{"Tokens": toks, "Roles": tokenRoles(id.Role),
		"Emails": map[int64]string{}, "Plain": plain, "In": tokenIn{}, "Errors": fieldErrors(nil)})
	return nil
}

func (a *Admin) tokenDelete(w http.ResponseWriter, r *http.Request) error {
	tid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	id := identity(r)
	owner := id.User.ID
	if id.Can(auth.ManageUsers) {
		owner = 0
	}
	toks, err := a.d.Store.APITokens(r.Context(), owner)
	if err != nil {
		return err
	}
	for _, t := range toks {
		if t.ID == tid {
			if err := a.d.Store.DeleteAPIToken(r.Context(), tid); err != nil {
				return err
			}
			return a.redirect(w, r, "/admin/tokens", a.lang(r).T("admin.settings.tokens.revoked", "Name", t.Name), false)
		}
	}
	return &userError{status: http.StatusNotFound, msg: a.lang(r).T("admin.settings.tokens.not_yours")}
}
