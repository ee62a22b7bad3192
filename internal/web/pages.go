package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/herald-news/herald/internal/i18n"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/settings"
	"github.com/herald-news/herald/internal/validator"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// pages holds one parsed template set per page, each with the layout.
type pages struct {
	byName map[string]*template.Template
}

func loadPages() (*pages, error) {
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, n := range names {
		if n == "templates/layout.html" {
			continue
		}
		t, err := template.ParseFS(templateFiles, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", n, err)
		}
		p.byName[strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")] = t
	}
	return p, nil
}

// view is what the layout needs; Data is the page's own.
type view struct {
	Title string
	// L is the page's language; nil: list's when the page is about one,
	// else negotiated (see negotiate).
	L *i18n.Localizer
	// Pub is the publication as the page shows it: with the brand of the
	// list the page is about.
	Pub     model.Publication
	CSRF    string
	NoIndex bool
	Feeds   bool
	// FeedBase is where the page's feeds are: "" for the whole archive's
	// (/feed.rss), "/archive/SLUG" for one list's.
	FeedBase string
	Data     any

	list *model.List // the list the page is about, if any
}

// pageAttrs are addresses the catalogs' links point to.
type pageAttrs struct{ Archive i18n.Attr }

// Preferences is the preference centre of the reader with token tok.
func (pageAttrs) Preferences(tok string) i18n.Attr { return i18n.Attr("/preferences/" + tok) }

// Attr returns the addresses the page's messages link to.
func (v view) Attr() pageAttrs { return pageAttrs{Archive: "/archive"} }

// feedURLs are a page's feeds.
type feedURLs struct{ RSS, Atom, JSON i18n.Attr }

// FeedURL returns the addresses of the page's feeds.
func (v view) FeedURL() feedURLs {
	return feedURLs{RSS: i18n.Attr(v.FeedBase + "/feed.rss"), Atom: i18n.Attr(v.FeedBase + "/feed.atom"), JSON: i18n.Attr(v.FeedBase + "/feed.json")}
}

// ThemeCSS is the address of the stylesheet carrying the page's brand
// colours.
func (v view) ThemeCSS() string {
	if v.list != nil {
		return "/theme.css?list=" + url.QueryEscape(v.list.Slug)
	}
	return "/theme.css"
}

// notice is the data of the generic message page.
type notice struct {
	Paragraphs []string
	Link       *link
	Error      bool
}

type link struct{ URL, Text string }

// render executes a page into a buffer first, so a template failure never
// sends half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	page, err := s.execute(r, name, &v)
	if err != nil {
		s.failedPage(w, name, v, err)
		return
	}
	writePage(w, status, page)
}

// execute renders page name with v, filling in the publication and the
// language when v leaves them out.
func (s *Server) execute(r *http.Request, name string, v *view) ([]byte, error) {
	t := s.pages.byName[name]
	pub, _, err := s.renderer.get(r.Context())
	if err != nil {
		s.log.Error("load publication", "err", err)
	}
	if v.list != nil {
		pub = v.list.Publication(pub)
	}
	v.Pub = pub
	if v.L == nil && v.list != nil {
		v.L = s.forList(r, v.list)
	} else if v.L == nil {
		v.L = s.negotiate(r)
	}
	if t == nil {
		return nil, fmt.Errorf("no page %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// failedPage answers a page that could not be rendered.
func (s *Server) failedPage(w http.ResponseWriter, name string, v view, err error) {
	s.log.Error("render page", "page", name, "err", err)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	w.Write([]byte(v.L.T("error.plain") + "\n"))
}

// writePage sends a rendered page.
func writePage(w http.ResponseWriter, status int, page []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	w.Write(page)
}

// errorPage shows a plain message in the reader's language, from the
// catalog keys of its title and text; it never includes error text.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, titleKey, msgKey string) {
	l := s.negotiate(r)
	s.render(w, r, status, "notice", view{L: l, Title: l.T(titleKey), NoIndex: true,
		Data: notice{Paragraphs: []string{l.T(msgKey)}, Error: true}})
}

// badToken is the one answer for every forged, altered, expired or
// misused link.
func (s *Server) badToken(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotFound, "error.bad_link_title", "error.bad_link")
}

// notFound answers unknown pages.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotFound, "error.not_found_title", "error.not_found")
}

// serverError logs err and shows a plain apology.
func (s *Server) serverError(w http.ResponseWriter, r *http.Request, what string, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	// The route, not the path: paths carry subscribers' tokens.
	s.log.Error(what, "route", r.Pattern, "err", err)
	s.errorPage(w, r, http.StatusInternalServerError, "error.server_title", "error.server")
}

