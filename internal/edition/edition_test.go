package edition_test

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/edition"
	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/model"
)

func TestSampleIsCanonical(t *testing.T) {
	src := sample.Source()
	if ps := edition.Check(src); ps != nil {
		t.Fatalf("sample has problems:\n%v", ps)
	}
	e, err := sample.Edition()
	if err != nil {
		t.Fatal(err)
	}
	out, err := edition.Format(e)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, src) {
		t.Errorf("Format(Parse(sample)) differs from the sample:\n%s", out)
	}
	// The sample has the briefing's shape.
	var kinds []model.SectionKind
	for _, s := range e.Sections {
		kinds = append(kinds, s.Kind)
	}
	want := []model.SectionKind{model.KindLead, model.KindCards, model.KindBriefs, model.KindPicks}
	if !reflect.DeepEqual(kinds, want) {
		t.Fatalf("sections = %v, want %v", kinds, want)
	}
	if n := len(e.Sections[1].Cards); n != 3 {
		t.Errorf("%d cards, want 3", n)
	}
	if n := len(e.Sections[2].Briefs); n != 4 {
		t.Errorf("%d briefs, want 4", n)
	}
	if n := len(e.Sections[3].Picks); n != 5 {
		t.Errorf("%d picks, want 5", n)
	}
	l := e.Sections[0].Lead
	if e.Hero == nil || e.Hero.Credit == "" || l.Byline.Name == "" || l.Byline.Role == "" {
		t.Errorf("lead lacks hero credit or byline with role: %+v %+v", e.Hero, l.Byline)
	}
	if e.Slug != "2025-03-13-evening" {
		t.Errorf("default slug = %q", e.Slug)
	}
}

// handwritten is valid but untidy: CRLF line ends, extra blank lines, a blank
// line between the lead heading and its fields, padded values, a fenced
// block holding heading-like lines.
const handwritten = "---\r\n" +
	"subject:   Untidy but valid  \r\n" +
	"date: 2025-01-02\r\n" +
	"slug: custom-slug\r\n" +
	"\r\n" +
	"slot: morning\r\n" +
	"---\r\n" +
	"\r\n\r\n" +
	"# lead: Tonight\r\n" +
	"\r\n" +
	"headline: A headline\r\n" +
	"byline: Ann Writer\r\n" +
	"\r\n" +
	"First paragraph with a [link](https://example.org/a).\r\n" +
	"\r\n" +
	"```\r\n" +
	"# not a section\r\n" +
	"## not an item\r\n" +
	"```\r\n" +
	"\r\n\r\n" +
	"# text\r\n" +
	"Free text.\r\n" +
	"# picks\r\n" +
	"## A pick\r\n" +
	"\r\n" +
	"publication: Elsewhere\r\n" +
	"url: https://example.org/p\r\n"

func TestRoundTrip(t *testing.T) {
	for name, src := range map[string]string{"handwritten": handwritten, "sample": string(sample.Source())} {
		t.Run(name, func(t *testing.T) {
			e1, err := edition.Parse([]byte(src))
			if err != nil {
				t.Fatal(err)
			}
			out1, err := edition.Format(e1)
			if err != nil {
				t.Fatal(err)
			}
			e2, err := edition.Parse(out1)
			if err != nil {
				t.Fatalf("formatted file does not parse: %v\n%s", err, out1)
			}
			if !reflect.DeepEqual(e1, e2) {
				t.Errorf("parse -> format -> parse changed the edition:\n%+v\n%+v", e1, e2)
			}
			out2, err := edition.Format(e2)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out1, out2) {
				t.Errorf("second round differs:\n%s\n---\n%s", out1, out2)
			}
		})
	}
	e, _ := edition.Parse([]byte(handwritten))
	if e.Subject != "Untidy but valid" || e.Slug != "custom-slug" || e.Sections[0].Title != "Tonight" ||
		e.Sections[0].Lead.Headline != "A headline" || !strings.Contains(e.Sections[0].Lead.Body, "# not a section") {
		t.Errorf("handwritten parsed wrongly: %+v %+v", e, e.Sections[0].Lead)
	}
}

