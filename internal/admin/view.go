package admin

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/i18n"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

// parseTemplates parses layout.html with every page: one set per page.
func parseTemplates() (map[string]*template.Template, error) {
	// Files named _*.html hold partials shared by several pages.
	base, err := template.New("layout.html").Funcs(funcs()).ParseFS(templateFiles, "templates/layout.html", "templates/_*.html")
	if err != nil {
		return nil, fmt.Errorf("admin templates: %w", err)
	}
	files, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" || strings.HasPrefix(name, "_") {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFiles, f)
		if err != nil {
			return nil, fmt.Errorf("admin template %s: %w", f, err)
		}
		pages[name] = t
	}
	return pages, nil
}

func funcs() template.FuncMap {
	return template.FuncMap{
		"num": func(v any) string {
			var n int64
			switch x := v.(type) {
			case int:
				n = int64(x)
			case int64:
				n = x
			default:
				return fmt.Sprint(v)
			}
			return thousands(n)
		},
		// int makes a count (int64) a plural message's count.
		"int": func(n int64) int { return int(n) },
		"pct": func(part, whole int64) string {
			if whole <= 0 {
				return "—"
			}
			return strconv.FormatFloat(100*float64(part)/float64(whole), 'f', 1, 64) + "%"
		},
		"percent": func(share float64) float64 { return 100 * share },
		"pctnum": func(part, whole int64) int64 {
			if whole <= 0 {
				return 0
			}
			return 100 * part / whole
		},
		"date": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2 Jan 2006, 15:04")
		},
		"day": func(t time.Time) string { return t.UTC().Format("2 Jan 2006") },
		"bounceKind": func(k model.EventKind) string {
			switch k {
			case model.EventBounce:
				return "hard bounce"
			case model.EventSoftBounce:
				return "soft bounce"
			case model.EventComplaint:
				return "complaint"
			}
			return string(k)
		},
		// zoned shows an instant in the newsroom's time zone.
		"zoned": zonedTime,
		"can":   func(id *auth.Identity, p string) bool { return id.Can(auth.Permission(p)) },
		"add":   func(a, b int) int { return a + b },
		"json": func(v any) (template.JS, error) {
			b, err := json.Marshal(v)
			return template.JS(b), err
		},
		"lower": strings.ToLower,
		// Forms that come back with problems (forms.go).
		"summary": summary,
		"problem": problem,
		"invalid": invalid,
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m
		},
		"subStatuses": func() []string { return []string{"confirmed", "unconfirmed", "unsubscribed"} },
		"slotList":    func() []string { return []string{"morning", "midday", "evening"} },
		"itemArgs":    func(i, j int, label string) map[string]any { return map[string]any{"I": i, "J": j, "Label": label} },
		"status":      func(s any) template.HTMLAttr { return statusClass(fmt.Sprint(s)) },
		"title": func(s string) string {
			if s == "" {
				return s
			}
			return strings.ToUpper(s[:1]) + s[1:]
		},
		"query": func(kv ...any) template.URL {
			q := url.Values{}
			for i := 0; i+1 < len(kv); i += 2 {
				if v := fmt.Sprint(kv[i+1]); v != "" && v != "0" {
					q.Set(fmt.Sprint(kv[i]), v)
				}
			}
			return template.URL("?" + q.Encode())
		},
	}
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// pageData is what every page template gets.
type pageData struct {
	Title    string
	Nav      string
	ID       *auth.Identity
	CSRF     string
	Flash    string
	FlashErr string
	Pub      string
	Data     any
	// L is the admin's language for this user (see Admin.lang).
	L *i18n.Localizer
	// Zone is the newsroom's time zone: every time shown and entered
	// (see clock.go).
	Zone *time.Location
}

// adminLanguage is one choice of the admin's language select.
type adminLanguage struct{ Tag, Name string }

// AdminLanguages are the languages the admin is translated into, each
// named in itself.
func (pageData) AdminLanguages() []adminLanguage {
	var out []adminLanguage
	for _, tag := range i18n.AdminLanguages() {
		out = append(out, adminLanguage{tag, i18n.Name(tag)})
	}
	return out
}

