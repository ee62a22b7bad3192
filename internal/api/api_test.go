package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/herald-news/herald/internal/unfurl"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/herald-news/herald/client"
	"github.com/herald-news/herald/internal/api"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/delivery/deliverytest"
	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/message"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

type env struct {
	st     *store.Store
	api    *api.API
	srv    *httptest.Server
	tokens map[auth.Role]string
	sink   *smtpsink.Sink
	// dkimRecord is the DNS record of the key transactional messages are
	// signed with.
	dkimRecord string
}

// newEnv serves the API over a real store, with a token per role and,
// when send is set, a delivery engine sending to an in-process SMTP server.
func newEnv(t *testing.T, st *store.Store, send bool, deps ...func(*api.Deps)) *env {
	t.Helper()
	ctx := context.Background()
	pub := sample.Publication()
	pub.LogoURL = ""
	if err := st.SavePublication(ctx, pub); err != nil {
		t.Fatal(err)
	}
	svc := auth.New(st, auth.Options{BcryptCost: bcrypt.MinCost})
	e := &env{st: st, tokens: map[auth.Role]string{}}
	for _, r := range auth.AllRoles() {
		u, err := auth.CreateUser(ctx, st, string(r)+"@example.com", "", r, "a long enough password", bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		plain, _, err := svc.CreateToken(ctx, u, "test", r)
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[r] = plain
		if r == auth.Editor {
			// An application's token, made by an editor: messages only.
			if e.tokens[auth.Sender], _, err = svc.CreateToken(ctx, u, "shop", auth.Sender); err != nil {
				t.Fatal(err)
			}
		}
	}
	d := api.Deps{Store: st, Auth: svc, From: "Courier <news@example.com>", WebhookAllow: unfurl.Everywhere}
	if send {
		sink, m, _ := deliverytest.Relay(t, smtpsink.Options{})
		e.sink = sink
		pemKey, err := message.GenerateKey("ed25519")
		if err != nil {
			t.Fatal(err)
		}
		key, err := message.ParseKey(pemKey)
		if err != nil {
			t.Fatal(err)
		}
		e.dkimRecord, _ = message.DNSRecord(key)
		d.Direct, err = delivery.NewDirect(delivery.DirectConfig{Store: st, Sender: m, Signer: deliverytest.Signer(t),
			BaseURL: "https://news.example.com", From: "Courier <news@example.com>", Publication: pub,
			DKIM: &message.DKIM{Domain: "example.com", Selector: "tx", Key: key}})
		if err != nil {
			t.Fatal(err)
		}
		eng, err := delivery.New(st, delivery.Config{Sender: m, Signer: deliverytest.Signer(t), BaseURL: "https://news.example.com",
			FlushAfter: 20 * time.Millisecond, Poll: 50 * time.Millisecond,
			Freeze: delivery.EditionFreezer(st, pub, render.Options{})})
		if err != nil {
			t.Fatal(err)
		}
		deliverytest.Run(t, eng)
		d.Engine = eng
	}
	for _, f := range deps {
		f(&d)
	}
	a, err := api.New(d)
	if err != nil {
		t.Fatal(err)
	}
	e.api = a
	mux := http.NewServeMux()
	mux.Handle("/api/", a)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) client(r auth.Role) *client.Client { return client.New(e.srv.URL, e.tokens[r]) }

// TestClientDrivesAFullFlow is what an integration does: create a list,
// import subscribers, create and publish an edition, create a campaign,
// start it and read its statistics once it is sent. It runs on both
// databases.
func TestClientDrivesAFullFlow(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, true)
		ctx := context.Background()
		c := e.client(auth.Editor)
		me, err := c.Me(ctx)
		if err != nil || me.Role != "editor" {
			t.Fatalf("Me = %+v, %v", me, err)
		}
		l, err := c.CreateList(ctx, client.ListInput{Slug: "evening", Name: "Evening Briefing", OptIn: "double"})
		if err != nil {
			t.Fatal(err)
		}
		var csv strings.Builder
		csv.WriteString("email,name,city\n")
		for i := range 25 {
			fmt.Fprintf(&csv, "reader%02d@example.net,Reader %d,Leeds\n", i, i)
		}
		csv.WriteString("not-an-address,Nobody,York\n")
		res, err := c.Import(ctx, l.ID, strings.NewReader(csv.String()), client.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Imported != 25 || res.Rejected != 1 || len(res.Rejects) != 1 || res.Rejects[0].Line != 27 {
			t.Fatalf("import = %+v", res)
		}
		page, err := c.Subscribers(ctx, client.SubscriberQuery{ListID: l.ID, Attribute: "city=Leeds", Limit: 10, Offset: 20})
		if err != nil || page.Total != 25 || len(page.Data) != 5 {
			t.Fatalf("subscribers page = %+v, %v", page, err)
		}
		var export strings.Builder
		if err := c.ExportList(ctx, l.ID, client.ExportQuery{}, &export); err != nil || strings.Count(export.String(), "\n") != 26 ||
			!strings.HasPrefix(export.String(), "email,name,status,created_at,attributes\n") || !strings.Contains(export.String(), `reader07@example.net,Reader 7,`) {
			t.Fatalf("ExportList = %v\n%s", err, export.String())
		}
		if err := c.ExportList(ctx, l.ID, client.ExportQuery{Status: "maybe"}, io.Discard); !errors.As(err, new(*client.Error)) {
			t.Fatalf("ExportList with a bad status = %v", err)
		}
		ed, err := sample.Edition()
		if err != nil {
			t.Fatal(err)
		}
		ed.Slug = "api-evening"
		created, err := c.CreateEdition(ctx, wireEdition(t, ed))
		if err != nil || created.ID == 0 || created.Status != client.EditionDraft {
			t.Fatalf("CreateEdition = %+v, %v", created, err)
		}
		// An update carries the revision it was read at: the first goes
		// in, a second from the same old copy is refused as stale.
		stale := *created
		created.Preheader = "Read before the vote"
		if created, err = c.UpdateEdition(ctx, created.ID, created); err != nil || created.Revision != 2 {
			t.Fatalf("UpdateEdition = %+v, %v", created, err)
		}
		var apiErr *client.Error
		if _, err := c.UpdateEdition(ctx, stale.ID, &stale); !errors.As(err, &apiErr) || apiErr.Status != 409 || apiErr.Code != "stale" {
			t.Fatalf("stale UpdateEdition: %v", err)
		}
		revs, err := c.EditionRevisions(ctx, created.ID)
		if err != nil || len(revs) != 2 || revs[0].Revision != 2 || revs[0].Author != "editor@example.com" || revs[0].Edition.Preheader != "Read before the vote" {
			t.Fatalf("EditionRevisions = %+v, %v", revs, err)
		}
		if _, err := c.PublishEdition(ctx, created.ID); err != nil {
			t.Fatal(err)
		}
		camp, err := c.CreateCampaign(ctx, client.CampaignInput{Name: "Tonight", EditionID: created.ID, ListIDs: []int64{l.ID}})
		if err != nil || camp.Status != "draft" {
			t.Fatalf("CreateCampaign = %+v, %v", camp, err)
		}
		if camp, err = c.StartCampaign(ctx, camp.ID); err != nil || camp.Total != 25 {
			t.Fatalf("StartCampaign = %+v, %v", camp, err)
		}
		var stats *client.Stats
		for deadline := time.Now().Add(30 * time.Second); ; {
			if stats, err = c.CampaignStats(ctx, camp.ID); err != nil {
				t.Fatal(err)
			}
			if stats.Progress.Done {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("campaign did not finish: %+v", stats)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if stats.Status != "sent" || stats.Progress.Sent != 25 || e.sink.Count() != 25 {
			t.Fatalf("stats = %+v, sink got %d", stats, e.sink.Count())
		}
		if _, err := c.StartCampaign(ctx, camp.ID); apiCode(err) != "bad_transition" {
			t.Fatalf("starting a sent campaign: %v", err)
		}
		// Bulk and suppressions finish the tour.
		br, err := c.Bulk(ctx, client.BulkRequest{Action: "blocklist", Emails: []string{"reader01@example.net", "nobody@example.net", "bad"}})
		if err != nil || br.Done != 1 || len(br.Failed) != 2 {
			t.Fatalf("bulk = %+v, %v", br, err)
		}
		if _, err := c.Suppress(ctx, client.SuppressionInput{Email: "reader02@Example.NET", Detail: "asked"}); err != nil {
			t.Fatal(err)
		}
		sp, err := c.Suppressions(ctx, 10, 0)
		if err != nil || sp.Total != 1 || sp.Data[0].Email != "reader02@example.net" {
			t.Fatalf("suppressions = %+v, %v", sp, err)
		}
		if err := c.Unsuppress(ctx, "reader02@example.net"); err != nil {
			t.Fatal(err)
		}
	})
}

func apiCode(err error) string {
	var e *client.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// TestEveryRoleAgainstEveryEndpoint calls every route with a token of
// each role: without the permission the answer is 403, with it never 401
// or 403 (nor a server error).
func TestEveryRoleAgainstEveryEndpoint(t *testing.T) {
	t.Parallel()
	probe := newEnv(t, storetest.SQLite(t), false)
	for _, rt := range probe.api.Routes() {
		t.Run(rt.Method+" "+rt.Path, func(t *testing.T) {
			e := newEnv(t, storetest.SQLite(t), false)
			ctx := context.Background()
			l := &model.List{Slug: "daily", Name: "Daily"}
			e.st.CreateList(ctx, l)
			ed, _ := sample.Edition()
			e.st.CreateEdition(ctx, ed, "")
			sub := &model.Subscriber{Email: "x@example.com"}
			e.st.UpsertSubscriber(ctx, sub)
			e.st.Suppress(ctx, "x@example.com", model.SuppressManual, "")
			camp := &model.Campaign{Name: "C", EditionID: ed.ID, ListIDs: []int64{l.ID}, From: "A <a@example.com>"}
			e.st.CreateCampaign(ctx, camp)
			seg := &model.Segment{Name: "S", Query: "list = daily"}
			e.st.SaveSegment(ctx, seg)
			path := strings.ReplaceAll(rt.Path, "{email}", "x@example.com")
			switch {
			case strings.HasPrefix(path, "/api/lists/"):
				path = strings.ReplaceAll(path, "{id}", fmt.Sprint(l.ID))
			case strings.HasPrefix(path, "/api/editions/"):
				path = strings.ReplaceAll(path, "{id}", fmt.Sprint(ed.ID))
			case strings.HasPrefix(path, "/api/subscribers/"):
				path = strings.ReplaceAll(path, "{id}", fmt.Sprint(sub.ID))
			case strings.HasPrefix(path, "/api/campaigns/"):
				path = strings.ReplaceAll(path, "{id}", fmt.Sprint(camp.ID))
			case strings.HasPrefix(path, "/api/segments/"):
				path = strings.ReplaceAll(path, "{id}", fmt.Sprint(seg.ID))
			}
			body := "{}"
			if rt.Body != "" {
				body = "email\nz@example.com\n"
			}
			roles := auth.TokenRoles()
			for i := len(roles) - 1; i >= 0; i-- {
				role := roles[i]
				req, _ := http.NewRequest(rt.Method, e.srv.URL+path, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+e.tokens[role])
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				allowed := rt.Public || role.Can(rt.Permission)
				switch {
				case allowed && (res.StatusCode == 401 || res.StatusCode == 403 || res.StatusCode >= 500):
					t.Errorf("%s: %d, want access", role, res.StatusCode)
				case !allowed && res.StatusCode != 403:
					t.Errorf("%s: %d, want 403", role, res.StatusCode)
				}
			}
			if !rt.Public {
				req, _ := http.NewRequest(rt.Method, e.srv.URL+path, strings.NewReader(body))
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != 401 {
					t.Errorf("without a token: %d, want 401", res.StatusCode)
				}
			}
		})
	}
}

// TestOpenAPIMatchesRoutes checks the served document against the routes
// the server actually answers: every documented operation is routed (not
// the catch-all and not 405), and every route is documented.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.SQLite(t), false)
	res, err := http.Get(e.srv.URL + "/api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi = %q", doc.OpenAPI)
	}
	var documented []string
	for p, ops := range doc.Paths {
		for m := range ops {
			documented = append(documented, strings.ToUpper(m)+" /api"+p)
			path := strings.NewReplacer("{id}", "999999", "{email}", "nobody@example.com").Replace("/api" + p)
			req, _ := http.NewRequest(strings.ToUpper(m), e.srv.URL+path, strings.NewReader("{}"))
			req.Header.Set("Authorization", "Bearer "+e.tokens[auth.Owner])
			r, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(r.Body)
			r.Body.Close()
			if r.StatusCode == http.StatusMethodNotAllowed || strings.Contains(string(b), "No such API endpoint") {
				t.Errorf("documented %s %s is not routed: %d %s", m, p, r.StatusCode, b)
			}
			if r.StatusCode >= 400 {
				var eb client.ErrorBody
				if json.Unmarshal(b, &eb) != nil || eb.Error.Code == "" || eb.Error.Message == "" {
					t.Errorf("%s %s: error without the error shape: %s", m, p, b)
				}
			}
		}
	}
	var routed []string
	for _, rt := range e.api.Routes() {
		routed = append(routed, rt.Method+" "+rt.Path)
	}
	sort.Strings(documented)
	sort.Strings(routed)
	if strings.Join(documented, "\n") != strings.Join(routed, "\n") {
		t.Errorf("documented:\n%s\nrouted:\n%s", strings.Join(documented, "\n"), strings.Join(routed, "\n"))
	}
	// The catch-all answers unknown paths with the error shape.
	r, _ := http.Get(e.srv.URL + "/api/nothing-here")
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 404 || !strings.Contains(string(b), `"code":"not_found"`) {
		t.Errorf("unknown path: %d %s", r.StatusCode, b)
	}
}

