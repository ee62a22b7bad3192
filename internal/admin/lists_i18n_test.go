package admin_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/model"
)

// An editor gives a list a language and a brand on its page; a colour that
// is not one, or a language Herald does not speak, is refused with the
// reason and the list keeps what it had; the embed snippet speaks the
// list's language.
func TestListLanguageAndBrandForm(t *testing.T) {
	e := newEnv(t, nil)
	editor := e.login(auth.Editor)
	path := "/admin/lists/" + e.ids["list"]
	form := url.Values{"csrf": {editor.csrf}, "name": {"Le Soir"}, "opt_in": {"single"}, "public": {"on"}, "language": {"fr"},
		"brand_name": {"Le Soir"}, "brand_logo": {"https://soir.example/logo.png"}, "brand_accent": {"#123456"}, "brand_background": {""},
		"brand_from": {"Le Soir <soir@soir.example>"}, "brand_reply_to": {"courrier@soir.example"}, "brand_theme": {""}, "brand_address": {"Brest"}}
	if res := editor.post(path, form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", res.StatusCode)
	}
	l, err := e.st.ListBySlug(context.Background(), "evening")
	if err != nil || l.Language != "fr" || l.Brand == nil || l.Brand.From != "Le Soir <soir@soir.example>" || l.Brand.Colors.Accent != "#123456" {
		t.Fatalf("saved list %+v brand %+v, %v", l, l.Brand, err)
	}
	page := html.UnescapeString(editor.get(path))
	for _, want := range []string{`<option value="fr" selected>Français</option>`, `value="https://soir.example/logo.png"`,
		`action="` + e.srv.URL + `/subscribe/evening/embed" lang="fr" dir="ltr">`, "<label for=\"herald-email\">Adresse e-mail</label>", "S’abonner à Le Soir</button>"} {
		if !strings.Contains(page, want) {
			t.Errorf("list page lacks %q", want)
		}
	}

	for _, tc := range []struct{ field, bad, msg string }{
		{"brand_accent", "red", `The brand's accent colour "red" is not a hex value such as #9c2f1f.`},
		{"language", "he", `Herald has no catalog for "he"; it speaks en, ar, de, es, fr, it, ja, nl, pl, pt-BR.`},
		{"brand_reply_to", "Le Soir <x@y.example>", `The brand's Reply-To "Le Soir <x@y.example>" is not a bare email address`},
		{"brand_theme", "/no/such/folder", `The brand's theme folder does not work: theme folder "/no/such/folder" does not exist.`},
	} {
		field, bad := tc.field, tc.bad
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		f.Set(field, bad)
		status, page := editor.postPage(path, f)
		if page = html.UnescapeString(page); status != http.StatusUnprocessableEntity || !strings.Contains(page, tc.msg) {
			t.Errorf("%s=%q: %d without the message %q", field, bad, status, tc.msg)
		}
		if got, _ := e.st.ListBySlug(context.Background(), "evening"); got.Language != "fr" || got.Brand.Colors.Accent != "#123456" || got.Brand.ReplyTo != "courrier@soir.example" || got.Brand.ThemeDir != "" {
			t.Errorf("%s=%q changed the list: %+v %+v", field, bad, got, got.Brand)
		}
	}
}

// The composer previews an edition with the brand and in the language of
// its campaign's list, and as any other list's readers on asking.
func TestComposerPreviewsWithTheListBrand(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	l, err := e.st.ListBySlug(ctx, "evening") // the campaign in newEnv goes to it
	if err != nil {
		t.Fatal(err)
	}
	l.Language, l.Brand = "de", &model.Brand{Name: "Der Abend", Colors: model.Colors{Accent: "#123456"}}
	if err := e.st.UpdateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	other := &model.List{Slug: "plain", Name: "Plain"}
	if err := e.st.CreateList(ctx, other); err != nil {
		t.Fatal(err)
	}
	editor := e.login(auth.Editor)
	page := editor.get("/admin/editions/" + e.ids["edition"])
	src := "/admin/editions/" + e.ids["edition"] + "/preview/email?list=" + e.ids["list"]
	if !strings.Contains(page, `src="`+src+`"`) || !strings.Contains(page, `<option value="`+e.ids["list"]+`" selected>Evening Briefing</option>`) {
		t.Fatalf("the composer does not preview as the campaign's list:\n%s", page)
	}
	branded := editor.get(src)
	for _, want := range []string{`<html lang="de"`, ">Der Abend</a>", "#123456", "Guten Abend, Alex,"} {
		if !strings.Contains(branded, want) {
			t.Errorf("branded preview lacks %q", want)
		}
	}
	plain := editor.get("/admin/editions/" + e.ids["edition"] + "/preview/email?list=" + strconv.FormatInt(other.ID, 10))
	if !strings.Contains(plain, `<html lang="en-GB"`) || strings.Contains(plain, "Der Abend") || !strings.Contains(plain, ">Northgate Courier</a>") {
		t.Errorf("a list without a brand previews with another:\n%.600s", plain)
	}
}