// problems formats Check's answer for comparison.
func problems(src string) []string {
	var out []string
	for _, p := range edition.Check([]byte(src)) {
		out = append(out, p.String())
	}
	return out
}

func wantProblems(t *testing.T, src string, want ...string) {
	t.Helper()
	got := problems(src)
	for _, w := range want {
		found := false
		for _, g := range got {
			if strings.HasPrefix(g, w) || strings.Contains(g, w) {
				found = true
			}
		}
		if !found {
			t.Errorf("no problem %q; got:\n%s", w, strings.Join(got, "\n"))
		}
	}
}

func TestCheckReportsEveryProblemWithPlace(t *testing.T) {
	src := `---
date: 2025-02-30
subject: ` + strings.Repeat("long ", 40) + `
hero-image: https://example.org/h.jpg
colour: red
---

# lead
byline: Ann
role: Editor

Body with a [bad link](javascript:alert(1)) and <b>raw HTML</b>.

# cards: Comment

## 
author: Someone
url: ftp://example.org/x

## Missing URL
author: Someone

# gallery: Photos

# briefs

## Headline only

# picks

## A pick
autor: Typo
url: https://example.org/p
`
	wantProblems(t, src,
		"2:7: the date \"2025-02-30\" does not exist",
		"3:10: the subject is 199 characters long; the limit is 150",
		"4:13: the hero image has no alt text",
		"5:1: unknown field \"colour\" in the front matter",
		"12:24: link \"javascript:alert(1)\" is not a web address",
		"12:49: raw HTML is not allowed",
		"16:1: the card has an empty headline",
		"18:6: the card URL \"ftp://example.org/x\" is not a web address",
		"20:1: the card has no URL",
		"23:3: unknown section kind \"gallery\"",
		"27:1: the brief has no text",
		"32:1: unknown field \"autor\" in a pick",
		"31:1: the pick has no publication",
	)
}

func TestCheckStructure(t *testing.T) {
	wantProblems(t, "subject: x\n", `1:1: the file must start with front matter`)
	wantProblems(t, "---\nsubject: x\n", `1:1: the front matter is not closed`)
	wantProblems(t, "---\nsubject: x\ndate: 2025-01-01\n---\nstray\n# text\n\nok\n", `5:1: text outside any section`)
	wantProblems(t, "---\nsubject: x\ndate: 2025-01-01\n---\n# cards\nstray\n## H\nurl: https://e.org/\n", `6:1: text before the first item`)
	wantProblems(t, "---\nsubject: x\ndate: 2025-01-01\n---\n# lead\n\nText\n\n## Sub\n", `9:1: a line starting with "#" or "##"`)
	wantProblems(t, "---\ndate: 2025-01-01\n---\n# text\n\nok\n", `the subject is missing`)
}

