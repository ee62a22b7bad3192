// Package admin serves Herald's admin: server-rendered pages under /admin/
// for the newsroom (dashboard, subscribers, lists, imports, the edition
// composer with live previews, campaigns with live progress and charts, the
// outbox, settings, users and API tokens).
//
// Contract: every route is registered in routes.go with the one permission
// it needs; the middleware signs the request in from its session cookie,
// refuses it without that permission, and refuses any state-changing
// request without the session's CSRF token. Pages are html/template with
// embedded assets; the small scripts in static/ only enhance pages that
// work without them (autosave, preview refresh, live progress). Charts are
// SVG drawn on the server.
package admin

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/bounce"
	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/importer"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/precheck"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/settings"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/unfurl"
	"github.com/herald-news/herald/internal/validator"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Deps is what the admin needs. Store, Auth and BaseURL are required.
type Deps struct {
	Store *store.Store
	Auth  *auth.Service
	// Engine starts campaigns and is woken on resume; nil disables starting.
	Engine *delivery.Engine
	// Sender sends test copies; nil disables test sends.
	Sender mailer.Sender
	// Outbox is the built-in transport's store, shown on the outbox page;
	// nil when mail goes out through relays.
	Outbox *mailer.Outbox
	// Relays are the configured relays (SMTP or HTTP API), for the settings page and its
	// connection test.
	Relays []mailer.RelayConfig
	// RelayStats reports how this node's relays are doing now (in
	// rotation or not, connections, messages), and RelayChanges their
	// recent moves out of and back into rotation, newest first; both for
	// the settings page. Nil: not shown.
	RelayStats   func() []mailer.RelayStats
	RelayChanges func() []mailer.RotationEvent
	// Imports runs CSV imports in the background. Nil: the admin starts
	// its own, keeping uploads in TempDir and reporting to ImportObserver,
	// and Close stops it.
	Imports *importer.Runner
	// ImportObserver hears imports run and their rows (metrics); nil: none.
	ImportObserver importer.Observer
	// BounceDomain and DNSResolver are the configuration's bounce_domain
	// and dns_resolver, for the sending-domain check in Settings.
	BounceDomain, DNSResolver string
	// Precheck runs the pre-send checks on stored editions (the composer's
	// panel, and before a campaign starts); nil: no checks.
	Precheck *precheck.Editions
	// Settings are the tracking, DKIM and publication settings with the
	// configuration's fixed choices (a DKIM key file); nil: those kept in
	// Store, with none fixed.
	Settings *settings.Settings
	// Bounce names the envelope sender of a test copy sent to a
	// subscriber's address (VERP, with config bounce_domain).
	Bounce bounce.VERP
	// BaseURL is the public site, for links in previews and test mail.
	BaseURL string
	// BaseURLGuessed says the configuration sets no base_url (BaseURL is
	// the listen address): the first-run checklist asks for it.
	BaseURLGuessed bool
	// From is the default From of new campaigns ("Name <address>").
	From string
	// ThemeDir overrides the email and web templates (render.Options).
	ThemeDir string
	// Unfurl reads pasted links in the composer's desk; nil uses
	// unfurl.New with its defaults (public addresses only).
	Unfurl *unfurl.Unfurler
	// Sunset is the sunset policy the configuration sets, for its page;
	// nil: none.
	Sunset *store.SunsetPolicy
	// WebhookAllow lists the non-public address ranges outgoing webhook
	// receivers may be on (webhook.Options.Allow); none by default.
	WebhookAllow []netip.Prefix
	// TempDir holds uploaded CSV files while they import (os.TempDir()).
	TempDir string
	// TrustProxy takes the client IP the audit log records and sign-in
	// throttling counts from the last X-Forwarded-For entry (behind a
	// reverse proxy only), as the public web does.
	TrustProxy bool
	Log        *slog.Logger
	Now        func() time.Time
}

// Admin is the admin's http.Handler. Close it to stop running imports.
type Admin struct {
	d          Deps
	mux        *http.ServeMux
	pages      map[string]*template.Template
	static     fs.FS
	imports    *importer.Runner
	ownImports bool      // imports was started here: Close stops it
	secure     bool      // cookies only over HTTPS
	origin     string    // base_url's scheme://host[:port]
	tabSaves   pageSaves // the composer pages' last autosaves (see pageSaves)
}

