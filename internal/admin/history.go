package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

// historyView is what the revision history page gets.
type historyView struct {
	E         *model.Edition
	Revisions []model.EditionRevision
}

// history lists an edition's kept revisions: when, by whom, its subject,
// with a preview of each and a way to bring one back.
func (a *Admin) history(w http.ResponseWriter, r *http.Request) error {
	e, err := a.editable(r)
	if err != nil {
		return err
	}
	revs, err := a.d.Store.EditionRevisions(r.Context(), e.ID)
	if err != nil {
		return err
	}
	a.page(w, r, http.StatusOK, "history", a.lang(r).T("admin.composer.history.page_title", "Subject", e.Subject), "editions", historyView{E: e, Revisions: revs})
	return nil
}

// revisionOf returns the edition e as saved in revision rev.
func (a *Admin) revisionOf(r *http.Request, e *model.Edition, rev int) (*model.Edition, error) {
	revs, err := a.d.Store.EditionRevisions(r.Context(), e.ID)
	if err != nil {
		return nil, err
	}
	for _, kept := range revs {
		if kept.Revision == rev {
			old := kept.Edition
			old.ID, old.Status, old.Revision = e.ID, e.Status, e.Revision
			return &old, nil
		}
	}
	return nil, &userError{status: http.StatusNotFound, msg: a.lang(r).T("admin.composer.history.not_kept", "N", rev)}
}

// restore brings a kept revision back as the edition's newest state. The
// state it replaces stays in the history; a page read before someone
// else's save is refused like any stale save.
func (a *Admin) restore(w http.ResponseWriter, r *http.Request) error {
	e, err := a.editable(r)
	if err != nil {
		return err
	}
	rev, err := strconv.Atoi(r.FormValue("rev"))
	if err != nil {
		return badRequest("%s", a.lang(r).T("admin.composer.history.choose"))
	}
	old, err := a.revisionOf(r, e, rev)
	if err != nil {
		return err
	}
	old.Revision, _ = strconv.Atoi(r.FormValue("revision"))
	history := fmt.Sprintf("/admin/editions/%d/history", e.ID)
	switch err := a.d.Store.RestoreEdition(r.Context(), old, identity(r).User.Email); {
	case errors.Is(err, store.ErrStale):
		return a.redirect(w, r, history, a.lang(r).T("admin.composer.history.stale"), true)
	case errors.Is(err, store.ErrConflict):
		return a.redirect(w, r, history, a.lang(r).T("admin.composer.history.slug_taken", "N", rev, "Slug", old.Slug), true)
	case err != nil:
		return err
	}
	return a.redirect(w, r, fmt.Sprintf("/admin/editions/%d", e.ID), a.lang(r).T("admin.composer.history.restored", "N", rev), false)
}