func (s *Server) staticFile(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/")
	if r.URL.Path == "/favicon.svg" || r.URL.Path == "/favicon.ico" {
		name = "static/favicon.svg"
	}
	b, err := staticFiles.ReadFile(name)
	if err != nil {
		s.notFound(w, r)
		return
	}
	ctype := "text/css; charset=utf-8"
	if strings.HasSuffix(name, ".svg") {
		ctype = "image/svg+xml"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.ServeContent(w, r, "", startTime, bytes.NewReader(b))
}

// startTime is when the embedded assets (built into the binary) became
// current, for Last-Modified.
var startTime = time.Now().Truncate(time.Second)

// themeCSS carries the publication's accent colour into our own pages
// (served as a file, so the CSP needs no inline style).
func (s *Server) themeCSS(w http.ResponseWriter, r *http.Request) {
	pub, _, err := s.renderer.get(r.Context())
	if err != nil {
		s.log.Error("load publication", "err", err)
	}
	if slug := r.URL.Query().Get("list"); slug != "" {
		if l, err := s.store.ListBySlug(r.Context(), slug); err == nil && l.Public {
			pub = l.Publication(pub)
		}
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	a := pub.Colors.Accent
	if a == "" {
		a = pageAccent
	}
	fmt.Fprint(w, accentCSS(a))
}

// The public pages' own surfaces (static/herald.css): the light page and
// card backgrounds and the dark card, where the accent colours text.
const (
	pageLight = "#f6f4ef"
	cardDark  = "#1f2328"
	// pageAccent is the stylesheet's own accent, for a publication with
	// none.
	pageAccent = "#1a4d7a"
	// accentDark stands in for an accent too dark to read in dark mode.
	accentDark = "#8cb8e0"
)

// accentCSS is theme.css: the brand accent and the label colour buttons
// take on it (validator.Ink), where the accent reads on the page in each
// mode; elsewhere the stylesheet's own accent stays.
func accentCSS(a string) string {
	if !validator.IsColor(a) {
		return ""
	}
	var b strings.Builder
	if validator.Contrast(a, pageLight) >= validator.MinContrast {
		fmt.Fprintf(&b, ":root{--accent:%s;--accent-ink:%s;}\n", a, validator.Ink(a))
	}
	if validator.Contrast(a, cardDark) < validator.MinContrast {
		a = accentDark
	}
	fmt.Fprintf(&b, "@media (prefers-color-scheme: dark){:root{--accent:%s;--accent-ink:%s;}}\n", a, validator.Ink(a))
	return b.String()
}

// rendererCache holds the publication and its renderer, refreshed at most
// once a minute, so pages do not reparse themes per request.
type rendererCache struct {
	settings *settings.Settings
	opts     render.Options

	mu  sync.Mutex
	pub model.Publication
	r   *render.Renderer
	at  time.Time
	// lists are the renderers of lists with a brand or a language, for as
	// long as the publication's renderer and the list are unchanged.
	lists map[int64]listRenderer
}

type listRenderer struct {
	r       *render.Renderer
	base    *render.Renderer // the publication's renderer it was built on
	updated time.Time        // the list's UpdatedAt it was built from
}

// forList returns the renderer of list l's readers: its brand and language
// over the publication's; the publication's when l is nil or changes
// nothing.
func (c *rendererCache) forList(ctx context.Context, l *model.List) (*render.Renderer, error) {
	pub, base, err := c.get(ctx)
	if err != nil || l == nil || (l.Brand == nil && l.Language == "") {
		return base, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if lr, ok := c.lists[l.ID]; ok && lr.base == base && lr.updated.Equal(l.UpdatedAt) {
		return lr.r, nil
	}
	r, err := render.New(render.Branded(l, pub, c.opts))
	if err != nil {
		return nil, fmt.Errorf("build renderer of list %q: %w", l.Slug, err)
	}
	if c.lists == nil {
		c.lists = map[int64]listRenderer{}
	}
	c.lists[l.ID] = listRenderer{r: r, base: base, updated: l.UpdatedAt}
	return r, nil
}

const rendererTTL = time.Minute

func (c *rendererCache) get(ctx context.Context) (model.Publication, *render.Renderer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.r != nil && time.Since(c.at) < rendererTTL {
		return c.pub, c.r, nil
	}
	pub, err := c.settings.Brand(ctx)
	if err != nil {
		if c.r != nil {
			return c.pub, c.r, nil // keep serving the last good one
		}
		return model.DefaultPublication(c.settings.BaseURL), nil, err
	}
	r, err := render.New(pub, c.opts)
	if err != nil {
		return pub, nil, fmt.Errorf("build renderer: %w", err)
	}
	c.pub, c.r, c.at = pub, r, time.Now()
	return pub, r, nil
}

// dateline formats an edition's date and slot for lists, in the
// edition's language, else l's.
func dateline(l *i18n.Localizer, e *model.Edition) string {
	if e.Language != "" {
		l = i18n.For(e.Language)
	}
	return l.Dateline(e.Date, string(e.Slot))
}
