package admin_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/browsertest"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/settings"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestBrowserAuditLog reads the audit log in Chromium after changes made
// through the admin (by an owner, behind a proxy), an API token and the
// command line, filters it to one kind of action, and saves screenshots.
func TestBrowserAuditLog(t *testing.T) {
	e := auditEnv(t, storetest.SQLite(t))
	owner := e.login(auth.Owner)
	camp := "/admin/campaigns/" + e.ids["campaign"]
	owner.postFrom("198.51.100.23", camp+"/start", url.Values{"confirmed": {"1"}})
	owner.postFrom("198.51.100.23", camp+"/pause", url.Values{})
	owner.postFrom("198.51.100.23", fmt.Sprintf("/admin/users/%d", e.users[auth.Author].ID), url.Values{"role": {"editor"}})
	api := audit.WithActor(context.Background(), audit.Actor{UserID: e.users[auth.Editor].ID, Name: "wire-desk importer", Via: audit.ViaAPI, IP: "192.0.2.40"})
	if err := e.st.CreateList(api, &model.List{Slug: "morning", Name: "Morning Briefing", OptIn: model.OptInDouble, Public: true}); err != nil {
		t.Fatal(err)
	}
	cli := audit.WithActor(context.Background(), audit.Actor{Name: "cli:deploy", Via: audit.ViaCLI})
	if err := settings.SaveAuditRetention(cli, e.st, 180); err != nil {
		t.Fatal(err)
	}
	owner.postFrom("198.51.100.23", camp+"/cancel", url.Values{})

	b := browsertest.New(t)
	b.Do(chromedp.Navigate(e.srv.URL+"/admin/login"), chromedp.WaitVisible(css("#email")),
		chromedp.SendKeys(css("#email"), "owner@example.com"), chromedp.SendKeys(css("#password"), password))
	clickNav(b, t, ".login-card button")
	b.Do(chromedp.Navigate(e.srv.URL+"/admin/audit"), chromedp.WaitVisible(css("table.audit")))
	text := browsertest.Run(b, chromedp.Text(css("table.audit")))
	for _, s := range []string{"campaign.cancel", "cli:deploy", "wire-desk importer", "list.create", "user.role", "198.51.100.23", "sending"} {
		if !strings.Contains(text, s) {
			t.Errorf("the audit page lacks %q:\n%s", s, text)
		}
	}
	b.Screenshot("audit-log")

	b.Do(chromedp.SetValue(css("#action"), "campaign."))
	clickNav(b, t, "form.toolbar button")
	text = browsertest.Run(b, chromedp.Text(css("table.audit")))
	if strings.Contains(text, "list.create") || strings.Count(text, "campaign.") != 3 {
		t.Errorf("filtered to campaign.:\n%s", text)
	}
	b.Screenshot("audit-log-campaigns")
	b.AssertNoProblems()
}