// Each user reads the admin in their own language: switching to German
// turns the layout, the dashboard and the lists pages German for them
// alone; a language the admin does not speak is refused; the sign-in page
// follows the browser's Accept-Language.
func TestAdminLanguagePerUser(t *testing.T) {
	e := newEnv(t, nil)
	editor, owner := e.login(auth.Editor), e.login(auth.Owner)
	res := editor.post("/admin/me/language", url.Values{"csrf": {editor.csrf}, "language": {"de"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("set language: %d", res.StatusCode)
	}
	if flash := editor.get(res.Header.Get("Location")); !strings.Contains(flash, "Die Verwaltung spricht jetzt Deutsch.") {
		t.Errorf("no German confirmation:\n%s", flash)
	}
	for path, words := range map[string][]string{
		"/admin/":                       {`<html lang="de">`, ">Übersicht</a>", ">Abonnenten</a>", ">Abmelden</button>", "<h1>Übersicht</h1>", "Letzte Kampagnen", `<option value="de" selected>Deutsch</option>`},
		"/admin/lists":                  {"<h1>Listen</h1>", "Neue Liste", "Liste anlegen", "Doppelt (Bestätigung per E-Mail)", "<td>einfach</td>"},
		"/admin/lists/" + e.ids["list"]: {"Liste speichern", "Marke", "Theme-Ordner", "Bieten Sie die Liste im öffentlichen Anmeldeformular an"},
		"/admin/editions":               {"<h1>Ausgaben</h1>", "<th>Betreff</th>", "Neue Ausgabe"},
		"/admin/campaigns":              {"<h1>Kampagnen</h1>", "<th>Kampagne</th>", ">Entwurf</span>", "Erstellt am"},
		"/admin/tokens":                 {"<h1>API-Tokens</h1>", "Token anlegen", "Für Skripte und Integrationen"},
		"/admin/subscribers":            {"<h1>Abonnenten</h1>", "1 Abonnent<", `<option value="blocklisted" >gesperrt</option>`, ">aktiv</span>", "Abonnent hinzufügen"},
	} {
		page := html.UnescapeString(editor.get(path))
		for _, w := range words {
			if !strings.Contains(page, w) {
				t.Errorf("%s in German lacks %q", path, w)
			}
		}
		if strings.Contains(page, ">Sign out<") || strings.Contains(page, ">Dashboard<") {
			t.Errorf("%s still has English navigation", path)
		}
	}
	// The owner's admin is still English.
	if page := owner.get("/admin/"); !strings.Contains(page, `<html lang="en">`) || !strings.Contains(page, ">Dashboard</a>") {
		t.Errorf("another user's admin changed language")
	}
	res = editor.post("/admin/me/language", url.Values{"csrf": {editor.csrf}, "language": {"ja"}})
	if flash := editor.get(res.Header.Get("Location")); !strings.Contains(html.UnescapeString(flash), `The admin speaks en, de, fr, not "ja".`) {
		t.Errorf("an unknown admin language was not refused:\n%s", flash)
	}
	u, err := e.st.UserByEmail(context.Background(), "editor@example.com")
	if err != nil || u.Language != "de" {
		t.Errorf("the editor's language is %q, %v", u.Language, err)
	}
	// Signed out, the browser's language decides.
	req, _ := http.NewRequest("GET", e.srv.URL+"/admin/login", nil)
	req.Header.Set("Accept-Language", "fr-CH, fr;q=0.9")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if page := html.UnescapeString(string(b)); !strings.Contains(page, "<h1>Connexion</h1>") || !strings.Contains(page, "Mot de passe") {
		t.Errorf("the sign-in page ignores Accept-Language:\n%s", page)
	}
}
