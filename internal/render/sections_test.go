package render_test

import (
	"regexp"
	"strconv"
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

// A section set to show no title renders with no heading in any medium,
// even when the publication has a default title for its kind.
func TestSectionWithoutTitle(t *testing.T) {
	e, err := sample.Edition()
	if err != nil {
		t.Fatal(err)
	}
	cards := sectionOf(t, e, model.KindCards)
	cards.Title, cards.NoTitle = "", true
	briefs := sectionOf(t, e, model.KindBriefs)
	briefs.Title, briefs.NoTitle = "", true
	email, text, web := renderAll(t, sample.Publication(), e)
	for medium, doc := range map[string]string{"email": email, "text": text, "web": web} {
		for _, heading := range []string{">Comment</h2>", ">Also know</h2>", "\nCOMMENT\n", "\nALSO KNOW\n"} {
			if strings.Contains(doc, heading) {
				t.Errorf("%s: an untitled section shows its default title %q", medium, heading)
			}
		}
		for _, want := range []string{cards.Cards[0].Headline, briefs.Briefs[0].Headline, "Five things"} {
			if !strings.Contains(strings.ToLower(doc), strings.ToLower(want)) {
				t.Errorf("%s: %q is missing", medium, want)
			}
		}
	}
	if strings.Contains(web, `aria-labelledby="s1"`) || strings.Contains(web, `aria-labelledby="s2"`) {
		t.Error("web: an untitled section points at a heading it does not have")
	}
	checkHTML(t, []byte(email))
	checkHTML(t, []byte(web))
}

// The credit under the hero photo is introduced by the edition's prefix,
// else the publication's, else "Photo:"; "none" shows it alone.
func TestHeroCreditPrefix(t *testing.T) {
	for _, c := range []struct{ pub, edition, want string }{
		{"", "", "Photo: Lena Ortiz"},
		{"", "via", "via Lena Ortiz"},
		{"", "none", "Lena Ortiz"},
		{"via", "", "via Lena Ortiz"},
		{"via", "Picture:", "Picture: Lena Ortiz"},
		{"none", "", "Lena Ortiz"},
	} {
		pub := sample.Publication()
		pub.CreditPrefix = c.pub
		e, err := sample.Edition()
		if err != nil {
			t.Fatal(err)
		}
		e.Hero.CreditPrefix = c.edition
		email, text, web := renderAll(t, pub, e)
		line := c.want + " / Northgate Courier (picture 4471-B)"
		if !strings.Contains(email, `<p class="credit" `) || !strings.Contains(email, ">"+line+"</p>") {
			t.Errorf("publication %q, edition %q: email lacks the credit %q", c.pub, c.edition, line)
		}
		if !strings.Contains(text, "\n"+line+"\n") {
			t.Errorf("publication %q, edition %q: text lacks the credit line %q", c.pub, c.edition, line)
		}
		if !strings.Contains(web, `<figcaption class="credit">`+line+"</figcaption>") {
			t.Errorf("publication %q, edition %q: web page lacks the credit %q", c.pub, c.edition, line)
		}
		if c.want == "Lena Ortiz" && strings.Contains(email+text+web, "Photo:") {
			t.Errorf("publication %q, edition %q: a credit with no prefix still says Photo:", c.pub, c.edition)
		}
	}
}

// A pick with a verb reads "Title, reports Publication." in every medium.
func TestPickVerb(t *testing.T) {
	e, err := sample.Edition()
	if err != nil {
		t.Fatal(err)
	}
	picks := sectionOf(t, e, model.KindPicks)
	picks.Picks = []model.Pick{
		{Title: "Harbour levy talks stall again", Verb: "reports", Publication: "Coastline Weekly", URL: "https://coastlineweekly.example/levy"},
		{Title: "Keep the new bridge boring.", Verb: "argues", Author: "Ramona Iliescu", Publication: "Civic Works Quarterly", URL: "https://civicworks.example/bridge"},
		{Title: "Are ports the new power stations?", Verb: "asks", Publication: "Coastline Weekly", URL: "https://coastlineweekly.example/ports"},
		{Title: "What a river remembers", Author: "Clara Voss", Publication: "The Upland Review", URL: "https://uplandreview.example/river"},
	}
	email, text, web := renderAll(t, sample.Publication(), e)
	for _, want := range []string{
		`>Harbour levy talks stall again</a>, reports <em>Coastline Weekly</em>.</li>`,
		`>Keep the new bridge boring</a>, argues Ramona Iliescu in <em>Civic Works Quarterly</em>.</li>`,
		`>Are ports the new power stations?</a> asks <em>Coastline Weekly</em>.</li>`,
		`>What a river remembers.</a> Clara Voss in <em>The Upland Review</em>.</li>`,
	} {
		if !strings.Contains(email, want) {
			t.Errorf("email lacks %s", want)
		}
		if w := strings.ReplaceAll(strings.ReplaceAll(want, "<em>", "<cite>"), "</em>", "</cite>"); !strings.Contains(web, w) {
			t.Errorf("web page lacks %s", w)
		}
	}
	flat := strings.Join(strings.Fields(text), " ")
	for _, want := range []string{
		"1. Harbour levy talks stall again, reports Coastline Weekly. https://coastlineweekly.example/levy",
		"2. Keep the new bridge boring, argues Ramona Iliescu in Civic Works Quarterly. https://civicworks.example/bridge",
		"3. Are ports the new power stations? asks Coastline Weekly. https://coastlineweekly.example/ports",
		"4. What a river remembers. Clara Voss in The Upland Review. https://uplandreview.example/river",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("text lacks %q", want)
		}
	}
}

// In the plain text, every URL stands on a line of its own (or after a
// short label such as "Read here: "), and a pick's "Author in Publication"
// is never split across lines, so no client can glue words together.
func TestTextURLsAndCreditsStayWhole(t *testing.T) {
	e, err := sample.Edition()
	if err != nil {
		t.Fatal(err)
	}
	// A pick whose credit falls at the margin of every indent.
	picks := sectionOf(t, e, model.KindPicks)
	for n := range 30 {
		picks.Picks = append(picks.Picks, model.Pick{Title: strings.Repeat("word ", n) + "end", Verb: []string{"", "reports"}[n%2],
			Author: []string{"Benedikt Aalto", "", "Yusuf Demir"}[n%3], Publication: "The Press Gazette of the North No " + strconv.Itoa(n),
			URL: "https://pressgazettenorth.example/p"})
	}
	_, text, _ := renderAll(t, sample.Publication(), e)
	lines := strings.Split(text, "\n")
	for _, p := range picks.Picks {
		phrase := p.Publication
		if p.Author != "" {
			phrase = p.Author + " in " + p.Publication
		}
		found := false
		for _, l := range lines {
			found = found || strings.Contains(l, phrase+".")
		}
		if !found {
			t.Errorf("%q is not whole on one line", phrase)
		}
	}
	label := regexp.MustCompile(`^ *[A-Z][A-Za-z ]{0,40}: (https?://\S+|hrld\S+)$`)
	alone := regexp.MustCompile(`^[ >]*<?https?://[^\s>]+>?[.,;:!?)]*$`)
	for i, l := range lines {
		if !strings.Contains(l, "http://") && !strings.Contains(l, "https://") {
			continue
		}
		if !alone.MatchString(l) && !label.MatchString(l) {
			t.Errorf("line %d: a URL shares its line with running text: %q", i+1, l)
		}
	}
	if !strings.Contains(text, "\n<https://northgate-courier.example/data/harbour-flood-survey-2024>\n") {
		t.Error("the link in the lead is not on a line of its own")
	}
}
