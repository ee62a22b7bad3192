package admin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/herald-news/herald/internal/address"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/validator"
)

func (a *Admin) suppressions(w http.ResponseWriter, r *http.Request) error {
	return a.suppressionsPage(w, r, http.StatusOK, suppressionIn{}, nil)
}

// suppressionIn is what the suppression page's forms post, as typed.
type suppressionIn struct{ Email, Detail, Lift string }

// suppressionsPage shows the suppression list and its two forms filled
// with in, and errs beside their fields ("email" to suppress, "lift-email"
// to lift) and above them (status 422 then).
func (a *Admin) suppressionsPage(w http.ResponseWriter, r *http.Request, status int, in suppressionIn, errs fieldErrors) error {
	p := pager{Offset: intParam(r, "offset", 0), Limit: 50, L: a.lang(r)}
	items, err := a.d.Store.Suppressions(r.Context(), p.Offset, p.Limit)
	if err != nil {
		return err
	}
	if p.Total, err = a.d.Store.CountSuppressions(r.Context()); err != nil {
		return err
	}
	a.page(w, r, status, "suppressions", a.lang(r).T("admin.nav.suppressions"), "suppressions", map[string]any{"Items": items, "Pager": p,
		"In": in, "Errors": errs, "Reasons": suppressionReasonKeys})
	return nil
}

// suppressionReasonKeys name the suppression reasons in the catalog.
var suppressionReasonKeys = map[string]string{
	string(model.SuppressHardBounce):  "admin.audience.suppressions.reason_hard_bounce",
	string(model.SuppressComplaint):   "admin.audience.suppressions.reason_complaint",
	string(model.SuppressUnsubscribe): "admin.audience.suppressions.reason_unsubscribe",
	string(model.SuppressManual):      "admin.audience.suppressions.reason_manual",
}

func (a *Admin) suppressionAdd(w http.ResponseWriter, r *http.Request) error {
	l := a.lang(r)
	in := suppressionIn{Email: strings.TrimSpace(r.FormValue("email")), Detail: strings.TrimSpace(r.FormValue("detail"))}
	if err := validator.Email("email", in.Email); err != nil {
		return a.suppressionsPage(w, r, http.StatusUnprocessableEntity, in, problems(l, err))
	}
	email, err := address.Normalize(in.Email)
	if err != nil {
		return err
	}
	if err := a.d.Store.Suppress(r.Context(), email, model.SuppressManual, in.Detail); err != nil {
		return err
	}
	return a.redirect(w, r, "/admin/suppressions", l.T("admin.audience.suppressions.added", "Email", email), false)
}

func (a *Admin) suppressionRemove(w http.ResponseWriter, r *http.Request) error {
	l := a.lang(r)
	in := suppressionIn{Lift: strings.TrimSpace(r.FormValue("email"))}
	if err := validator.Email("lift-email", in.Lift); err != nil {
		return a.suppressionsPage(w, r, http.StatusUnprocessableEntity, in, problems(l, err))
	}
	email, err := address.Normalize(in.Lift)
	if err != nil {
		return err
	}
	if err := a.d.Store.Unsuppress(r.Context(), email); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return a.suppressionsPage(w, r, http.StatusUnprocessableEntity, in, fieldErrors{"lift-email": l.T("admin.audience.suppressions.not_suppressed")})
		}
		return err
	}
	return a.redirect(w, r, "/admin/suppressions", l.T("admin.audience.suppressions.lifted", "Email", email), false)
}
