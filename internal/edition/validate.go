package edition

import (
	"bytes"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"

	"github.com/herald-news/herald/internal/i18n"
	"github.com/herald-news/herald/internal/model"
)

// Limits on what an edition may hold.
const (
	MaxSubject = 150       // characters; inboxes show about 60, anything past 150 is a mistake
	MaxLine    = 300       // characters in any other one-line field
	MaxBody    = 128 << 10 // bytes in one Markdown body
	MaxPrefix  = 40        // characters in a credit prefix or a pick's verb
)

var (
	dateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	verbRE = regexp.MustCompile(`^\pL[\pL'’ -]*$`)
	wordRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
)

// Validate returns every problem with an edition that did not come from a
// file, or nil. Problems carry no line; their message says where they are
// ("card 2 in section 3: ...").
func Validate(e *model.Edition) Problems {
	return validate(e, nil)
}

type validator struct {
	at map[string]pos
	ps Problems
}

// where describes a key for a person reading a problem without a file.
func where(key string) string {
	if !strings.HasPrefix(key, "s") || len(key) < 2 || key[1] < '0' || key[1] > '9' {
		name, _, _ := strings.Cut(key, ".")
		return name
	}
	parts := strings.Split(key, ".")
	sec, _ := strconv.Atoi(parts[0][1:])
	w := fmt.Sprintf("section %d", sec+1)
	if len(parts) > 1 && strings.HasPrefix(parts[1], "i") {
		item, _ := strconv.Atoi(parts[1][1:])
		w = fmt.Sprintf("item %d in %s", item+1, w)
	}
	return w
}

// lookup finds the position of key, or of the nearest thing that contains it.
func (v *validator) lookup(key string) (pos, bool) {
	if v.at == nil {
		return pos{}, false
	}
	for k := key; ; {
		if p, ok := v.at[k]; ok {
			return p, true
		}
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			break
		}
		k = k[:i]
	}
	p, ok := v.at["frontmatter"]
	return p, ok
}

// why is what a problem is, for a form to word (see Problem).
type why struct {
	code          Code
	field         string // the field, when the key names what holds it
	detail, value string
	n, limit      int
}

// placed returns a problem with key's place in the edition's structure.
func placed(key string, w why) Problem {
	p := place(key)
	p.Code, p.Detail, p.Value, p.N, p.Limit = w.code, w.detail, w.value, w.n, w.limit
	if w.field != "" {
		p.Field = w.field
	}
	return p
}

// place reads a key ("s1.i0.f.url") as a section, an item and a field.
func place(key string) Problem {
	var p Problem
	parts := strings.Split(key, ".")
	if len(parts[0]) < 2 || parts[0][0] != 's' || parts[0][1] < '0' || parts[0][1] > '9' {
		p.Field = parts[0]
		return p
	}
	sec, _ := strconv.Atoi(parts[0][1:])
	p.Section = sec + 1
	rest := parts[1:]
	if len(rest) > 0 && len(rest[0]) > 1 && rest[0][0] == 'i' {
		item, _ := strconv.Atoi(rest[0][1:])
		p.Item = item + 1
		rest = rest[1:]
	}
	switch {
	case len(rest) == 2 && rest[0] == "f":
		p.Field = rest[1]
	case len(rest) == 1 && rest[0] == "heading":
		p.Field = "headline"
	case len(rest) == 1:
		p.Field = rest[0]
	}
	return p
}

// add reports a problem with the thing at key (one a form need not word:
// Format's).
func (v *validator) add(key, format string, args ...any) {
	v.addw(key, why{}, format, args...)
}

// addw reports a problem with the thing at key, saying what it is.
func (v *validator) addw(key string, w why, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	pr := placed(key, w)
	if p, ok := v.lookup(key); ok {
		pr.Line, pr.Col, pr.Msg = p.line, p.col, msg
		v.ps = append(v.ps, pr)
		return
	}
	pr.Msg = where(key) + ": " + msg
	v.ps = append(v.ps, pr)
}

// addIn reports a problem at byte offset off of s, the value at key.
func (v *validator) addIn(key, s string, off int, w why, format string, args ...any) {
	p, ok := v.at[key]
	if !ok {
		v.addw(key, w, format, args...)
		return
	}
	before := s[:off]
	if nl := strings.LastIndexByte(before, '\n'); nl >= 0 {
		p.line += strings.Count(before, "\n")
		p.col = 1
		before = before[nl+1:]
	}
	p.col += utf8.RuneCountInString(before)
	pr := placed(key, w)
	pr.Line, pr.Col, pr.Msg = p.line, p.col, fmt.Sprintf(format, args...)
	v.ps = append(v.ps, pr)
}

