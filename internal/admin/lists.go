package admin

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"strings"

	"github.com/herald-news/herald/internal/i18n"
	"github.com/herald-news/herald/internal/importer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/store"
)

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

func (a *Admin) lists(w http.ResponseWriter, r *http.Request) error {
	lists, err := a.d.Store.Lists(r.Context())
	if err != nil {
		return err
	}
	a.page(w, r, http.StatusOK, "lists", "Lists", "lists", map[string]any{"Lists": lists, "Languages": languageChoices()})
	return nil
}

func readList(r *http.Request, l *model.List) {
	l.Name = strings.TrimSpace(r.FormValue("name"))
	l.Description = strings.TrimSpace(r.FormValue("description"))
	l.OptIn = model.OptInSingle
	if r.FormValue("opt_in") == string(model.OptInDouble) {
		l.OptIn = model.OptInDouble
	}
	l.Public = r.FormValue("public") == "on"
	if _, ok := r.Form["language"]; ok {
		l.Language = strings.TrimSpace(r.FormValue("language"))
	}
	if _, ok := r.Form["brand_name"]; ok {
		v := func(k string) string { return strings.TrimSpace(r.FormValue(k)) }
		l.Brand = &model.Brand{Name: v("brand_name"), LogoURL: v("brand_logo"), ThemeDir: v("brand_theme"),
			Colors: model.Colors{Accent: v("brand_accent"), Background: v("brand_background")},
			From:   v("brand_from"), ReplyTo: v("brand_reply_to"), PostalAddress: v("brand_address")}
	}
}

// listProblem returns what a person can fix in a list the store refused:
// its language or its brand; "" for other errors.
func listProblem(err error) string {
	if errors.Is(err, i18n.ErrLanguage) || errors.Is(err, model.ErrBrand) {
		msg := err.Error()
		if i := strings.LastIndex(msg, ": "); i >= 0 && errors.Is(err, i18n.ErrLanguage) {
			msg = "Language: " + msg[i+2:]
		} else if _, after, ok := strings.Cut(msg, model.ErrBrand.Error()+": "); ok {
			msg = strings.ToUpper(after[:1]) + after[1:]
		}
		return strings.TrimSuffix(msg, ".") + "."
	}
	return ""
}

// languageChoice is one option of a language select.
type languageChoice struct{ Tag, Name string }

// languageChoices are the languages Herald ships, each named in itself.
func languageChoices() []languageChoice {
	var out []languageChoice
	for _, tag := range i18n.Languages() {
		out = append(out, languageChoice{tag, i18n.Name(tag)})
	}
	return out
}

func (a *Admin) listCreate(w http.ResponseWriter, r *http.Request) error {
	l := &model.List{Slug: strings.TrimSpace(strings.ToLower(r.FormValue("slug")))}
	readList(r, l)
	if l.Name == "" || !slugRE.MatchString(l.Slug) {
		return a.redirect(w, r, "/admin/lists", "A list needs a name and a slug of lower-case letters, digits and dashes.", true)
	}
	if err := a.d.Store.CreateList(r.Context(), l); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return a.redirect(w, r, "/admin/lists", "A list with that slug exists already.", true)
		}
		if msg := listProblem(err); msg != "" {
			return a.redirect(w, r, "/admin/lists", msg, true)
		}
		return err
	}
	return a.redirect(w, r, "/admin/lists", "List “"+l.Name+"” created.", false)
}

// pathList reads the list the path names.
func (a *Admin) pathList(r *http.Request) (*model.List, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return a.d.Store.ListByID(r.Context(), id)
}

func (a *Admin) listEdit(w http.ResponseWriter, r *http.Request) error {
	l, err := a.pathList(r)
	if err != nil {
		return err
	}
	brand := model.Brand{}
	if l.Brand != nil {
		brand = *l.Brand
	}
	data := map[string]any{"List": l, "Brand": brand, "Languages": languageChoices()}
	if l.Public {
		data["Snippet"] = a.embedSnippet(l)
		data["SubscribeURL"] = strings.TrimSuffix(a.d.BaseURL, "/") + "/subscribe/" + l.Slug
	}
	a.page(w, r, http.StatusOK, "list", l.Name, "lists", data)
	return nil
}

