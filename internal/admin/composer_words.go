package admin

import (
	"fmt"
	"strings"

	"github.com/herald-news/herald/internal/edition"
	"github.com/herald-news/herald/internal/i18n"
	"github.com/herald-news/herald/internal/model"
)

// composerProblem is one of the edition's problems in the composer's words,
// with the id of the field it is about ("" when it is about no one field).
type composerProblem struct {
	Text  string `json:"text"`
	Field string `json:"field,omitempty"`
}

// composerProblems words the edition's problems as the composer's form
// shows the edition: "Card 2: the button needs a link", never the file's
// "add url:".
func composerProblems(l *i18n.Localizer, e *model.Edition, ps edition.Problems) []composerProblem {
	out := []composerProblem{}
	for _, p := range ps {
		out = append(out, composerProblem{Text: problemWords(l, e, p), Field: problemField(e, p)})
	}
	return out
}

// sectionOf returns the section a problem is in, or nil.
func sectionOf(e *model.Edition, p edition.Problem) *model.Section {
	if p.Section < 1 || p.Section > len(e.Sections) {
		return nil
	}
	return &e.Sections[p.Section-1]
}

// problemField returns the id of the composer's input a problem is about.
func problemField(e *model.Edition, p edition.Problem) string {
	if p.Section == 0 {
		switch p.Field {
		case "subject", "preheader", "date", "slot", "slug":
			return p.Field
		case "hero-image":
			return "hero_url"
		case "hero-alt", "hero-credit", "hero-credit-prefix", "hero-width":
			return strings.ReplaceAll(p.Field, "-", "_")
		}
		return ""
	}
	s := sectionOf(e, p)
	if s == nil {
		return ""
	}
	i := p.Section - 1
	field := p.Field
	if p.Item == 0 {
		switch field {
		case "byline":
			field = "byline_name"
		case "role":
			field = "byline_role"
		case "":
			return fmt.Sprintf("s%d", i)
		}
		return fmt.Sprintf("s%d_%s", i, field)
	}
	if field == "headline" && s.Kind == model.KindPicks {
		field = "title"
	}
	if field == "" {
		field = "headline"
	}
	return fmt.Sprintf("s%d_%d_%s", i, p.Item-1, field)
}

// itemKeys name an item of each kind ("Card {{.N}}"), alone and when
// the edition has several sections of its kind.
var itemKeys = map[model.SectionKind][2]string{
	model.KindCards:  {"admin.composer.where.card", "admin.composer.where.card_in"},
	model.KindBriefs: {"admin.composer.where.brief", "admin.composer.where.brief_in"},
	model.KindPicks:  {"admin.composer.where.pick", "admin.composer.where.pick_in"},
}

// kindKeys name each kind of section.
var kindKeys = map[model.SectionKind]string{
	model.KindLead: "admin.composer.kind.lead", model.KindText: "admin.composer.kind.text", model.KindCards: "admin.composer.kind.cards",
	model.KindBriefs: "admin.composer.kind.briefs", model.KindPicks: "admin.composer.kind.picks",
}

// kindName is a kind of section in l's words.
func kindName(l *i18n.Localizer, k model.SectionKind) string {
	if key, ok := kindKeys[k]; ok {
		return l.T(key)
	}
	return string(k)
}

// problemWhere says where a problem is, as the composer shows it:
// "Header", "Hero image", "Lead story", "Card 2", "Section 4 (Text)".
func problemWhere(l *i18n.Localizer, e *model.Edition, p edition.Problem) string {
	if p.Section == 0 {
		if strings.HasPrefix(p.Field, "hero-") {
			return l.T("admin.composer.where.hero")
		}
		return l.T("admin.composer.where.header")
	}
	s := sectionOf(e, p)
	if s == nil {
		return l.T("admin.composer.where.section", "N", p.Section, "Kind", "")
	}
	if p.Item > 0 {
		if key, ok := itemKeys[s.Kind]; ok {
			same := 0
			for _, o := range e.Sections {
				if o.Kind == s.Kind {
					same++
				}
			}
			if same > 1 {
				return l.T(key[1], "N", p.Item, "Section", p.Section)
			}
			return l.T(key[0], "N", p.Item)
		}
	}
	if s.Kind == model.KindLead {
		return l.T("admin.composer.where.lead")
	}
	return l.T("admin.composer.where.section", "N", p.Section, "Kind", kindName(l, s.Kind))
}

