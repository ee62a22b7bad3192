package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/admin"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/delivery/deliverytest"
	"github.com/herald-news/herald/internal/edition"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/precheck"
	"github.com/herald-news/herald/internal/precheck/prechecktest"
	"github.com/herald-news/herald/internal/render"
)

// TestPreSendChecksInTheAdmin: the composer's panel reads the checks as
// JSON, and starting a campaign whose edition has a broken link shows the
// warning with a button that starts it anyway.
func TestPreSendChecksInTheAdmin(t *testing.T) {
	site := prechecktest.Site(t)
	e := newEnv(t, func(d *admin.Deps) {
		eng, err := delivery.New(d.Store, delivery.Config{Sender: d.Sender, Signer: deliverytest.Signer(t), BaseURL: d.BaseURL,
			Freeze: delivery.EditionFreezer(d.Store, model.Publication{}, render.Options{})})
		if err != nil {
			t.Fatal(err)
		}
		d.Engine = eng
		d.Precheck = &precheck.Editions{Checker: precheck.New(precheck.Options{Allow: prechecktest.Loopback}),
			Email: delivery.EditionEmail(d.Store, model.Publication{}, render.Options{}), BaseURL: d.BaseURL}
	})
	ctx := context.Background()
	ed, err := edition.Parse([]byte(prechecktest.Edition(site)))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.CreateEdition(ctx, ed, ""); err != nil {
		t.Fatal(err)
	}
	c := &model.Campaign{Name: "Ferry", EditionID: ed.ID, ListIDs: []int64{e.list.ID}, From: "Courier <news@example.com>"}
	if err := e.st.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	owner := e.login(auth.Owner)

	if page := owner.get(fmt.Sprintf("/admin/editions/%d", ed.ID)); !strings.Contains(page, fmt.Sprintf(`data-precheck="/admin/editions/%d/precheck"`, ed.ID)) {
		t.Fatal("the composer has no pre-send panel")
	}
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/admin/editions/%d/precheck", e.srv.URL, ed.ID), nil)
	req.Header.Set("Accept", "application/json")
	res := owner.do(req)
	var rep precheck.Report
	err = json.NewDecoder(res.Body).Decode(&rep)
	res.Body.Close()
	// The stored publication's site (northgate-courier.example, which
	// does not exist) is linked too, and flagged.
	flagged := map[string]bool{}
	for _, f := range rep.Findings {
		flagged[f.URL] = true
	}
	if err != nil || !flagged[site+"/gone"] || flagged[site+"/ok"] || !flagged["https://northgate-courier.example"] || len(rep.Links) != 3 || len(rep.Images) != 1 {
		t.Fatalf("panel JSON = %+v, %v", rep, err)
	}

	start := fmt.Sprintf("/admin/campaigns/%d/start", c.ID)
	req, _ = http.NewRequest("POST", e.srv.URL+start, strings.NewReader(url.Values{"csrf": {owner.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res = owner.do(req)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	page := string(body)
	if res.StatusCode != http.StatusOK || !strings.Contains(page, "Before sending") || !strings.Contains(page, "answers 404 Not Found") ||
		!strings.Contains(page, `name="confirmed" value="1"`) || !strings.Contains(page, "Start sending anyway") {
		t.Fatalf("start with a warning: %d\n%s", res.StatusCode, page)
	}
	if got, _ := e.st.Campaign(ctx, c.ID); got.Status != model.CampaignDraft {
		t.Fatalf("the campaign is %s before anyone confirmed", got.Status)
	}
	res = owner.post(start, url.Values{"csrf": {owner.csrf}, "confirmed": {"1"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("start anyway = %d", res.StatusCode)
	}
	if got, _ := e.st.Campaign(ctx, c.ID); got.Status != model.CampaignSending {
		t.Fatalf("after confirming, the campaign is %s", got.Status)
	}
}

// TestPrecheckInTheUsersLanguage: a French editor reads the checks'
// findings in French, in the composer panel's JSON and on the page, while
// the checks' own words (the API's and the CLI's) stay English.
func TestPrecheckInTheUsersLanguage(t *testing.T) {
	site := prechecktest.Site(t)
	e := newEnv(t, func(d *admin.Deps) {
		d.Precheck = &precheck.Editions{Checker: precheck.New(precheck.Options{Allow: prechecktest.Loopback}),
			Email: delivery.EditionEmail(d.Store, model.Publication{}, render.Options{}), BaseURL: d.BaseURL}
	})
	ctx := context.Background()
	src := strings.Replace(prechecktest.Edition(site), "preheader: Crews accept the new rota after a night of talks at the harbour office.\n", "", 1)
	ed, err := edition.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.CreateEdition(ctx, ed, ""); err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetUserLanguage(ctx, e.users[auth.Editor].ID, "fr"); err != nil {
		t.Fatal(err)
	}
	editor := e.login(auth.Editor)
	check := fmt.Sprintf("%s/admin/editions/%d/precheck", e.srv.URL, ed.ID)
	req, _ := http.NewRequest("GET", check, nil)
	req.Header.Set("Accept", "application/json")
	res := editor.do(req)
	var rep precheck.Report
	err = json.NewDecoder(res.Body).Decode(&rep)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	for _, f := range rep.Findings {
		found[f.Check+" | "+f.Message] = f.URL
	}
	for _, want := range []string{
		"texte d’aperçu | il n’y a pas de texte d’aperçu : les boîtes de réception affichent à la place les premiers mots de l’e-mail après l’objet",
		`liens | "the union's statement" : répond 404 Not Found`,
	} {
		if _, ok := found[want]; !ok {
			t.Errorf("the French panel lacks %q: %q", want, found)
		}
	}
	var gone string
	for _, f := range rep.Links {
		if f.URL == site+"/gone" {
			gone = f.Problem
		}
	}
	if gone != "répond 404 Not Found" {
		t.Errorf("the gone link's problem = %q", gone)
	}

	page := editor.get(fmt.Sprintf("/admin/editions/%d/precheck", ed.ID))
	for _, want := range []string{"texte d’aperçu", "il n’y a pas de texte d’aperçu", "répond 404 Not Found"} {
		if !strings.Contains(page, html.EscapeString(want)) {
			t.Errorf("the French page lacks %q", want)
		}
	}
	if strings.Contains(page, "there is no preheader") || strings.Contains(page, "answers 404") {
		t.Error("the French page has English findings")
	}
}