func TestHostileInput(t *testing.T) {
	base := "---\nsubject: %s\ndate: 2025-01-01\n---\n\n# text\n\n%s\n"
	file := func(subject, body string) string {
		return strings.Replace(strings.Replace(base, "%s", subject, 1), "%s", body, 1)
	}
	t.Run("CR in subject", func(t *testing.T) {
		wantProblems(t, file("Hello\rBcc: victim@example.org", "Body."),
			"2:15: the subject must be one line: it contains a line break (carriage return)")
	})
	t.Run("LF in subject from the API", func(t *testing.T) {
		e, _ := edition.Parse([]byte(file("Hello", "Body.")))
		e.Subject = "Hello\nBcc: victim@example.org"
		ps := edition.Validate(e)
		if len(ps) == 0 || !strings.Contains(ps.Error(), "subject: the subject must be one line") {
			t.Errorf("Validate = %v", ps)
		}
		if _, err := edition.Format(e); err == nil {
			t.Error("Format accepted a two-line subject")
		}
	})
	t.Run("10 MB body", func(t *testing.T) {
		src := file("Big", strings.Repeat("All work and no play. ", 10<<20/22))
		_, err := edition.Parse([]byte(src))
		if !errors.Is(err, edition.ErrInvalid) || !strings.Contains(err.Error(), "the file is 10.0 MB; an edition file may be at most 1.0 MB") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("invalid UTF-8", func(t *testing.T) {
		wantProblems(t, file("Caf\xe9", "ok\n\nBad \xff\xfe byte."),
			"2:13: invalid UTF-8 (byte 0xE9): save the file as UTF-8",
			"10:5: invalid UTF-8 (byte 0xFF)")
	})
	t.Run("control character", func(t *testing.T) {
		wantProblems(t, file("Bell\x07", "ok"), "2:14: the subject contains the control character U+0007")
	})
	t.Run("javascript URL in a card", func(t *testing.T) {
		src := "---\nsubject: x\ndate: 2025-01-01\n---\n# cards\n## Click\nurl: javascript:alert(document.cookie)\n"
		wantProblems(t, src, `7:6: the card URL "javascript:alert(document.cookie)" is not a web address: use an http:// or https:// URL`)
	})
	t.Run("script in a headline is text", func(t *testing.T) {
		// Not refused: the renderers escape it (tested in package render).
		src := "---\nsubject: <script>alert(1)</script>\ndate: 2025-01-01\n---\n# briefs\n## <script>alert(1)</script>\n\nBody.\n"
		e, err := edition.Parse([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if e.Sections[0].Briefs[0].Headline != "<script>alert(1)</script>" {
			t.Errorf("headline = %q", e.Sections[0].Briefs[0].Headline)
		}
	})
}

func TestValidateWithoutFile(t *testing.T) {
	e := &model.Edition{Date: "2025-01-01", Subject: "S", Sections: []model.Section{
		{Kind: model.KindCards, Cards: []model.Card{{Headline: "H"}}},
		{Kind: "poll"},
	}}
	got := edition.Validate(e).Error()
	for _, w := range []string{"item 1 in section 1: the card has no URL", `section 2: unknown section kind "poll"`} {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in:\n%s", w, got)
		}
	}
}

// Validate's problems say where they are in the edition's structure and
// what is wrong, so a form can word them; the file's wording stays.
func TestValidateProblemsArePlaced(t *testing.T) {
	e := &model.Edition{Subject: "Evening", Date: "2026-12-07", Hero: &model.Image{URL: "https://img.example/a.jpg"},
		Sections: []model.Section{
			{Kind: model.KindLead, Lead: &model.Lead{Body: "See [this](/relative)."}},
			{Kind: model.KindCards, Cards: []model.Card{{Headline: "One", URL: "https://a.example/1"}, {Headline: "Two"}}},
			{Kind: model.KindPicks, Picks: []model.Pick{{URL: "https://b.example"}}},
		}}
	got := map[string]edition.Problem{}
	for _, p := range edition.Validate(e) {
		got[fmt.Sprintf("%d.%d.%s.%s", p.Section, p.Item, p.Field, p.Code)] = p
	}
	for _, want := range []string{"0.0.hero-alt.no_alt", "1.0.body.bad_link", "2.2.url.missing", "3.1.headline.no_headline", "3.1.publication.missing"} {
		if _, ok := got[want]; !ok {
			t.Errorf("no problem %s among %v", want, got)
		}
	}
	if p := got["1.0.body.bad_link"]; p.Detail != edition.URLRelative || p.Value != "/relative" {
		t.Errorf("the lead's link: %+v", p)
	}
	if p := got["2.2.url.missing"]; p.Msg != `item 2 in section 2: the card has no URL: add "url: https://..."` {
		t.Errorf("the file's wording changed: %q", p.Msg)
	}
}
