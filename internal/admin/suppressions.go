package admin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/herald-news/herald/internal/address"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

func (a *Admin) suppressions(w http.ResponseWriter, r *http.Request) error {
	p := pager{Offset: intParam(r, "offset", 0), Limit: 50, L: a.lang(r)}
	items, err := a.d.Store.Suppressions(r.Context(), p.Offset, p.Limit)
	if err != nil {
		return err
	}
	if p.Total, err = a.d.Store.CountSuppressions(r.Context()); err != nil {
		return err
	}
	a.page(w, r, http.StatusOK, "suppressions", "Suppressions", "suppressions", map[string]any{"Items": items, "Pager": p})
	return nil
}

func (a *Admin) suppressionAdd(w http.ResponseWriter, r *http.Request) error {
	email, err := address.Normalize(r.FormValue("email"))
	if err != nil {
		return a.redirect(w, r, "/admin/suppressions", "That is not an email address.", true)
	}
	if err := a.d.Store.Suppress(r.Context(), email, model.SuppressManual, strings.TrimSpace(r.FormValue("detail"))); err != nil {
		return err
	}
	return a.redirect(w, r, "/admin/suppressions", email+" will not be mailed again.", false)
}

func (a *Admin) suppressionRemove(w http.ResponseWriter, r *http.Request) error {
	email, err := address.Normalize(r.FormValue("email"))
	if err != nil {
		return a.redirect(w, r, "/admin/suppressions", "That is not an email address.", true)
	}
	if err := a.d.Store.Unsuppress(r.Context(), email); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return a.redirect(w, r, "/admin/suppressions", "That address was not suppressed.", true)
		}
		return err
	}
	return a.redirect(w, r, "/admin/suppressions", email+" may be mailed again.", false)
}