// statusKeys are the catalog keys of the states and choices the admin
// shows as words.
var statusKeys = map[string]string{
	"draft": "admin.status.draft", "scheduled": "admin.status.scheduled", "sending": "admin.status.sending",
	"paused": "admin.status.paused", "sent": "admin.status.sent", "cancelled": "admin.status.cancelled",
	"published": "admin.status.published", "active": "admin.status.active", "blocklisted": "admin.status.blocklisted",
	"confirmed": "admin.status.confirmed", "unconfirmed": "admin.status.unconfirmed", "unsubscribed": "admin.status.unsubscribed",
	"single": "admin.status.single", "double": "admin.status.double",
}

// Status returns a state ("sent") or choice ("double") in the page's
// language; one the catalogs do not name comes back as it is.
func (p pageData) Status(s string) string {
	if k, ok := statusKeys[s]; ok {
		return p.L.T(k)
	}
	return s
}

// lang returns the admin's language for the request's user: their
// setting, else (signed out) their browser's Accept-Language among the
// admin's languages, else English.
func (a *Admin) lang(r *http.Request) *i18n.Localizer {
	if id := identity(r); id != nil && id.User != nil {
		return i18n.For(cmp.Or(id.User.Language, i18n.Source))
	}
	return i18n.For(i18n.Negotiate(r.Header.Get("Accept-Language"), i18n.AdminLanguages(), i18n.Source))
}

// page renders a page inside the layout.
func (a *Admin) page(w http.ResponseWriter, r *http.Request, status int, name, title, nav string, data any) {
	t, ok := a.pages[name]
	if !ok {
		a.d.Log.Error("admin: no template", "name", name)
		http.Error(w, "missing template", http.StatusInternalServerError)
		return
	}
	id := identity(r)
	pd := pageData{Title: title, Nav: nav, ID: id, Data: data, L: a.lang(r), Zone: a.zone(r.Context())}
	if id != nil {
		pd.CSRF = id.CSRF
	}
	if pub, err := a.publication(r.Context()); err == nil {
		pd.Pub = pub.Name
	}
	pd.Flash, pd.FlashErr = a.takeFlash(w, r)
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", pd); err != nil {
		a.d.Log.Error("admin: render page", "page", name, "err", err)
		http.Error(w, "This page could not be shown.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

const flashCookie = "herald_flash"

// redirect sends the browser to target with a message for the next page
// (errMsg true shows it as an error).
func (a *Admin) redirect(w http.ResponseWriter, r *http.Request, target, msg string, errMsg bool) error {
	if msg != "" {
		kind := "ok:"
		if errMsg {
			kind = "err:"
		}
		http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: url.QueryEscape(kind + msg), Path: "/admin/",
			MaxAge: 60, HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode})
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

func (a *Admin) takeFlash(w http.ResponseWriter, r *http.Request) (ok, bad string) {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return "", ""
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: "/admin/", MaxAge: -1, HttpOnly: true, Secure: a.secure})
	v, _ := url.QueryUnescape(c.Value)
	if m, found := strings.CutPrefix(v, "err:"); found {
		return "", m
	}
	return strings.TrimPrefix(v, "ok:"), ""
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// pathID reads a numeric path value.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, store.ErrNotFound // the error page says so in the user's language
	}
	return id, nil
}

// intParam reads a non-negative integer query parameter.
func intParam(r *http.Request, name string, def int) int {
	v, err := strconv.Atoi(r.URL.Query().Get(name))
	if err != nil || v < 0 {
		return def
	}
	return v
}

// pager is the paging state of a list page.
type pager struct {
	Offset, Limit int
	Total         int64
	L             *i18n.Localizer // the page's language (nil: English)
}

// Lang returns the pager's language.
func (p pager) Lang() *i18n.Localizer {
	if p.L == nil {
		return i18n.For(i18n.Source)
	}
	return p.L
}

func (p pager) Prev() int     { return max(p.Offset-p.Limit, 0) }
func (p pager) Next() int     { return p.Offset + p.Limit }
func (p pager) HasPrev() bool { return p.Offset > 0 }
func (p pager) HasNext() bool { return int64(p.Offset+p.Limit) < p.Total }
func (p pager) From() int64 {
	if p.Total == 0 {
		return 0
	}
	return int64(p.Offset + 1)
}
func (p pager) To() int64 { return min(int64(p.Offset+p.Limit), p.Total) }

func (a *Admin) staticFile(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("file")
	b, err := fs.ReadFile(a.static, name)
	if err != nil {
		http.NotFound(w, r)
		return nil
	}
	switch path.Ext(name) {
	case ".css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case ".js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case ".svg":
		w.Header().Set("Content-Type", "image/svg+xml")
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(b)
	return nil
}
