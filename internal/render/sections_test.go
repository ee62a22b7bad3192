package render_test

import (
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
)

// renderAll renders e for pub as HTML email, plain text and web page.
func renderAll(t *testing.T, pub model.Publication, e *model.Edition) (email, text, web string) {
	t.Helper()
	r, err := render.New(pub, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.Email(e)
	if err != nil {
		t.Fatal(err)
	}
	w, err := r.Web(e)
	if err != nil {
		t.Fatal(err)
	}
	return string(m.AppendHTML(nil, subscriber)), string(m.AppendText(nil, subscriber)), string(w)
}

// sectionOf returns a pointer to e's first section of kind k.
func sectionOf(t *testing.T, e *model.Edition, k model.SectionKind) *model.Section {
	t.Helper()
	for i := range e.Sections {
		if e.Sections[i].Kind == k {
			return &e.Sections[i]
		}
	}
	t.Fatalf("the sample has no %s section", k)
	return nil
}

// A lead without a headline starts straight with its story, as in a
// briefing whose lead runs under the photo: no "THE LEAD" heading in any
// medium, whatever title the publication or the edition gives the section.
func TestLeadWithoutHeadlineHasNoHeading(t *testing.T) {
	for name, titles := range map[string]struct{ pub, edition string }{
		"no title anywhere":       {},
		"publication's title":     {pub: "The lead"},
		"the edition's own title": {edition: "The lead"},
	} {
		t.Run(name, func(t *testing.T) {
			pub := sample.Publication()
			for i := range pub.Sections {
				if pub.Sections[i].Kind == model.KindLead {
					pub.Sections[i].Title = titles.pub
				}
			}
			e, err := sample.Edition()
			if err != nil {
				t.Fatal(err)
			}
			lead := sectionOf(t, e, model.KindLead)
			lead.Title = titles.edition
			lead.Lead.Headline = ""
			email, text, web := renderAll(t, pub, e)
			if strings.Contains(strings.ToLower(email), "the lead") || strings.Contains(email, `class="kicker"`) {
				t.Error("the email shows a heading above a lead without a headline")
			}
			if strings.Contains(strings.ToLower(text), "the lead") {
				t.Error("the plain text shows a heading above a lead without a headline")
			}
			if strings.Contains(strings.ToLower(web), "the lead") {
				t.Error("the web page shows a heading above a lead without a headline")
			}
			for medium, doc := range map[string]string{"email": email, "text": text, "web": web} {
				if !strings.Contains(doc, "We have voted for the sea wall") {
					t.Errorf("%s: the lead's story is missing", medium)
				}
			}
		})
	}
}