// fieldKeys name each field for the general messages ("the subject").
var fieldKeys = map[string]string{
	"subject": "admin.composer.field.subject", "preheader": "admin.composer.field.preheader", "slug": "admin.composer.field.slug",
	"date": "admin.composer.field.date", "hero-image": "admin.composer.field.hero_url", "hero-alt": "admin.composer.field.hero_alt",
	"hero-credit": "admin.composer.field.hero_credit", "hero-credit-prefix": "admin.composer.field.hero_prefix",
	"title": "admin.composer.field.title", "headline": "admin.composer.field.headline", "byline": "admin.composer.field.byline",
	"role": "admin.composer.field.role", "author": "admin.composer.field.author", "cta": "admin.composer.field.cta",
	"url": "admin.composer.field.url", "body": "admin.composer.field.body", "verb": "admin.composer.field.verb",
	"publication": "admin.composer.field.publication",
}

// urlReasons word why an address is refused.
var urlReasons = map[string]string{
	edition.URLSpace: "admin.composer.url.space", edition.URLUnreadable: "admin.composer.url.unreadable",
	edition.URLNoHost: "admin.composer.url.no_host", edition.URLRelative: "admin.composer.url.relative", edition.URLScheme: "admin.composer.url.scheme",
}

// problemWords words one problem: where it is, then what to do.
func problemWords(l *i18n.Localizer, e *model.Edition, p edition.Problem) string {
	what := problemWhat(l, e, p)
	if what == "" {
		return p.Msg // a problem the composer has no words for keeps the file's
	}
	return l.T("admin.composer.problem", "Where", problemWhere(l, e, p), "What", what)
}

func problemWhat(l *i18n.Localizer, e *model.Edition, p edition.Problem) string {
	field := l.T("admin.composer.field.thing")
	if k, ok := fieldKeys[p.Field]; ok {
		field = l.T(k)
	}
	var kind model.SectionKind
	if s := sectionOf(e, p); s != nil {
		kind = s.Kind
	}
	switch p.Code {
	case edition.CodeMissing:
		switch {
		case p.Field == "url" && kind == model.KindCards:
			return l.T("admin.composer.code.card_no_link")
		case p.Field == "url":
			return l.T("admin.composer.code.no_link")
		case p.Field == "hero-image":
			return l.T("admin.composer.code.hero_no_image")
		case p.Field == "date":
			return l.T("admin.composer.code.no_date")
		}
		return l.T("admin.composer.code.missing", "Field", field)
	case edition.CodeTooLong:
		if p.Field == "body" {
			return l.T("admin.composer.code.body_too_long", "Size", kb(p.N), "Limit", kb(p.Limit))
		}
		return l.T("admin.composer.code.too_long", "Field", field, "N", p.N, "Limit", p.Limit)
	case edition.CodeBadURL, edition.CodeBadLink, edition.CodeBadImage:
		reason := l.T(urlReasons[p.Detail])
		switch {
		case p.Code == edition.CodeBadImage:
			return l.T("admin.composer.code.bad_image", "URL", p.Value, "Reason", reason)
		case p.Field == "url" && kind == model.KindCards:
			return l.T("admin.composer.code.card_bad_link", "URL", p.Value, "Reason", reason)
		case p.Field == "hero-image":
			return l.T("admin.composer.code.hero_bad_image", "URL", p.Value, "Reason", reason)
		}
		return l.T("admin.composer.code.bad_link", "URL", p.Value, "Reason", reason)
	case edition.CodeNoHeadline:
		if kind == model.KindPicks {
			return l.T("admin.composer.code.no_title")
		}
		return l.T("admin.composer.code.no_headline")
	case edition.CodeNoText:
		if kind == model.KindLead {
			return l.T("admin.composer.code.no_story")
		}
		return l.T("admin.composer.code.no_text")
	case edition.CodeNoItems:
		return l.T("admin.composer.code.no_items", "Kind", kindName(l, kind))
	case edition.CodeEncoding, edition.CodeControl, edition.CodeStrayCR:
		return l.T("admin.composer.code.control", "Field", field)
	}
	if key, ok := codeKeys[p.Code]; ok {
		return l.T(key, "Field", field, "Value", p.Value, "N", p.N, "Limit", p.Limit)
	}
	return ""
}

