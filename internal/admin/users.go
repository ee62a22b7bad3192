package admin

import (
	"errors"
	"fmt"
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
	_, err := auth.CreateUser(r.Context(), a.d.Store, in.Email, in.Name, auth.Role(in.Role), r.FormValue("password"), a.bcryptCost())
	switch {
	case errors.Is(err, store.ErrConflict):
		return a.usersPage(w, r, http.StatusUnprocessableEntity, in, fieldErrors{"email": "A user with that email exists already."})
	case errors.Is(err, auth.ErrWeakPassword):
		return a.usersPage(w, r, http.StatusUnprocessableEntity, in, fieldErrors{"password": sentence(err.Error())})
	case formErrors(err) != nil:
		return a.usersPage(w, r, http.StatusUnprocessableEntity, in, formErrors(err))
	case err != nil:
		return err
	}
	return a.redirect(w, r, "/admin/users", "User added. Tell them their password through a safe channel.", false)
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
		return a.redirect(w, r, "/admin/users", "Choose a role.", true)
	}
	if err := auth.SetRole(r.Context(), a.d.Store, id, role); err != nil {
		if errors.Is(err, auth.ErrLastOwner) {
			return a.redirect(w, r, "/admin/users", "The last owner cannot be demoted.", true)
		}
		return err
	}
	if pw := r.FormValue("password"); pw != "" {
		u, err := a.d.Store.UserByID(r.Context(), id)
		if err != nil {
			return err
		}
		if err := auth.SetPassword(r.Context(), a.d.Store, u.Email, pw, a.bcryptCost()); err != nil {
			if ve := validator.As(err); ve != nil {
				return a.redirect(w, r, "/admin/users", ve.Message, true)
			}
			return err
		}
	}
	return a.redirect(w, r, "/admin/users", "User saved; their sessions were ended so the change applies at once.", false)
}

func (a *Admin) userDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := auth.RemoveUserByID(r.Context(), a.d.Store, id); err != nil {
		if errors.Is(err, auth.ErrLastOwner) {
			return a.redirect(w, r, "/admin/users", "The last owner cannot be removed.", true)
		}
		return err
	}
	return a.redirect(w, r, "/admin/users", "User removed with their sessions and API tokens.", false)
}

func (a *Admin) tokens(w http.ResponseWriter, r *http.Request) error {
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
	a.page(w, r, http.StatusOK, "tokens", a.lang(r).T("admin.nav.tokens"), "tokens", map[string]any{"Tokens": toks, "Roles": tokenRoles(id.Role), "Emails": emails,
		"New": r.URL.Query().Has("new")})
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
	id := identity(r)
	role, err := auth.ParseTokenRole(r.FormValue("role"))
	if err != nil {
		return a.redirect(w, r, "/admin/tokens", "Choose a role.", true)
	}
	plain, _, err := a.d.Auth.CreateToken(r.Context(), id.User, r.FormValue("name"), role)
	if ve := validator.As(err); ve != nil {
		return a.redirect(w, r, "/admin/tokens", ve.Message, true)
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
		"Emails": map[int64]string{}, "Plain": plain})
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
			return a.redirect(w, r, "/admin/tokens", fmt.Sprintf("Token “%s” revoked.", t.Name), false)
		}
	}
	return &userError{status: http.StatusNotFound, msg: "There is no such token of yours."}
}