// New builds the admin handler, to be mounted at /admin/.
func New(d Deps) (*Admin, error) {
	if d.Store == nil || d.Auth == nil {
		return nil, errors.New("admin: a store and an auth service are required")
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.TempDir == "" {
		d.TempDir = os.TempDir()
	}
	if d.Unfurl == nil {
		d.Unfurl = unfurl.New(unfurl.Options{})
	}
	d.BaseURL = strings.TrimSuffix(d.BaseURL, "/")
	if d.Settings == nil {
		site := d.BaseURL
		if site == "" {
			site = "http://127.0.0.1:8080"
		}
		d.Settings = settings.New(d.Store, site)
	}
	pages, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	static, _ := fs.Sub(staticFiles, "static")
	a := &Admin{d: d, pages: pages, static: static, secure: strings.HasPrefix(d.BaseURL, "https://"), origin: originOf(d.BaseURL),
		imports: d.Imports}
	if a.imports == nil {
		a.imports, a.ownImports = importer.NewRunner(d.Store, d.TempDir, d.Log, d.ImportObserver), true
	}
	a.mux = a.routes()
	return a, nil
}

// originOf is the scheme://host[:port] of a URL, or "" for one that does
// not parse.
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// ServeHTTP serves /admin/… requests.
func (a *Admin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	if h.Get("Content-Security-Policy") == "" {
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: https: http:; style-src 'self'; script-src 'self'; "+
			"frame-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'; object-src 'none'")
	}
	a.mux.ServeHTTP(w, r)
}

// Close stops running imports and waits for them.
func (a *Admin) Close() error {
	if a.ownImports {
		a.imports.Close()
	}
	return nil
}

// Routes lists every route as "METHOD /path" with the permission it needs
// ("" for public ones), for the authorisation tests and documentation.
func (a *Admin) Routes() []Route {
	out := make([]Route, len(a.table()))
	for i, rt := range a.table() {
		out[i] = Route{Method: rt.method, Path: rt.path, Permission: rt.perm, Public: rt.public}
	}
	return out
}

// Route describes one admin route.
type Route struct {
	Method, Path string
	Permission   auth.Permission
	Public       bool
}

// identityKey carries the signed-in identity in a request's context.
type identityKey struct{}

func identity(r *http.Request) *auth.Identity {
	id, _ := r.Context().Value(identityKey{}).(*auth.Identity)
	return id
}

// handler is an admin handler: it writes a response or returns an error
// that errorPage turns into one.
type handler func(w http.ResponseWriter, r *http.Request) error

type route struct {
	method, path string
	perm         auth.Permission
	public       bool
	enrol        bool // open to a session that must enrol in two-factor first
	passwd       bool // open to a user who must replace a generated password first
	h            handler
}

const sessionCookie = "herald_session"

func (a *Admin) cookieName() string {
	if a.secure {
		return "__Host-" + sessionCookie
	}
	return sessionCookie
}

// Bounds of request bodies, set before anything reads them: a form is
// small; the composer carries images; an import carries its CSV file.
const (
	maxFormBody     = 1 << 20
	maxLoginBody    = 64 << 10
	maxEditionBody  = 20 << 20
	maxImportUpload = 1 << 30
)

// bodyLimit is the largest body a route takes.
func bodyLimit(path string) int64 {
	switch {
	case path == "/admin/login":
		return maxLoginBody
	case path == "/admin/imports":
		return maxImportUpload
	case strings.HasPrefix(path, "/admin/editions"):
		return maxEditionBody
	}
	return maxFormBody
}

// wrap applies sign-in, permission and CSRF checks to one route, and its
// body bound before anything parses the body.
func (a *Admin) wrap(rt route) http.Handler {
	limit := bodyLimit(rt.path)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if rt.public {
			a.serve(w, r, rt.h)
			return
		}
		var id *auth.Identity
		if c, err := r.Cookie(a.cookieName()); err == nil {
			id, err = a.d.Auth.Session(r.Context(), c.Value)
			if err != nil && !errors.Is(err, auth.ErrNoSession) {
				a.fail(w, r, err)
				return
			}
		}
		if id == nil {
			if r.Method == http.MethodGet && !strings.HasSuffix(r.URL.Path, "/events") {
				http.Redirect(w, r, "/admin/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			a.errorPage(w, r, http.StatusUnauthorized, a.lang(r).T("admin.error.session_ended"))
			return
		}
		// Known from here: what is refused below is said in their language.
		r = r.WithContext(context.WithValue(r.Context(), identityKey{}, id))
		switch {
		case id.Stage == store.StageSecond:
			// Password accepted, second factor owed: nothing else yet.
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/admin/login/second?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			a.errorPage(w, r, http.StatusUnauthorized, a.lang(r).T("admin.error.second_factor"))
			return
		case id.Stage == store.StageEnrol && !rt.enrol:
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/admin/account/2fa", http.StatusSeeOther)
				return
			}
			a.errorPage(w, r, http.StatusForbidden, a.lang(r).T("admin.error.enrol_first"))
			return
		case id.Stage == store.StageFull && id.User.MustChangePassword && !rt.passwd:
			// A password Herald generated is replaced before anything else.
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/admin/account", http.StatusSeeOther)
				return
			}
			a.errorPage(w, r, http.StatusForbidden, a.lang(r).T("admin.account.password.first"))
			return
		}
		if !id.Can(rt.perm) {
			l := a.lang(r)
			a.errorPage(w, r, http.StatusForbidden, l.T("admin.error.role_denied", "Role", roleName(l, id.Role)))
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if !a.sameOrigin(r) || !auth.CheckCSRF(id, csrfFrom(r)) {
				a.errorPage(w, r, http.StatusForbidden, a.lang(r).T("admin.error.form_expired"))
				return
			}
		}
		// Every change this request makes is recorded as this user's
		// (package audit; the store writes the rows).
		ctx := audit.WithActor(r.Context(), audit.Actor{UserID: id.User.ID, Name: id.User.Email, Via: audit.ViaAdmin,
			IP: audit.ClientIP(r, a.d.TrustProxy)})
		a.serve(w, r.WithContext(ctx), rt.h)
	})
}