// codeKeys word the problems that need no more than their field and value.
var codeKeys = map[edition.Code]string{
	edition.CodeLineBreak: "admin.composer.code.line_break", edition.CodeDateFormat: "admin.composer.code.date_format",
	edition.CodeDateInvalid: "admin.composer.code.date_invalid", edition.CodeSlot: "admin.composer.code.slot",
	edition.CodeLanguage: "admin.composer.code.language", edition.CodeSlug: "admin.composer.code.slug",
	edition.CodeNoAlt: "admin.composer.code.no_alt", edition.CodeNoCredit: "admin.composer.code.no_credit",
	edition.CodeWidth: "admin.composer.code.width", edition.CodeNoSections: "admin.composer.code.no_sections",
	edition.CodeTitleNoTitle: "admin.composer.code.title_no_title", edition.CodeTitleReserved: "admin.composer.code.title_reserved",
	edition.CodeSecondLead: "admin.composer.code.second_lead", edition.CodeNoByline: "admin.composer.code.no_byline",
	edition.CodeHeadingLine: "admin.composer.code.heading_line", edition.CodeFieldLine: "admin.composer.code.field_line",
	edition.CodeImageAlt: "admin.composer.code.image_alt", edition.CodeRawHTML: "admin.composer.code.raw_html",
	edition.CodeVerb: "admin.composer.code.verb", edition.CodeUnknownKind: "admin.composer.code.unknown_kind",
}

// kb writes a size in bytes as kilobytes.
func kb(n int) string { return fmt.Sprintf("%d KB", (n+1023)/1024) }

// placeholderURL stands in for a link not written yet in a preview: the
// .invalid domain can never be anyone's.
const placeholderURL = "https://link-not-written-yet.invalid/"

// previewDraft returns a copy of e the renderer takes, for the live
// preview while e is unfinished: what is there is shown as it is, and
// what is missing or refused stands in as a placeholder in brackets
// ("[Card 2: headline]"). It returns false when e is still not one the
// renderer takes.
func previewDraft(l *i18n.Localizer, e *model.Edition, today string) (*model.Edition, bool) {
	d := *e
	d.Sections = make([]model.Section, len(e.Sections))
	for i, s := range e.Sections {
		s.Cards, s.Briefs, s.Picks = append([]model.Card(nil), s.Cards...), append([]model.Brief(nil), s.Briefs...), append([]model.Pick(nil), s.Picks...)
		if s.Lead != nil {
			lead := *s.Lead
			s.Lead = &lead
		}
		if s.Text != nil {
			t := *s.Text
			s.Text = &t
		}
		d.Sections[i] = s
	}
	if e.Hero != nil {
		h := *e.Hero
		d.Hero = &h
	}
	if len(d.Sections) == 0 {
		d.Sections = append(d.Sections, model.Section{Kind: model.KindText, Text: &model.Text{}})
	}
	ph := func(where, what string) string {
		return "[" + l.T("admin.composer.placeholder", "Where", where, "What", l.T(what)) + "]"
	}
	// Two rounds: a placeholder may lift one problem and show the next.
	for range 3 {
		ps := edition.Validate(&d)
		if len(ps) == 0 {
			return &d, true
		}
		for _, p := range ps {
			where := problemWhere(l, &d, p)
			fill(&d, p, today, func(field string) string { return ph(where, field) })
		}
	}
	return &d, len(edition.Validate(&d)) == 0
}

