package edition

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/herald-news/herald/internal/model"
)

// Format writes e in the canonical file format. It refuses, with Problems,
// an edition the format cannot hold: a line break in a one-line field, or a
// body line that would read as a section or item heading. Other problems
// (a missing URL, say) are written as they are, so a draft can be exported.
func Format(e *model.Edition) ([]byte, error) {
	if ps := unrepresentable(e); len(ps) > 0 {
		return nil, ps
	}
	var b bytes.Buffer
	field := func(name, value string) {
		if value = strings.TrimSpace(value); value != "" {
			b.WriteString(name + ": " + value + "\n")
		}
	}
	body := func(s string) {
		if s = trimBlankLines(s); s != "" {
			b.WriteString("\n" + s + "\n")
		}
	}
	heading := func(mark, s string) {
		if s = strings.TrimSpace(s); s != "" {
			mark += " " + s
		}
		b.WriteString("\n" + mark + "\n")
	}

	b.WriteString("---\n")
	if e.Slug != DefaultSlug(e.Date, e.Slot) {
		field("slug", e.Slug)
	}
	field("date", e.Date)
	field("slot", string(e.Slot))
	field("language", e.Language)
	field("subject", e.Subject)
	field("preheader", e.Preheader)
	if e.Public {
		field("public", "true")
	}
	if h := e.Hero; h != nil {
		field("hero-image", h.URL)
		field("hero-alt", h.Alt)
		field("hero-credit", h.Credit)
		field("hero-credit-prefix", h.CreditPrefix)
		if h.Width != 0 {
			field("hero-width", strconv.Itoa(h.Width))
		}
	}
	b.WriteString("---\n")

	for _, s := range e.Sections {
		head := string(s.Kind)
		if t := strings.TrimSpace(s.Title); s.NoTitle {
			head += ": " + NoTitle
		} else if t != "" {
			head += ": " + t
		}
		heading("#", head)
		switch s.Kind {
		case model.KindLead:
			if l := s.Lead; l != nil {
				field("headline", l.Headline)
				field("byline", l.Byline.Name)
				field("role", l.Byline.Role)
				body(l.Body)
			}
		case model.KindText:
			if s.Text != nil {
				body(s.Text.Body)
			}
		case model.KindCards:
			for _, c := range s.Cards {
				heading("##", c.Headline)
				field("author", c.Author)
				field("url", c.URL)
				field("cta", c.CTA)
			}
		case model.KindBriefs:
			for _, br := range s.Briefs {
				heading("##", br.Headline)
				body(br.Body)
			}
		case model.KindPicks:
			for _, p := range s.Picks {
				heading("##", p.Title)
				field("verb", p.Verb)
				field("author", p.Author)
				field("publication", p.Publication)
				field("url", p.URL)
			}
		}
	}
	return b.Bytes(), nil
}

// unrepresentable returns the problems that would make Format's output read
// back as something else.
func unrepresentable(e *model.Edition) Problems {
	v := &validator{}
	one := func(key, what, s string) {
		if strings.ContainsAny(s, "\r\n") {
			v.add(key, "%s must be one line", what)
		}
	}
	one("subject", "the subject", e.Subject)
	one("preheader", "the preheader", e.Preheader)
	one("slug", "the slug", e.Slug)
	one("date", "the date", e.Date)
	one("slot", "the slot", string(e.Slot))
	one("language", "the language", e.Language)
	if h := e.Hero; h != nil {
		one("hero-image", "the hero image URL", h.URL)
		one("hero-alt", "the hero image's alt text", h.Alt)
		one("hero-credit", "the hero image's credit", h.Credit)
		one("hero-credit-prefix", "the hero image's credit prefix", h.CreditPrefix)
	}
	for i, s := range e.Sections {
		key := sectionKey(i)
		if !s.Kind.Valid() {
			v.add(key, "unknown section kind %q", s.Kind)
		}
		one(key, "the section title", s.Title)
		switch t := strings.TrimSpace(s.Title); {
		case s.NoTitle && t != "":
			v.add(key, "the section has the title %q and is set to show no title: keep one", t)
		case t == NoTitle:
			v.add(key, `the section title %q would read back as "no heading"`, t)
		}
		if l := s.Lead; l != nil && s.Kind == model.KindLead {
			one(key, "the headline", l.Headline)
			one(key, "the byline", l.Byline.Name)
			one(key, "the role", l.Byline.Role)
			v.bodyShape(key, "the lead", l.Body)
		}
		if s.Text != nil && s.Kind == model.KindText {
			v.bodyShape(key, "the text", s.Text.Body)
		}
		for j, c := range s.Cards {
			ik := key + ".i" + strconv.Itoa(j)
			one(ik, "the headline", c.Headline)
			one(ik, "the author", c.Author)
			one(ik, "the URL", c.URL)
			one(ik, "the call to action", c.CTA)
		}
		for j, b := range s.Briefs {
			ik := key + ".i" + strconv.Itoa(j)
			one(ik, "the headline", b.Headline)
			v.bodyShape(ik, "the brief", b.Body)
		}
		for j, p := range s.Picks {
			ik := key + ".i" + strconv.Itoa(j)
			one(ik, "the title", p.Title)
			one(ik, "the verb", p.Verb)
			one(ik, "the author", p.Author)
			one(ik, "the publication", p.Publication)
			one(ik, "the URL", p.URL)
		}
	}
	return v.ps
}

// bodyShape reports body lines the file format would misread.
func (v *validator) bodyShape(key, what, s string) {
	var fence string
	for _, l := range strings.Split(s, "\n") {
		if f := fenceMarker(l); f != "" {
			if fence == "" {
				fence = f
			} else if f[0] == fence[0] && len(f) >= len(fence) {
				fence = ""
			}
			continue
		}
		if fence == "" && (isSectionHeading(l) || isItemHeading(l)) {
			v.add(key, `%s has a line starting with "#" or "##"; use "###" for a heading inside text`, what)
			return
		}
	}
	if what == "the lead" {
		first, _, _ := strings.Cut(trimBlankLines(s), "\n\n")
		if first != "" && allFields(strings.Split(first, "\n")) {
			v.add(key, `the lead's text starts with a line that reads as a field ("name: ..."): start it differently`)
		}
	}
}

// trimBlankLines removes blank lines at the start and end of s, and the line
// endings' carriage returns, as Parse does.
func trimBlankLines(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	start, end := 0, len(lines)
	for start < end && blank(lines[start]) {
		start++
	}
	for end > start && blank(lines[end-1]) {
		end--
	}
	return strings.Join(lines[start:end], "\n")
}