// csrfFrom reads the token from the form or, for scripts, a header.
func csrfFrom(r *http.Request) string {
	if v := r.Header.Get("X-CSRF-Token"); v != "" {
		return v
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			return ""
		}
	}
	return r.FormValue("csrf")
}

// sameOrigin refuses requests whose Origin header names another site. Ours
// is base_url's origin, which is what the browser sends behind a proxy
// that rewrites Host (nginx's default proxy_set_header Host $proxy_host),
// or the host the request was made to, for a server reached directly.
func (a *Admin) sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return o == "" // a form from an opaque origin is never ours
	}
	if a.origin != "" && strings.EqualFold(o, a.origin) {
		return true
	}
	o = strings.TrimPrefix(strings.TrimPrefix(o, "https://"), "http://")
	return o == r.Host
}

func (a *Admin) serve(w http.ResponseWriter, r *http.Request, h handler) {
	if err := h(w, r); err != nil {
		a.fail(w, r, err)
	}
}

// userError is an error whose message is meant for the person.
type userError struct {
	status int
	msg    string
}

func (e *userError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &userError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// fail turns an error into an error page, never showing internal detail.
func (a *Admin) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ue *userError
	var inUse *store.InUseError
	switch {
	case errors.As(err, &ue):
		a.errorPage(w, r, ue.status, ue.msg)
	case errors.As(err, &inUse):
		a.errorPage(w, r, http.StatusConflict, inUse.Msg)
	case validator.As(err) != nil:
		// A domain rule's refusal a page did not show beside a field.
		a.errorPage(w, r, http.StatusUnprocessableEntity, validator.As(err).In(a.lang(r)))
	case errors.Is(err, store.ErrNotFound):
		a.errorPage(w, r, http.StatusNotFound, a.lang(r).T("admin.error.not_found"))
	case errors.Is(err, store.ErrBadTransition):
		a.errorPage(w, r, http.StatusConflict, a.lang(r).T("admin.error.bad_transition"))
	case errors.Is(err, store.ErrConflict):
		a.errorPage(w, r, http.StatusConflict, a.lang(r).T("admin.error.conflict"))
	case errors.Is(err, store.ErrErased):
		a.errorPage(w, r, http.StatusConflict, a.lang(r).T("admin.error.erased"))
	case errors.Is(err, context.Canceled):
	default:
		a.d.Log.Error("admin request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		a.errorPage(w, r, http.StatusInternalServerError, a.lang(r).T("admin.error.internal"))
	}
}

func (a *Admin) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":%q}`, msg)
		return
	}
	a.page(w, r, status, "error", "Error", "", map[string]any{"Status": status, "Message": msg, "StatusText": http.StatusText(status)})
}

// renderer returns a renderer for the saved publication (or a plain
// default before one is saved).
// renderer renders as readers of list l see it (its brand and language;
// nil: the publication's).
func (a *Admin) renderer(ctx context.Context, l *model.List) (*render.Renderer, model.Publication, error) {
	pub, err := a.publication(ctx)
	if err != nil {
		return nil, pub, err
	}
	pub, opts := render.Branded(l, pub, render.Options{ThemeDir: a.d.ThemeDir, ArchiveURL: a.archiveURL()})
	r, err := render.New(pub, opts)
	if err != nil {
		return nil, pub, fmt.Errorf("renderer: %w", err)
	}
	return r, pub, nil
}

func (a *Admin) archiveURL() string {
	if a.d.BaseURL == "" {
		return ""
	}
	return a.d.BaseURL + "/archive/"
}

func (a *Admin) publication(ctx context.Context) (model.Publication, error) {
	return a.d.Settings.Brand(ctx)
}