// fill replaces the value a problem is about with a placeholder (ph gives
// one for a field's name) or, where a placeholder cannot stand, with
// nothing.
func fill(d *model.Edition, p edition.Problem, today string, ph func(string) string) {
	if p.Section == 0 {
		if strings.HasPrefix(p.Field, "hero-") && d.Hero == nil {
			return // dropped for an earlier problem
		}
		switch p.Field {
		case "subject":
			d.Subject = ph("admin.composer.ph.subject")
		case "preheader":
			d.Preheader = ""
		case "date":
			d.Date = today
		case "slot":
			d.Slot = ""
		case "slug":
			d.Slug = "preview"
		case "language":
			d.Language = ""
		case "hero-image":
			if p.Code == edition.CodeNoAlt {
				d.Hero.Alt = ph("admin.composer.ph.alt")
			} else {
				d.Hero = nil
			}
		case "hero-alt":
			d.Hero.Alt = ph("admin.composer.ph.alt")
		case "hero-credit":
			d.Hero.Credit = ""
		case "hero-credit-prefix":
			d.Hero.CreditPrefix = ""
		case "hero-width":
			d.Hero.Width = 0
		case "sections":
			d.Sections = append(d.Sections, model.Section{Kind: model.KindText, Text: &model.Text{Body: ph("admin.composer.ph.text")}})
		}
		return
	}
	if p.Section > len(d.Sections) {
		return
	}
	s := &d.Sections[p.Section-1]
	word := func(f string) string { return ph(f) }
	if p.Item == 0 {
		switch {
		case p.Field == "title":
			s.Title = ""
		case p.Code == edition.CodeSecondLead:
			body := ""
			if s.Lead != nil {
				body = s.Lead.Body
			}
			*s = model.Section{Kind: model.KindText, Title: s.Title, NoTitle: s.NoTitle, Text: &model.Text{Body: body}}
		case p.Code == edition.CodeNoItems:
			addItem(s)
		case p.Code == edition.CodeUnknownKind:
			*s = model.Section{Kind: model.KindText, Text: &model.Text{}}
		case s.Kind == model.KindLead:
			if s.Lead == nil {
				s.Lead = &model.Lead{}
			}
			switch p.Field {
			case "headline":
				s.Lead.Headline = ""
			case "byline", "role":
				s.Lead.Byline = model.Byline{}
			default:
				s.Lead.Body = word("admin.composer.ph.story")
			}
		case s.Kind == model.KindText:
			s.Text = &model.Text{Body: word("admin.composer.ph.text")}
		}
		return
	}
	j := p.Item - 1
	switch s.Kind {
	case model.KindCards:
		if j < len(s.Cards) {
			c := &s.Cards[j]
			switch p.Field {
			case "url":
				c.URL = placeholderURL
			case "author":
				c.Author = ""
			case "cta":
				c.CTA = ""
			default:
				c.Headline = word("admin.composer.ph.headline")
			}
		}
	case model.KindBriefs:
		if j < len(s.Briefs) {
			b := &s.Briefs[j]
			if p.Field == "body" {
				b.Body = word("admin.composer.ph.paragraph")
			} else {
				b.Headline = word("admin.composer.ph.headline")
			}
		}
	case model.KindPicks:
		if j < len(s.Picks) {
			k := &s.Picks[j]
			switch p.Field {
			case "url":
				k.URL = placeholderURL
			case "verb":
				k.Verb = ""
			case "author":
				k.Author = ""
			case "publication":
				k.Publication = word("admin.composer.ph.publication")
			default:
				k.Title = word("admin.composer.ph.title")
			}
		}
	}
}
