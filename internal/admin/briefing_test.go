package admin_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/model"
)

// formValues returns what a browser submits for the form with the given
// id: its text inputs, hidden inputs, checked boxes, text areas and
// selected options (not its buttons or files).
func formValues(t *testing.T, page, id string) url.Values {
	t.Helper()
	root, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	get := func(n *html.Node, key string) (string, bool) {
		for _, a := range n.Attr {
			if a.Key == key {
				return a.Val, true
			}
		}
		return "", false
	}
	var form *html.Node
	var find func(n *html.Node)
	find = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "form" {
			if v, _ := get(n, "id"); v == id {
				form = n
			}
		}
		for c := n.FirstChild; c != nil && form == nil; c = c.NextSibling {
			find(c)
		}
	}
	find(root)
	if form == nil {
		t.Fatalf("no form #%s on the page", id)
	}
	vals := url.Values{}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			name, named := get(n, "name")
			switch {
			case !named:
			case n.Data == "input":
				typ, _ := get(n, "type")
				v, _ := get(n, "value")
				switch typ {
				case "file", "submit", "button", "radio":
				case "checkbox":
					if _, on := get(n, "checked"); on {
						if v == "" {
							v = "on"
						}
						vals.Add(name, v)
					}
				default:
					vals.Add(name, v)
				}
			case n.Data == "textarea":
				var b bytes.Buffer
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					b.WriteString(c.Data)
				}
				vals.Add(name, b.String())
			case n.Data == "select":
				var walkOpt func(o *html.Node)
				walkOpt = func(o *html.Node) {
					if o.Type == html.ElementNode && o.Data == "option" {
						if _, sel := get(o, "selected"); sel {
							v, _ := get(o, "value")
							vals.Add(name, v)
						}
					}
					for c := o.FirstChild; c != nil; c = c.NextSibling {
						walkOpt(c)
					}
				}
				walkOpt(n)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(form)
	return vals
}

// TestComposerKeepsBriefingFields: an edition with a credit prefix, a
// section shown with no heading and picks with verbs comes back unchanged
// when an editor saves it from the composer without touching anything.
func TestComposerKeepsBriefingFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	id, _ := strconv.ParseInt(e.ids["edition"], 10, 64)
	ed, err := e.st.GetEdition(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	ed.Hero.CreditPrefix = "via"
	for i := range ed.Sections {
		s := &ed.Sections[i]
		switch s.Kind {
		case model.KindCards:
			s.Title, s.NoTitle = "", true
		case model.KindPicks:
			s.Picks[0].Verb = "reports"
		}
	}
	if err := e.st.UpdateEdition(ctx, ed, ""); err != nil {
		t.Fatal(err)
	}
	want, err := e.st.GetEdition(ctx, id)
	if err != nil {
		t.Fatal(err)
	}

	editor := e.login(auth.Editor)
	page := editor.get("/admin/editions/" + e.ids["edition"])
	for _, field := range []string{`value="via"`, `value="reports"`, `value="asks"`} {
		if !strings.Contains(page, field) {
			t.Errorf("the composer does not show %s", field)
		}
	}
	form := formValues(t, page, "composer")
	form.Set("csrf", editor.csrf)
	if res := editor.post("/admin/editions/"+e.ids["edition"], form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save = %d", res.StatusCode)
	}
	got, err := e.st.GetEdition(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Hero, want.Hero) {
		t.Errorf("hero after a save:\n%+v\nwant\n%+v", got.Hero, want.Hero)
	}
	if !reflect.DeepEqual(got.Sections, want.Sections) {
		for i := range want.Sections {
			if i < len(got.Sections) && !reflect.DeepEqual(got.Sections[i], want.Sections[i]) {
				t.Errorf("section %d after a save:\n%+v\nwant\n%+v", i+1, got.Sections[i], want.Sections[i])
			}
		}
	}

	// Ticking "No heading" hides a titled section's heading; the typed
	// title goes, since a section cannot have both.
	form = formValues(t, editor.get("/admin/editions/"+e.ids["edition"]), "composer")
	form.Set("csrf", editor.csrf)
	form.Set("s2_notitle", "on")
	if res := editor.post("/admin/editions/"+e.ids["edition"], form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save = %d", res.StatusCode)
	}
	got, _ = e.st.GetEdition(ctx, id)
	if s := got.Sections[2]; !s.NoTitle || s.Title != "" {
		t.Errorf("after ticking No heading: no title %v, title %q", s.NoTitle, s.Title)
	}
}

// TestSettingsCreditPrefix: the publication's credit prefix is saved from
// the settings page, shown back, and refused when it cannot be one.
func TestSettingsCreditPrefix(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.login(auth.Owner)
	form := formValues(t, owner.get("/admin/settings"), "publication")
	form.Set("csrf", owner.csrf)
	form.Set("credit_prefix", "via")
	if res := owner.post("/admin/settings/publication", form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save = %d", res.StatusCode)
	}
	pub, err := e.st.GetPublication(context.Background())
	if err != nil || pub.CreditPrefix != "via" {
		t.Fatalf("publication credit prefix = %q, %v", pub.CreditPrefix, err)
	}
	if page := owner.get("/admin/settings"); !strings.Contains(page, `name="credit_prefix" value="via"`) {
		t.Error("the settings page does not show the saved prefix")
	}
	// The edition preview uses it.
	if page := owner.get("/admin/editions/" + e.ids["edition"] + "/preview/text"); !strings.Contains(page, "via Lena Ortiz") {
		t.Error("the preview does not use the publication's credit prefix")
	}
	form.Set("credit_prefix", strings.Repeat("x", 41))
	status, page := owner.postPage("/admin/settings/publication", form)
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("too long = %d", status)
	}
	besideField(t, "a prefix too long", page, "credit_prefix", "The photo credit prefix is at most 40 characters")
	if !strings.Contains(page, `value="`+strings.Repeat("x", 41)+`"`) {
		t.Error("the prefix typed is lost")
	}
	if pub, _ := e.st.GetPublication(context.Background()); pub.CreditPrefix != "via" {
		t.Errorf("a prefix too long was saved: %q", pub.CreditPrefix)
	}
}

// TestSettingsColours: saving the settings form as it is keeps every brand
// colour (the background too), and an accent that cannot be read on the
// background is refused, saying its contrast.
func TestSettingsColours(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	pub, err := e.st.GetPublication(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pub.Colors = model.Colors{Accent: "#1a4d7a", Text: "#1d2125", Background: "#fbfaf7"}
	if err := e.st.SavePublication(ctx, pub); err != nil {
		t.Fatal(err)
	}
	owner := e.login(auth.Owner)
	form := formValues(t, owner.get("/admin/settings"), "publication")
	form.Set("csrf", owner.csrf)
	if res := owner.post("/admin/settings/publication", form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save = %d", res.StatusCode)
	}
	if got, err := e.st.GetPublication(ctx); err != nil || got.Colors != pub.Colors {
		t.Fatalf("colours after saving the form unchanged = %+v, %v; want %+v", got.Colors, err, pub.Colors)
	}
	form.Set("accent", "#f5c518")
	if _, page := owner.postPage("/admin/settings/publication", form); !strings.Contains(page, "contrast of only 1.5") || !strings.Contains(page, `value="#f5c518"`) {
		t.Error("a yellow accent is not refused with its contrast, or is lost")
	}
	if got, _ := e.st.GetPublication(ctx); got.Colors.Accent != "#1a4d7a" {
		t.Errorf("an unreadable accent was saved: %q", got.Colors.Accent)
	}
}