// languageProblem words i18n.Check's refusal for an editor.
func languageProblem(err error) string {
	return strings.TrimPrefix(err.Error(), i18n.ErrLanguage.Error()+": ")
}

func validate(e *model.Edition, at map[string]pos) Problems {
	v := &validator{at: at}
	v.line("subject", "the subject", e.Subject, MaxSubject, true)
	v.line("preheader", "the preheader", e.Preheader, 250, false)
	switch {
	case e.Date == "":
		v.addw("date", why{code: CodeMissing}, `the edition has no date: add "date: YYYY-MM-DD" to the front matter`)
	case !dateRE.MatchString(e.Date):
		v.addw("date", why{code: CodeDateFormat, value: e.Date}, "the date %q is not written YYYY-MM-DD", e.Date)
	default:
		if _, err := time.Parse(time.DateOnly, e.Date); err != nil {
			v.addw("date", why{code: CodeDateInvalid, value: e.Date}, "the date %q does not exist", e.Date)
		}
	}
	if e.Slot != "" && !wordRE.MatchString(string(e.Slot)) {
		v.addw("slot", why{code: CodeSlot, value: string(e.Slot)}, "the slot %q must be one lowercase word, such as morning or evening", e.Slot)
	}
	if _, err := i18n.Check(e.Language); err != nil {
		v.addw("language", why{code: CodeLanguage, value: e.Language}, "%s", languageProblem(err))
	}
	if e.Slug != "" && (!wordRE.MatchString(e.Slug) || len(e.Slug) > 100) {
		v.addw("slug", why{code: CodeSlug, value: e.Slug}, "the slug %q may use only lowercase letters, digits and single dashes", e.Slug)
	}
	if h := e.Hero; h != nil {
		v.url("hero-image", "the hero image", h.URL, true)
		v.line("hero-alt", "the hero image's alt text", h.Alt, MaxLine, false)
		if strings.TrimSpace(h.Alt) == "" {
			v.addw("hero-image", why{code: CodeNoAlt, field: "hero-alt"}, "the hero image has no alt text: add \"hero-alt: ...\" describing what it shows")
		}
		v.line("hero-credit", "the hero image's credit", h.Credit, MaxLine, false)
		v.line("hero-credit-prefix", "the hero image's credit prefix", h.CreditPrefix, MaxPrefix, false)
		if h.CreditPrefix != "" && strings.TrimSpace(h.Credit) == "" {
			v.addw("hero-credit-prefix", why{code: CodeNoCredit}, "the hero image has a credit prefix but no credit: add \"hero-credit: ...\"")
		}
		if h.Width < 0 || h.Width > 2000 {
			v.addw("hero-width", why{code: CodeWidth, n: h.Width, limit: 2000}, "the hero image width %d is not between 1 and 2000 pixels", h.Width)
		}
	}
	if len(e.Sections) == 0 && at == nil {
		v.addw("sections", why{code: CodeNoSections}, "the edition has no sections")
	}
	leads := 0
	for i, s := range e.Sections {
		v.section(sectionKey(i), s, &leads)
	}
	return v.ps
}

