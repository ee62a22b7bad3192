package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/herald-news/herald/client"
	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/settings"
	"github.com/herald-news/herald/internal/store"
)

// The audit log (owners), its retention, and the token and user changes
// it records.

func auditOut(e audit.Entry) client.AuditEntry {
	ch := make(map[string]client.AuditChange, len(e.Changes))
	for k, v := range e.Changes {
		ch[k] = client.AuditChange{Before: v.Before, After: v.After}
	}
	return client.AuditEntry{ID: e.ID, At: e.At, Actor: e.Actor, Via: string(e.Via), IP: e.IP, Action: e.Action, Object: e.Object, Changes: ch}
}

func (a *API) listAudit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := audit.Filter{Action: q.Get("action"), User: q.Get("user"), Object: q.Get("object")}
	var err error
	if f.Since, err = audit.ParseSince(q.Get("since"), time.Now()); err != nil {
		return invalid("%s", err.Error())
	}
	if f.Until, err = audit.ParseSince(q.Get("until"), time.Now()); err != nil {
		return invalid("until: write a date or an RFC 3339 time")
	}
	if v := q.Get("before"); v != "" {
		if f.BeforeID, err = strconv.ParseInt(v, 10, 64); err != nil || f.BeforeID <= 0 {
			return invalid("before must be an entry ID")
		}
	}
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit <= 0 || f.Limit > 1000 {
			return invalid("limit must be from 1 to 1000")
		}
	}
	es, err := a.d.Store.AuditEntries(r.Context(), f)
	if err != nil {
		return err
	}
	out := client.AuditPage{Data: make([]client.AuditEntry, 0, len(es))}
	for _, e := range es {
		out.Data = append(out.Data, auditOut(e))
	}
	limit := f.Limit
	if limit == 0 {
		limit = 100
	}
	if len(es) == limit {
		out.NextBefore = es[len(es)-1].ID
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) getAuditRetention(w http.ResponseWriter, r *http.Request) error {
	days, err := settings.LoadAuditRetention(r.Context(), a.d.Store)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, client.AuditRetention{Days: days})
}

func (a *API) putAuditRetention(w http.ResponseWriter, r *http.Request) error {
	var in client.AuditRetention
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := settings.SaveAuditRetention(r.Context(), a.d.Store, in.Days); err != nil {
		var se *settings.InvalidError
		if errors.As(err, &se) {
			return invalid("%s", se.Msg)
		}
		return err
	}
	return writeJSON(w, http.StatusOK, in)
}

func (a *API) createToken(w http.ResponseWriter, r *http.Request) error {
	var in client.TokenInput
	if err := decode(r, &in); err != nil {
		return err
	}
	id := identity(r)
	u := id.User
	if in.User != "" && !strings.EqualFold(in.User, u.Email) {
		if !id.Can(auth.ManageUsers) {
			return &apiError{status: http.StatusForbidden, code: "forbidden", msg: "Only an owner's token can create tokens for other users."}
		}
		email, err := auth.NormalizeEmail(in.User)
		if err != nil {
			return invalid("user: not an email address")
		}
		if u, err = a.d.Store.UserByEmail(r.Context(), email); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return invalid("user: no user has the address %s", email)
			}
			return err
		}
	}
	// The token's rules (a name, a role no higher than its user's) are
	// auth's; their refusal names the field (see fail).
	plain, t, err := auth.CreateToken(r.Context(), a.d.Store, u, in.Name, auth.Role(in.Role))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, client.Token{ID: t.ID, Name: t.Name, Role: t.Role, Prefix: t.Prefix, User: u.Email,
		Token: plain, CreatedAt: t.CreatedAt})
}

func userOut(u store.User) client.User {
	return client.User{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role}
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) error {
	us, err := a.d.Store.Users(r.Context())
	if err != nil {
		return err
	}
	out := client.Page[client.User]{Data: make([]client.User, 0, len(us)), Total: int64(len(us)), Limit: len(us)}
	for _, u := range us {
		out.Data = append(out.Data, userOut(u))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) updateUser(w http.ResponseWriter, r *http.Request) error {
	uid, err := pathID(r)
	if err != nil {
		return err
	}
	var in client.UserInput
	if err := decode(r, &in); err != nil {
		return err
	}
	role, err := auth.ParseRole(in.Role)
	if err != nil {
		return invalid("role must be owner, editor, author or viewer")
	}
	if err := auth.SetRole(r.Context(), a.d.Store, uid, role); err != nil {
		if errors.Is(err, auth.ErrLastOwner) {
			return &apiError{status: http.StatusConflict, code: "last_owner", msg: "The last owner cannot be demoted."}
		}
		return err
	}
	u, err := a.d.Store.UserByID(r.Context(), uid)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, userOut(*u))
}
