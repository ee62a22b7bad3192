package admin

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/herald-news/herald/internal/i18n"
	"github.com/herald-news/herald/internal/importer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/validator"
)

func (a *Admin) lists(w http.ResponseWriter, r *http.Request) error {
	return a.listsPage(w, r, http.StatusOK, &model.List{}, nil)
}

// listsPage shows the lists and the new-list form filled with in, and
// errs beside their fields (status 422 then).
func (a *Admin) listsPage(w http.ResponseWriter, r *http.Request, status int, in *model.List, errs fieldErrors) error {
	lists, err := a.d.Store.Lists(r.Context())
	if err != nil {
		return err
	}
	a.page(w, r, status, "lists", a.lang(r).T("admin.lists.title"), "lists", map[string]any{"Lists": lists, "In": in, "Errors": errs, "Languages": languageChoices()})
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

// brandTheme says what is wrong with the theme folder of l's brand ("" when
// none is set or it renders): it must work when the list is saved, not
// when a campaign starts.
func (a *Admin) brandTheme(ctx context.Context, lang *i18n.Localizer, l *model.List) (string, error) {
	if l.Brand == nil || l.Brand.ThemeDir == "" {
		return "", nil
	}
	pub, err := a.publication(ctx)
	if err != nil {
		return "", err
	}
	if _, err := render.New(render.Branded(l, pub, render.Options{ArchiveURL: a.archiveURL()})); err != nil {
		return lang.T("admin.list.brand_theme_broken", "Problem", err.Error()), nil
	}
	return "", nil
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
	err := a.d.Store.CreateList(r.Context(), l)
	if errors.Is(err, store.ErrConflict) {
		err = validator.New("slug", "admin.validator.slug_taken")
	}
	if errs := problems(a.lang(r), err); errs != nil {
		return a.listsPage(w, r, http.StatusUnprocessableEntity, l, errs)
	}
	if err != nil {
		return err
	}
	return a.redirect(w, r, "/admin/lists", a.lang(r).T("admin.lists.created", "Name", l.Name), false)
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
	return a.listPage(w, r, http.StatusOK, l, l.Name, nil)
}

// listPage shows a list's page with its form filled with l, its stored
// name as the heading, and errs beside their fields (status 422 then).
func (a *Admin) listPage(w http.ResponseWriter, r *http.Request, status int, l *model.List, heading string, errs fieldErrors) error {
	brand := model.Brand{}
	if l.Brand != nil {
		brand = *l.Brand
	}
	data := map[string]any{"List": l, "Heading": heading, "Errors": errs, "Brand": brand, "Languages": languageChoices()}
	if l.Public {
		data["Snippet"] = a.embedSnippet(l)
		data["SubscribeURL"] = strings.TrimSuffix(a.d.BaseURL, "/") + "/subscribe/" + l.Slug
	}
	a.page(w, r, status, "list", heading, "lists", data)
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
	heading := l.Name
	readList(r, l)
	if msg, err := a.brandTheme(r.Context(), a.lang(r), l); err != nil {
		return err
	} else if msg != "" {
		return a.listPage(w, r, http.StatusUnprocessableEntity, l, heading, fieldErrors{"brand_theme": msg})
	}
	err = a.d.Store.UpdateList(r.Context(), l)
	if errs := problems(a.lang(r), err); errs != nil {
		return a.listPage(w, r, http.StatusUnprocessableEntity, l, heading, errs)
	}
	if err != nil {
		return err
	}
	return a.redirect(w, r, "/admin/lists", a.lang(r).T("admin.lists.saved"), false)
}

func (a *Admin) listDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := a.d.Store.DeleteList(r.Context(), id); err != nil {
		return a.redirect(w, r, "/admin/lists", a.lang(r).T("admin.lists.in_use"), true)
	}
	return a.redirect(w, r, "/admin/lists", a.lang(r).T("admin.lists.deleted"), false)
}