func (v *validator) section(key string, s model.Section, leads *int) {
	v.line(key+".title", "the section title", s.Title, MaxLine, false)
	switch t := strings.TrimSpace(s.Title); {
	case s.NoTitle && t != "":
		v.addw(key+".title", why{code: CodeTitleNoTitle, value: t}, "the section has the title %q and is set to show no title: keep one", t)
	case t == NoTitle:
		v.addw(key+".title", why{code: CodeTitleReserved, value: t}, `the section title %q means "no heading" in an edition file: leave the title empty and set the section to show no title`, t)
	}
	switch s.Kind {
	case model.KindLead:
		*leads++
		if *leads == 2 {
			v.addw(key, why{code: CodeSecondLead}, "an edition has one lead; this is the second")
		}
		l := s.Lead
		if l == nil {
			l = &model.Lead{}
		}
		v.line(key+".f.headline", "the headline", l.Headline, MaxLine, false)
		v.line(key+".f.byline", "the byline", l.Byline.Name, MaxLine, false)
		v.line(key+".f.role", "the role", l.Byline.Role, MaxLine, false)
		if l.Byline.Role != "" && l.Byline.Name == "" {
			v.addw(key+".f.role", why{code: CodeNoByline}, "the lead has a role but no byline: add \"byline: Name\"")
		}
		v.body(key, "the lead", l.Body, true)
	case model.KindText:
		body := ""
		if s.Text != nil {
			body = s.Text.Body
		}
		v.body(key, "the text section", body, false)
	case model.KindCards:
		if len(s.Cards) == 0 {
			v.addw(key, why{code: CodeNoItems}, `the cards section has no cards: add one with a line like "## Headline"`)
		}
		for j, c := range s.Cards {
			ik := key + ".i" + strconv.Itoa(j)
			v.headline(ik, "card", c.Headline)
			v.line(ik+".f.author", "the author", c.Author, MaxLine, false)
			v.line(ik+".f.cta", "the call to action", c.CTA, 40, false)
			v.url(ik+".f.url", "the card", c.URL, true)
		}
	case model.KindBriefs:
		if len(s.Briefs) == 0 {
			v.addw(key, why{code: CodeNoItems}, `the briefs section has no briefs: add one with a line like "## Headline"`)
		}
		for j, b := range s.Briefs {
			ik := key + ".i" + strconv.Itoa(j)
			v.headline(ik, "brief", b.Headline)
			v.body(ik, "the brief", b.Body, false)
		}
	case model.KindPicks:
		if len(s.Picks) == 0 {
			v.addw(key, why{code: CodeNoItems}, `the picks section has no picks: add one with a line like "## Title"`)
		}
		for j, p := range s.Picks {
			ik := key + ".i" + strconv.Itoa(j)
			v.headline(ik, "pick", p.Title)
			v.line(ik+".f.verb", "the verb", p.Verb, MaxPrefix, false)
			if p.Verb != "" && !verbRE.MatchString(p.Verb) && !strings.ContainsFunc(p.Verb, unicode.IsControl) {
				v.addw(ik+".f.verb", why{code: CodeVerb, value: p.Verb}, "the verb %q must be a word or a few, such as reports or argues, with no punctuation", p.Verb)
			}
			v.line(ik+".f.author", "the author", p.Author, MaxLine, false)
			v.line(ik+".f.publication", "the publication", p.Publication, MaxLine, false)
			if strings.TrimSpace(p.Publication) == "" {
				v.addw(ik+".f.publication", why{code: CodeMissing}, "the pick has no publication: add \"publication: ...\"")
			}
			v.url(ik+".f.url", "the pick", p.URL, true)
		}
	default:
		v.addw(key, why{code: CodeUnknownKind, value: string(s.Kind)}, "unknown section kind %q: use lead, cards, briefs, picks or text", s.Kind)
	}
}

func (v *validator) headline(key, what, s string) {
	if strings.TrimSpace(s) == "" {
		v.addw(key, why{code: CodeNoHeadline, field: "headline"}, "the %s has an empty headline: write it after \"## \"", what)
		return
	}
	v.line(key+".heading", "the headline", s, MaxLine, false)
}

// line checks a one-line field.
func (v *validator) line(key, what, s string, max int, required bool) {
	if required && strings.TrimSpace(s) == "" {
		v.addw(key, why{code: CodeMissing}, "%s is missing: add \"%s: ...\" to the front matter", what, key)
		return
	}
	if !utf8.ValidString(s) {
		v.addw(key, why{code: CodeEncoding}, "%s is not valid UTF-8", what)
		return
	}
	for i, r := range s {
		switch {
		case r == '\r' || r == '\n':
			v.addIn(key, s, i, why{code: CodeLineBreak}, "%s must be one line: it contains a line break (%s)", what, crlfName(r))
			return
		case unicode.IsControl(r) && r != '\t':
			v.addIn(key, s, i, why{code: CodeControl}, "%s contains the control character U+%04X", what, r)
			return
		}
	}
	if n := utf8.RuneCountInString(s); n > max {
		v.addw(key, why{code: CodeTooLong, n: n, limit: max}, "%s is %d characters long; the limit is %d", what, n, max)
	}
}

func crlfName(r rune) string {
	if r == '\r' {
		return "carriage return"
	}
	return "line feed"
}

// url checks an address readers will follow or load.
func (v *validator) url(key, what, s string, required bool) {
	if strings.TrimSpace(s) == "" {
		if required {
			v.addw(key, why{code: CodeMissing}, "%s has no URL: add \"url: https://...\"", what)
		}
		return
	}
	if detail, msg := checkURL(s, false); msg != "" {
		v.addw(key, why{code: CodeBadURL, detail: detail, value: s}, "%s URL %q %s", what, s, msg)
	}
}

