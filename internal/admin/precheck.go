package admin

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/i18n"
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
	rep = localReport(rep, a.lang(r))
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		return json.NewEncoder(w).Encode(rep)
	}
	a.page(w, r, http.StatusOK, "precheck", a.lang(r).T("admin.composer.check.page_title", "Name", e.Subject), "editions", map[string]any{"Edition": e, "Report": rep})
	return nil
}

// startChecked asks before a campaign starts. A start nobody confirmed
// yet, or one whose pre-send checks find something, shows the start step:
// the audience and its number of readers, any earlier send of the edition
// to the same lists, and the checks' findings, with a button that starts
// it (confirmed); it reports shown = true. The campaign page's dialog
// confirms the audience (audience=1), so only findings stop it then.
func (a *Admin) startChecked(w http.ResponseWriter, r *http.Request) (shown bool, err error) {
	if r.FormValue("confirmed") == "1" {
		return false, nil
	}
	ctx := r.Context()
	id, err := pathID(r, "id")
	if err != nil {
		return false, err
	}
	c, err := a.d.Store.Campaign(ctx, id)
	if err != nil {
		return false, err
	}
	if c.Status != model.CampaignDraft && c.Status != model.CampaignScheduled {
		return false, nil // the start itself says why it cannot
	}
	var rep *precheck.Report
	if a.d.Precheck != nil {
		found, err := a.d.Precheck.Check(ctx, c.EditionID)
		if err != nil {
			return false, err
		}
		if !found.OK() {
			found = localReport(found, a.lang(r))
			rep = &found
		}
	}
	if rep == nil && r.FormValue("audience") == "1" {
		return false, nil
	}
	cf, err := delivery.ConfirmStart(ctx, a.d.Store, id)
	if err != nil {
		return false, err
	}
	l := a.lang(r)
	a.page(w, r, http.StatusOK, "campaign_start", l.T("admin.campaign.confirm_title_named", "Name", c.Name), "campaigns",
		map[string]any{"Campaign": c, "Confirm": newStartView(cf, l), "Report": rep})
	return true, nil
}

// localReport is rep as the admin shows it, in l's language: each
// finding's check and message, each link's and image's problem.
func localReport(rep precheck.Report, l *i18n.Localizer) precheck.Report {
	out := rep
	out.Findings = make([]precheck.Finding, len(rep.Findings))
	for i, f := range rep.Findings {
		f.Check, f.Message = precheck.CheckName(f.Check, l), f.In(l)
		out.Findings[i] = f
	}
	local := func(fs []precheck.Fetch) []precheck.Fetch {
		out := make([]precheck.Fetch, len(fs))
		for i, f := range fs {
			f.Problem = f.ProblemIn(l)
			out[i] = f
		}
		return out
	}
	out.Links, out.Images = local(rep.Links), local(rep.Images)
	return out
}