// embedSnippet is the HTML an editor pastes into another site to offer a
// public list there. It posts to the public web's embed endpoint (POST
// /subscribe/{slug}/embed, which takes no CSRF token) with the fields that
// endpoint reads, the hidden "website" field included: bots fill it in,
// and the endpoint then quietly drops the signup.
func (a *Admin) embedSnippet(l *model.List) string {
	esc := template.HTMLEscapeString
	// Readers see it: in the list's language, and its direction.
	lang, attrs := i18n.For(l.Language), ""
	if l.Language != "" {
		attrs = fmt.Sprintf(` lang="%s" dir="%s"`, esc(lang.Lang()), lang.Dir())
	}
	return fmt.Sprintf(`<form method="post" action="%s/subscribe/%s/embed"%s>
  <label for="herald-email">%s</label>
  <input id="herald-email" type="email" name="email" required autocomplete="email">
  <div style="position:absolute;left:-10000px" aria-hidden="true">
    <input type="text" name="website" tabindex="-1" autocomplete="off">
  </div>
  <button type="submit">%s</button>
</form>`, esc(strings.TrimSuffix(a.d.BaseURL, "/")), esc(l.Slug), attrs, esc(lang.T("subscribe.email")), esc(lang.T("subscribe.title", "List", l.Name)))
}

// listExport streams a list's subscribers as CSV (the columns `herald
// export` writes, which `herald import` and the import page read back):
// everyone on the list, or one subscription status with ?status=, and of
// them those with an attribute with ?attr=name=value.
func (a *Admin) listExport(w http.ResponseWriter, r *http.Request) error {
	l, err := a.pathList(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f, err := importer.ExportFilterFor(l.ID, q.Get("status"), q.Get("attr"))
	if err != nil {
		return badRequest("Nothing exported: %s.", err)
	}
	name := l.Slug
	if f.Status != "" {
		name += "-" + string(f.Status)
	}
	n, err := importer.Download(w, r, a.d.Store, f, fmt.Sprintf("%s-%s.csv", name, a.d.Now().UTC().Format("2006-01-02")))
	if err != nil {
		return err
	}
	a.d.Log.Info("list exported", "list", l.Slug, "status", f.Status, "rows", n, "by", identity(r).User.Email)
	return nil
}

func (a *Admin) listSave(w http.ResponseWriter, r *http.Request) error {
	l, err := a.pathList(r)
	if err != nil {
		return err
	}
	readList(r, l)
	if l.Name == "" {
		return a.redirect(w, r, fmt.Sprintf("/admin/lists/%d", l.ID), "A list needs a name.", true)
	}
	if l.Brand != nil && l.Brand.ThemeDir != "" {
		// The brand's theme must render now, not when a campaign starts.
		pub, err := a.d.Store.GetPublication(r.Context())
		if errors.Is(err, store.ErrNotFound) {
			pub, err = model.DefaultPublication(a.d.BaseURL), nil
		}
		if err != nil {
			return err
		}
		if _, err := render.New(render.Branded(l, pub, render.Options{ArchiveURL: a.archiveURL()})); err != nil {
			return a.redirect(w, r, fmt.Sprintf("/admin/lists/%d", l.ID), "The brand's theme folder does not work: "+err.Error()+".", true)
		}
	}
	if err := a.d.Store.UpdateList(r.Context(), l); err != nil {
		if msg := listProblem(err); msg != "" {
			return a.redirect(w, r, fmt.Sprintf("/admin/lists/%d", l.ID), msg, true)
		}
		return err
	}
	return a.redirect(w, r, "/admin/lists", "List saved.", false)
}

func (a *Admin) listDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := a.d.Store.DeleteList(r.Context(), id); err != nil {
		return a.redirect(w, r, "/admin/lists", "This list cannot be deleted while a campaign refers to it.", true)
	}
	return a.redirect(w, r, "/admin/lists", "List deleted; its subscribers stay.", false)
}