// checkURL returns why s is not an absolute web address (a URL* detail
// and the words for a file), or "", "".
func checkURL(s string, mailto bool) (detail, msg string) {
	for _, r := range s {
		if r <= ' ' || r == 0x7f {
			return URLSpace, "contains a space or control character"
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return URLUnreadable, "cannot be read as a URL"
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if u.Host == "" {
			return URLNoHost, "has no host name"
		}
		return "", ""
	case "mailto":
		if mailto && u.Opaque != "" {
			return "", ""
		}
	case "":
		return URLRelative, "is not absolute: write the full address starting with https://"
	}
	return URLScheme, "is not a web address: use an http:// or https:// URL"
}

// body checks a Markdown body: its characters, its lines, and its links.
func (v *validator) body(key, what, s string, required bool) {
	bk := key + ".body"
	if strings.TrimSpace(s) == "" {
		if required || what == "the brief" || what == "the text section" {
			v.addw(key, why{code: CodeNoText, field: "body"}, "%s has no text", what)
		}
		return
	}
	if len(s) > MaxBody {
		v.addw(bk, why{code: CodeTooLong, n: len(s), limit: MaxBody}, "%s is %s; the limit is %s", what, humanSize(len(s)), humanSize(MaxBody))
		return
	}
	if !utf8.ValidString(s) {
		v.addw(bk, why{code: CodeEncoding}, "%s is not valid UTF-8", what)
		return
	}
	for i, r := range s {
		switch {
		case r == '\r':
			v.addIn(bk, s, i, why{code: CodeStrayCR}, "stray carriage return inside a line")
			return
		case unicode.IsControl(r) && r != '\t' && r != '\n':
			v.addIn(bk, s, i, why{code: CodeControl}, "%s contains the control character U+%04X", what, r)
			return
		}
	}
	var fence string
	off := 0
	for _, l := range strings.Split(s, "\n") {
		if f := fenceMarker(l); f != "" {
			if fence == "" {
				fence = f
			} else if f[0] == fence[0] && len(f) >= len(fence) {
				fence = ""
			}
		} else if fence == "" && (isSectionHeading(l) || isItemHeading(l)) {
			v.addIn(bk, s, off, why{code: CodeHeadingLine}, `a line starting with "#" or "##" would start a new section or item: use "###" for a heading inside text`)
		}
		off += len(l) + 1
	}
	if what == "the lead" {
		first, _, _ := strings.Cut(s, "\n\n")
		if allFields(strings.Split(first, "\n")) {
			v.addIn(bk, s, 0, why{code: CodeFieldLine}, `the lead's text starts with a line that reads as a field ("name: ..."): start it differently`)
		}
	}
	v.markdown(bk, s)
}

// markdown checks the links, images and raw HTML of a Markdown body.
func (v *validator) markdown(key, s string) {
	src := []byte(s)
	doc := goldmark.DefaultParser().Parse(text.NewReader(src))
	cursor := 0
	rawHTML := false
	find := func(n ast.Node, needle []byte) int {
		start := cursor
		if t, ok := n.FirstChild().(*ast.Text); ok && t.Segment.Start >= start {
			start = t.Segment.Start
		}
		if i := bytes.Index(src[start:], needle); i >= 0 && len(needle) > 0 {
			cursor = start + i + len(needle)
			return start + i
		}
		return start
	}
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Link:
			off := find(n, n.Destination)
			if detail, msg := checkURL(string(n.Destination), true); msg != "" {
				v.addIn(key, s, off, why{code: CodeBadLink, detail: detail, value: string(n.Destination)}, "link %q %s", n.Destination, msg)
			}
		case *ast.Image:
			off := find(n, n.Destination)
			if detail, msg := checkURL(string(n.Destination), false); msg != "" {
				v.addIn(key, s, off, why{code: CodeBadImage, detail: detail, value: string(n.Destination)}, "image %q %s", n.Destination, msg)
			}
			if len(bytes.TrimSpace(nodeText(n, src))) == 0 {
				v.addIn(key, s, off, why{code: CodeImageAlt, value: string(n.Destination)}, "image without alt text: write ![what it shows](%s)", n.Destination)
			}
		case *ast.RawHTML:
			if n.Segments.Len() > 0 && !rawHTML {
				rawHTML = true
				v.addIn(key, s, n.Segments.At(0).Start, why{code: CodeRawHTML}, "raw HTML is not allowed: use Markdown")
			}
		case *ast.HTMLBlock:
			if n.Lines().Len() > 0 && !rawHTML {
				rawHTML = true
				v.addIn(key, s, n.Lines().At(0).Start, why{code: CodeRawHTML}, "raw HTML is not allowed: use Markdown")
			}
		}
		return ast.WalkContinue, nil
	})
}

// nodeText returns the plain text under n.
func nodeText(n ast.Node, src []byte) []byte {
	var b []byte
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		if t, ok := c.(*ast.Text); ok {
			b = append(b, t.Segment.Value(src)...)
		} else {
			b = append(b, nodeText(c, src)...)
		}
	}
	return b
}
