package admin_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/admin"
	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/delivery/deliverytest"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/settings"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// auditEnv is an env whose admin starts campaigns (on an engine that is
// not running, so a started campaign stays sending until paused) and
// trusts X-Forwarded-For, as it would behind a proxy.
func auditEnv(t *testing.T, st *store.Store) *env {
	t.Helper()
	return newEnvOn(t, st, func(d *admin.Deps) {
		eng, err := delivery.New(d.Store, delivery.Config{Sender: d.Sender, Signer: deliverytest.Signer(t), BaseURL: d.BaseURL,
			Freeze: delivery.EditionFreezer(d.Store, model.Publication{}, render.Options{})})
		if err != nil {
			t.Fatal(err)
		}
		d.Engine, d.TrustProxy = eng, true
	})
}

// postFrom posts a form as if from a browser at ip behind the proxy and
// returns the response's status and body.
func (c *client) postFrom(ip, path string, form url.Values) (int, string) {
	c.t.Helper()
	form.Set("csrf", c.csrf)
	req, _ := http.NewRequest("POST", c.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", "10.0.0.1, "+ip)
	res := c.do(req)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestAuditFromTheAdmin makes each audited kind of change through the
// admin's real handlers and finds one row for each, naming the signed-in
// user, the admin, the client address the proxy reported and the fields
// that changed; a refused change adds none; no secret reaches the log.
func TestAuditFromTheAdmin(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		e := auditEnv(t, st)
		ctx := context.Background()
		c := e.login(auth.Owner)
		const ip = "203.0.113.9"
		camp := "/admin/campaigns/" + e.ids["campaign"]
		for _, step := range []struct {
			path string
			form url.Values
		}{
			{camp + "/start", url.Values{"confirmed": {"1"}}},
			{camp + "/pause", url.Values{}},
			{camp + "/cancel", url.Values{}},
			{camp + "/pause", url.Values{}}, // refused: cancelled is final
			{"/admin/settings/tracking", url.Values{"clicks": {"on"}}},
			{"/admin/subscribers/" + e.ids["subscriber"] + "/erase", url.Values{}},
			{fmt.Sprintf("/admin/users/%d", e.users[auth.Viewer].ID), url.Values{"role": {"author"}}},
			{"/admin/audit/retention", url.Values{"days": {"90"}}},
			{"/admin/audit/retention", url.Values{"days": {"-4"}}}, // refused
		} {
			if status, _ := c.postFrom(ip, step.path, step.form); status != http.StatusSeeOther {
				t.Fatalf("POST %s: %d", step.path, status)
			}
		}
		status, page := c.postFrom(ip, "/admin/tokens", url.Values{"name": {"newsdesk"}, "role": {"editor"}})
		plain := regexp.MustCompile(`id="new-token">([^<]+)<`).FindStringSubmatch(page)
		if status != http.StatusOK || plain == nil {
			t.Fatalf("token create: %d", status)
		}

		all, err := st.AuditEntries(ctx, audit.Filter{User: "owner@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, en := range all {
			got = append(got, en.Action)
			if en.Actor != "owner@example.com" || en.Via != audit.ViaAdmin || en.IP != ip || en.UserID != e.users[auth.Owner].ID {
				t.Errorf("%s row: %+v", en.Action, en)
			}
		}
		want := "token.create settings.update user.role subscriber.erase settings.update campaign.cancel campaign.pause campaign.start"
		if strings.Join(got, " ") != want {
			t.Fatalf("admin audit rows = %q, want %q", got, want)
		}
		byAction := func(a string) audit.Entry {
			for _, en := range all {
				if en.Action == a {
					return en
				}
			}
			return audit.Entry{}
		}
		if ch := byAction(audit.CampaignCancel).Changes["status"]; ch.Before != "paused" || ch.After != "cancelled" {
			t.Errorf("cancel changes = %+v", ch)
		}
		if ch := byAction(audit.UserRole).Changes["role"]; ch.Before != "viewer" || ch.After != "author" {
			t.Errorf("role changes = %+v", ch)
		}
		if ch := all[1].Changes[settings.KeyAuditRetention]; ch.After != "90" {
			t.Errorf("retention change = %+v", all[1].Changes)
		}
		if ch := all[4].Changes["tracking.clicks"]; ch.After != "on" {
			t.Errorf("tracking changes = %+v", all[4].Changes)
		}
		if ch := byAction(audit.TokenCreate).Changes["name"]; ch.After != "newsdesk" {
			t.Errorf("token changes = %+v", byAction(audit.TokenCreate).Changes)
		}
		dump, _ := json.Marshal(all)
		for _, secret := range []string{plain[1], "reader@example.org", password} {
			if strings.Contains(string(dump), secret) {
				t.Errorf("the audit log holds %q", secret)
			}
		}

		// The page filters; only owners read it.
		body := c.get("/admin/audit?action=campaign.&user=owner%40example.com&since=1h")
		for _, s := range []string{"campaign.start", "campaign.pause", "campaign.cancel", ip, "<del>paused</del>"} {
			if !strings.Contains(body, s) {
				t.Errorf("the filtered audit page lacks %q", s)
			}
		}
		if strings.Contains(body, "<code>user.role</code>") {
			t.Error("the campaign. filter shows user.role")
		}
		if body := c.get("/admin/audit?since=yesterday"); !strings.Contains(body, "write a duration such as 24h") {
			t.Error("a bad since is not explained")
		}
		req, _ := http.NewRequest("GET", e.srv.URL+"/admin/audit", nil)
		if res := e.login(auth.Editor).do(req); res.StatusCode != http.StatusForbidden {
			t.Errorf("an editor reads the audit log: %d", res.StatusCode)
		}
	})
}

// TestAuditCSVExport exports the filtered log as CSV with every cell a
// spreadsheet could read as a formula neutralised.
func TestAuditCSVExport(t *testing.T) {
	t.Parallel()
	e := auditEnv(t, storetest.SQLite(t))
	// A token named like a formula, acting through the API.
	api := audit.WithActor(context.Background(), audit.Actor{Name: "=HYPERLINK(\"http://evil.example\")", Via: audit.ViaAPI, IP: "192.0.2.1"})
	if err := e.st.PutSetting(api, "sunset_months", "@SUM(A1)"); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"+1", "-2", "\tthree"} {
		if err := e.st.CreateList(audit.WithActor(context.Background(), audit.Actor{Name: name, Via: audit.ViaCLI}),
			&model.List{Slug: fmt.Sprintf("l%d", i), Name: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	c := e.login(auth.Owner)
	req, _ := http.NewRequest("GET", e.srv.URL+"/admin/audit.csv?since=24h", nil)
	res := c.do(req)
	defer res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %v", res.StatusCode, res.Header)
	}
	rows, err := csv.NewReader(res.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "at,actor,via,ip,action,object,changes" || len(rows) != 5 {
		t.Fatalf("export = %q", rows)
	}
	actors := map[string]bool{}
	for _, r := range rows[1:] {
		actors[r[1]] = true
		for _, cell := range r {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("cell %q could run as a formula", cell)
			}
		}
	}
	for _, a := range []string{"'=HYPERLINK(\"http://evil.example\")", "'+1", "'-2", "'\tthree"} {
		if !actors[a] {
			t.Errorf("actor %q not in the export: %v", a, actors)
		}
	}
	// Filters apply to the export too.
	req, _ = http.NewRequest("GET", e.srv.URL+"/admin/audit.csv?action=settings.update", nil)
	res = c.do(req)
	defer res.Body.Close()
	if rows, err := csv.NewReader(res.Body).ReadAll(); err != nil || len(rows) != 2 || rows[1][4] != "settings.update" {
		t.Errorf("filtered export = %q, %v", rows, err)
	}
}
