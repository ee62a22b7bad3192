package admin

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/precheck"
)

// editionPrecheck runs the pre-send checks on the saved edition: JSON for
// the composer's panel (which asks in the background, so typing goes on),
// a page for a browser without scripts.
func (a *Admin) editionPrecheck(w http.ResponseWriter, r *http.Request) error {
	e, err := a.editable(r)
	if err != nil {
		return err
	}
	rep, err := a.d.Precheck.Check(r.Context(), e.ID)
	if errors.Is(err, precheck.ErrNoChecker) {
		return &userError{status: http.StatusNotFound, msg: a.lang(r).T("admin.composer.check.not_set_up")}
	}
	if err != nil {
		return err
	}
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		return json.NewEncoder(w).Encode(rep)
	}
	a.page(w, r, http.StatusOK, "precheck", a.lang(r).T("admin.composer.check.page_title", "Name", e.Subject), "editions", map[string]any{"Edition": e, "Report": rep})
	return nil
}

// startChecked runs the pre-send checks before a campaign starts. When
// they find something, it shows them with a button that starts the
// campaign anyway, and reports shown = true; the start form's second post
// (confirmed) skips them.
func (a *Admin) startChecked(w http.ResponseWriter, r *http.Request) (shown bool, err error) {
	if r.FormValue("confirmed") == "1" || a.d.Precheck == nil {
		return false, nil
	}
	id, err := pathID(r, "id")
	if err != nil {
		return false, err
	}
	c, err := a.d.Store.Campaign(r.Context(), id)
	if err != nil {
		return false, err
	}
	if c.Status != model.CampaignDraft && c.Status != model.CampaignScheduled {
		return false, nil // the start itself says why it cannot
	}
	rep, err := a.d.Precheck.Check(r.Context(), c.EditionID)
	if err != nil || rep.OK() {
		return false, err
	}
	a.page(w, r, http.StatusOK, "precheck", a.lang(r).T("admin.composer.check.page_title", "Name", c.Name), "campaigns", map[string]any{"Campaign": c, "Report": rep})
	return true, nil
}
