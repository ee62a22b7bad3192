package edition_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/edition"
	"github.com/herald-news/herald/internal/model"
)

// briefingShape uses the fields a real evening briefing needs: a credit
// introduced by "via", a comment section shown with no heading, and picks
// credited with a verb ("…, reports Publication.").
const briefingShape = `---
date: 2025-03-13
slot: evening
subject: A briefing in the shape of a real one
hero-image: https://example.org/harbour.jpg
hero-alt: The harbour at dusk
hero-credit: 4471-B / Coastline Pictures
hero-credit-prefix: via
---

# lead

The story starts at once, under the photo.

# cards: -

## The night trains will come back
author: Ivo Brandt
url: https://example.org/night-trains

# picks: Five things

## Harbour levy talks stall again
verb: reports
publication: Coastline Weekly
url: https://example.org/levy

## Why the bridge should stay boring
verb: argues
author: Ramona Iliescu
publication: Civic Works Quarterly
url: https://example.org/bridge

## What a river remembers
author: Clara Voss
publication: The Upland Review
url: https://example.org/river
`

func TestBriefingFieldsParseAndRoundTrip(t *testing.T) {
	e, err := edition.Parse([]byte(briefingShape))
	if err != nil {
		t.Fatal(err)
	}
	if e.Hero == nil || e.Hero.CreditPrefix != "via" || e.Hero.Credit != "4471-B / Coastline Pictures" {
		t.Errorf("hero = %+v", e.Hero)
	}
	if s := e.Sections[1]; s.Kind != model.KindCards || !s.NoTitle || s.Title != "" {
		t.Errorf("cards section: kind %s, no title %v, title %q; want a section with no title", s.Kind, s.NoTitle, s.Title)
	}
	if s := e.Sections[2]; s.NoTitle || s.Title != "Five things" {
		t.Errorf("picks section: no title %v, title %q", s.NoTitle, s.Title)
	}
	picks := e.Sections[2].Picks
	if len(picks) != 3 || picks[0].Verb != "reports" || picks[0].Author != "" || picks[1].Verb != "argues" ||
		picks[1].Author != "Ramona Iliescu" || picks[2].Verb != "" {
		t.Errorf("picks = %+v", picks)
	}
	out, err := edition.Format(e)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\nhero-credit-prefix: via\n", "\n# cards: -\n", "\n## Harbour levy talks stall again\nverb: reports\npublication: Coastline Weekly\n",
		"\n## Why the bridge should stay boring\nverb: argues\nauthor: Ramona Iliescu\npublication:"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("formatted file lacks %q:\n%s", want, out)
		}
	}
	e2, err := edition.Parse(out)
	if err != nil {
		t.Fatalf("formatted file does not parse: %v\n%s", err, out)
	}
	if !reflect.DeepEqual(e, e2) {
		t.Errorf("parse -> format -> parse changed the edition:\n%+v\n%+v", e, e2)
	}
	out2, err := edition.Format(e2)
	if err != nil || !bytes.Equal(out, out2) {
		t.Errorf("second round differs (%v):\n%s\n---\n%s", err, out, out2)
	}
	// "none" is a prefix like any other on the way through.
	none := strings.Replace(briefingShape, "hero-credit-prefix: via", "hero-credit-prefix: none", 1)
	if e, err := edition.Parse([]byte(none)); err != nil || e.Hero.CreditPrefix != model.CreditPrefixNone {
		t.Errorf("prefix none: %v %+v", err, e)
	}
}

func TestBriefingFieldsChecked(t *testing.T) {
	src := strings.NewReplacer(
		"hero-credit-prefix: via", "hero-credit-prefix: "+strings.Repeat("x", 41),
		"verb: reports", "verb: reports.",
		"verb: argues", "verb: "+strings.Repeat("argues ", 7),
	).Replace(briefingShape)
	wantProblems(t, src,
		"8:21: the hero image's credit prefix is 41 characters long; the limit is 40",
		`24:7: the verb "reports." must be a word or a few, such as reports or argues, with no punctuation`,
		"29:7: the verb is 48 characters long; the limit is 40",
	)
	noCredit := strings.Replace(briefingShape, "hero-credit: 4471-B / Coastline Pictures\n", "", 1)
	wantProblems(t, noCredit, `7:21: the hero image has a credit prefix but no credit: add "hero-credit: ..."`)

	// From the API or the composer, without a file.
	e, err := edition.Parse([]byte(briefingShape))
	if err != nil {
		t.Fatal(err)
	}
	e.Sections[1].Title = "Comment"
	e.Sections[2].Title = "-"
	e.Sections[2].Picks[0].Verb = "says\nBcc: x@example.org"
	got := edition.Validate(e).Error()
	for _, w := range []string{`section 2: the section has the title "Comment" and is set to show no title: keep one`,
		`section 3: the section title "-" means "no heading" in an edition file`,
		"item 1 in section 3: the verb must be one line"} {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in:\n%s", w, got)
		}
	}
	if _, err := edition.Format(e); err == nil {
		t.Error("Format accepted a two-line verb")
	}
}
