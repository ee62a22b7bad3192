package admin_test

import (
	"context"
	"fmt"
	"github.com/herald-news/herald/internal/unfurl"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/herald-news/herald/internal/admin"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

const password = "correct horse battery"

// env is an admin over a real SQLite store with one user per role and a
// list, a subscriber, the sample edition and a campaign to point at.
type env struct {
	t      *testing.T
	st     *store.Store
	svc    *auth.Service
	admin  *admin.Admin
	srv    *httptest.Server
	ids    map[string]string // path value name -> a real ID
	users  map[auth.Role]*store.User
	outbox *mailer.Outbox
	deps   admin.Deps
	list   *model.List
	logs   *logBuffer // what the admin and auth logged (signinEnv)
}

func newEnv(t *testing.T, deps func(*admin.Deps)) *env {
	t.Helper()
	return newEnvOn(t, storetest.SQLite(t), deps)
}

// newEnvOn is newEnv over the store st (PostgreSQL, say).
func newEnvOn(t *testing.T, st *store.Store, deps func(*admin.Deps)) *env {
	t.Helper()
	ctx := context.Background()
	var root http.Handler = http.NotFoundHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { root.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	pub := sample.Publication()
	pub.LogoURL = "" // nothing in the tests loads from outside
	if err := st.SavePublication(ctx, pub); err != nil {
		t.Fatal(err)
	}
	svc := auth.New(st, auth.Options{BcryptCost: bcrypt.MinCost})
	e := &env{t: t, st: st, svc: svc, ids: map[string]string{}, users: map[auth.Role]*store.User{}}
	for _, r := range auth.AllRoles() {
		u, err := auth.CreateUser(ctx, st, string(r)+"@example.com", strings.ToUpper(string(r[:1]))+string(r[1:]), r, password, bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		e.users[r] = u
	}
	l := &model.List{Slug: "evening", Name: "Evening Briefing"}
	if err := st.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	sub := &model.Subscriber{Email: "reader@example.org", Name: "Reader"}
	if _, err := st.UpsertSubscriber(ctx, sub); err != nil {
		t.Fatal(err)
	}
	st.SetSubscription(ctx, sub.ID, l.ID, model.SubConfirmed, model.SourceAdmin)
	ed, err := sample.Edition()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateEdition(ctx, ed, ""); err != nil {
		t.Fatal(err)
	}
	c := &model.Campaign{Name: "Evening", EditionID: ed.ID, ListIDs: []int64{l.ID}, From: "Courier <news@example.com>"}
	if err := st.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	ob, err := mailer.NewOutbox(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	e.outbox = ob
	d := admin.Deps{Store: st, Auth: svc, Outbox: ob, Sender: ob, BaseURL: srv.URL, From: "Courier <news@example.com>", TempDir: t.TempDir(),
		WebhookAllow: unfurl.Everywhere}
	if deps != nil {
		deps(&d)
	}
	e.deps = d
	a, err := admin.New(d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	e.admin = a
	mux := http.NewServeMux()
	mux.Handle("/admin/", a)
	mux.Handle("GET /media/{name}", admin.Media(st))
	root = mux
	e.srv = srv
	e.ids = map[string]string{"id": "", "file": "admin.css", "format": "email"}
	e.list = l
	e.ids["list"] = fmt.Sprint(l.ID)
	e.ids["subscriber"] = fmt.Sprint(sub.ID)
	e.ids["edition"] = fmt.Sprint(ed.ID)
	e.ids["campaign"] = fmt.Sprint(c.ID)
	return e
}

// client is a browser-like HTTP client signed in as one user.
type client struct {
	t    *testing.T
	e    *env
	http *http.Client
	csrf string
}

func (e *env) login(role auth.Role) *client {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &client{t: e.t, e: e, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	body := c.get("/admin/login")
	tok := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if tok == nil {
		e.t.Fatalf("no CSRF token on the login page")
	}
	res := c.post("/admin/login", url.Values{"csrf": {tok[1]}, "email": {string(role) + "@example.com"}, "password": {password}})
	if res.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("login as %s: %d", role, res.StatusCode)
	}
	page := c.get("/admin/tokens")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		e.t.Fatalf("no CSRF token after login as %s", role)
	}
	c.csrf = m[1]
	return c
}

func (c *client) do(req *http.Request) *http.Response {
	c.t.Helper()
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	return res
}

func (c *client) get(path string) string {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.e.srv.URL+path, nil)
	res := c.do(req)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

func (c *client) post(path string, form url.Values) *http.Response {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res := c.do(req)
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

// fill puts real IDs into a route pattern.
func (e *env) fill(rt admin.Route) string {
	p := rt.Path
	p = strings.Replace(p, "{$}", "", 1)
	id := "1"
	switch {
	case strings.HasPrefix(p, "/admin/lists/"):
		id = e.ids["list"]
	case strings.HasPrefix(p, "/admin/subscribers/"):
		id = e.ids["subscriber"]
	case strings.HasPrefix(p, "/admin/editions/"):
		id = e.ids["edition"]
	case strings.HasPrefix(p, "/admin/campaigns/"):
		id = e.ids["campaign"]
	case strings.HasPrefix(p, "/admin/users/"):
		id = fmt.Sprint(e.users[auth.Viewer].ID)
	}
	p = strings.ReplaceAll(p, "{id}", id)
	p = strings.ReplaceAll(p, "{file}", "admin.css")
	p = strings.ReplaceAll(p, "{format}", "email")
	return p
}

// TestEveryRoleAgainstEveryPage signs in as each role and calls every
// route: a role without the route's permission gets 403, one with it
// never does. Each route gets a fresh database, so destructive actions by
// one role do not change what the next one sees.
func TestEveryRoleAgainstEveryPage(t *testing.T) {
	t.Parallel()
	probe := newEnv(t, nil)
	for _, rt := range probe.admin.Routes() {
		t.Run(rt.Method+" "+rt.Path, func(t *testing.T) {
			e := newEnv(t, nil)
			path := e.fill(rt)
			// Least powerful first, so an allowed action (deleting a user)
			// cannot pull the ground from under a later check.
			roles := auth.AllRoles()
			for i := len(roles) - 1; i >= 0; i-- {
				role := roles[i]
				c := e.login(role)
				if rt.Public && rt.Method == "POST" {
					continue // sign-in: its own CSRF check is tested in TestCSRFRefused
				}
				if strings.HasSuffix(rt.Path, "/events") {
					continue // streams; their permission is checked in TestEventStreams
				}
				var status int
				if rt.Method == "GET" {
					req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
					res := c.do(req)
					status = res.StatusCode
					res.Body.Close()
				} else {
					status = c.post(path, url.Values{"csrf": {c.csrf}}).StatusCode
				}
				allowed := rt.Public || role.Can(rt.Permission)
				switch {
				case allowed && (status == 403 || status == 401 || status >= 500):
					t.Errorf("%s: %d, want access", role, status)
				case !allowed && status != 403:
					t.Errorf("%s: %d, want 403", role, status)
				}
			}
		})
	}
}

func TestEventStreamsNeedSignIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	res, err := http.Get(e.srv.URL + "/admin/campaigns/" + e.ids["campaign"] + "/events")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("events without a session: %d, want 401", res.StatusCode)
	}
}

func TestCSRFRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.login(auth.Owner)
	// No token, a wrong token, and the right token from another origin.
	if s := c.post("/admin/lists", url.Values{"name": {"X"}, "slug": {"x"}}).StatusCode; s != http.StatusForbidden {
		t.Errorf("no token: %d", s)
	}
	if s := c.post("/admin/lists", url.Values{"name": {"X"}, "slug": {"x"}, "csrf": {"forged"}}).StatusCode; s != http.StatusForbidden {
		t.Errorf("wrong token: %d", s)
	}
	req, _ := http.NewRequest("POST", e.srv.URL+"/admin/lists", strings.NewReader(url.Values{"name": {"X"}, "slug": {"x"}, "csrf": {c.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if res := c.do(req); res.StatusCode != http.StatusForbidden {
		t.Errorf("foreign origin: %d", res.StatusCode)
	}
	// Another user's token does not work for this session.
	other := e.login(auth.Editor)
	if s := c.post("/admin/lists", url.Values{"name": {"X"}, "slug": {"x"}, "csrf": {other.csrf}}).StatusCode; s != http.StatusForbidden {
		t.Errorf("another session's token: %d", s)
	}
	if _, err := e.st.ListBySlug(context.Background(), "x"); err == nil {
		t.Fatal("a list was created by a refused request")
	}
	if s := c.post("/admin/lists", url.Values{"name": {"X"}, "slug": {"x"}, "csrf": {c.csrf}}).StatusCode; s != http.StatusSeeOther {
		t.Errorf("with the token: %d", s)
	}
	// The sign-in form refuses a post without its cookie token.
	anon := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := anon.PostForm(e.srv.URL+"/admin/login", url.Values{"email": {"owner@example.com"}, "password": {password}, "csrf": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("login without its CSRF cookie: %d", res.StatusCode)
	}
}

func TestLoginRateLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	jar, _ := cookiejar.New(nil)
	c := &client{t: t, e: e, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	var last int
	for range 6 {
		body := c.get("/admin/login")
		tok := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
		last = c.post("/admin/login", url.Values{"csrf": {tok[1]}, "email": {"owner@example.com"}, "password": {"wrong guess!"}}).StatusCode
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("sixth failed sign-in: %d, want 429", last)
	}
}