// TestSessionCookieIsNotEnough: the API takes tokens only, so a browser's
// admin session cannot be ridden by a cross-site request.
func TestSessionCookieIsNotEnough(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.SQLite(t), false)
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/lists", strings.NewReader(`{"slug":"x","name":"X"}`))
	req.AddCookie(&http.Cookie{Name: "herald_session", Value: "anything"})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Fatalf("cookie instead of token: %d", res.StatusCode)
	}
	_, err = client.New(e.srv.URL, "hrld_not-a-token").Me(context.Background())
	if apiCode(err) != "unauthorized" {
		t.Fatalf("bad token: %v", err)
	}
}

// TestCancelledCampaignIsNotDoneWhileSending: a cancelled campaign whose
// rows are still claimed by a worker is not reported done: what it reports
// as sent may still change.
func TestCancelledCampaignIsNotDoneWhileSending(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	e := newEnv(t, st, false)
	ctx := context.Background()
	l := &model.List{Slug: "daily", Name: "Daily"}
	if err := st.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	sub := &model.Subscriber{Email: "reader@example.com"}
	if _, err := st.UpsertSubscriber(ctx, sub); err != nil {
		t.Fatal(err)
	}
	if err := st.SetSubscription(ctx, sub.ID, l.ID, model.SubConfirmed, model.SourceAdmin); err != nil {
		t.Fatal(err)
	}
	c := &model.Campaign{Name: "Evening", EditionID: 1, ListIDs: []int64{l.ID}, From: "Courier <news@example.com>"}
	if err := st.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := st.StartCampaign(ctx, c.ID, model.Frozen{Subject: "s", HTML: []byte("h"), Text: []byte("t")}); err != nil {
		t.Fatal(err)
	}
	if rows, err := st.ClaimDeliveries(ctx, c.ID, 10, time.Minute); err != nil || len(rows) != 1 {
		t.Fatalf("claim: %d rows, %v", len(rows), err)
	}
	if err := st.SetCampaignStatus(ctx, c.ID, model.CampaignCancelled); err != nil {
		t.Fatal(err)
	}
	stats, err := e.client(auth.Viewer).CampaignStats(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Progress.Done || stats.Progress.Sending != 1 {
		t.Fatalf("progress %+v: a cancelled campaign with a row in flight is not done", stats.Progress)
	}
}
