package edition

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/herald-news/herald/internal/model"
)

// MaxSize is the largest edition file Parse and Check accept. A long daily
// briefing is 20 to 40 KB; anything near this limit is a mistake or an
// attack, and refusing it early keeps one request from tying up the server.
const MaxSize = 1 << 20

// Front matter fields, in the order Format writes them.
var frontFields = []string{"slug", "date", "slot", "language", "subject", "preheader", "public",
	"hero-image", "hero-alt", "hero-credit", "hero-credit-prefix", "hero-width"}

var (
	leadFields = []string{"headline", "byline", "role"}
	cardFields = []string{"author", "url", "cta"}
	pickFields = []string{"verb", "author", "publication", "url"}
)

// NoTitle is the section title, in a file, of a section shown with no
// heading: "# cards: -".
const NoTitle = "-"

var fieldLine = regexp.MustCompile(`^[a-z][a-z0-9-]*:( |$)`)

// pos is a place in the file: 1-based line and character column.
type pos struct{ line, col int }

// Parse reads an edition file. It returns the edition when Check finds no
// problem, and otherwise an error of type Problems listing every problem.
func Parse(src []byte) (*model.Edition, error) {
	e, _, ps := parse(src)
	if len(ps) > 0 {
		return nil, ps
	}
	return e, nil
}

// Check returns every problem in an edition file, each with its line and
// column, or nil when the file is fine.
func Check(src []byte) Problems {
	_, _, ps := parse(src)
	return ps
}

// DefaultSlug is the slug an edition gets when its file names none:
// "2025-03-13-evening", or just the date when there is no slot.
func DefaultSlug(date string, slot model.Slot) string {
	if slot == "" {
		return date
	}
	return date + "-" + string(slot)
}

// FollowSlot returns the slug an edition keeps when its date or slot is
// set to date and slot (from prevDate and prevSlot): a slug Herald made,
// DefaultSlug of the previous or the new date with the previous, the new
// or a common slot, plus the "-2" a clash added, follows the new date and
// slot, so the evening briefing's address ends in "-evening" even when
// its draft began as a morning one (and a form that still shows the
// made-up slug it was opened with cannot bring the old one back). A slug
// someone wrote stays as it is.
func FollowSlot(slug, prevDate string, prevSlot model.Slot, date string, slot model.Slot) string {
	slots := []model.Slot{prevSlot, slot, model.SlotMorning, model.SlotMidday, model.SlotEvening}
	for _, d := range []string{prevDate, date} {
		if d == "" {
			continue
		}
		for _, s := range slots {
			if s == "" {
				continue
			}
			if suffix, ok := madeFrom(slug, DefaultSlug(d, s)); ok {
				return DefaultSlug(date, slot) + suffix
			}
		}
		if suffix, ok := madeFrom(slug, d); ok {
			return DefaultSlug(date, slot) + suffix
		}
	}
	return slug
}

// madeFrom reports whether slug is base, or base and a clash's "-N"
// (returned as suffix).
func madeFrom(slug, base string) (suffix string, ok bool) {
	if slug == base {
		return "", true
	}
	rest, found := strings.CutPrefix(slug, base+"-")
	if !found || rest == "" || strings.Trim(rest, "0123456789") != "" {
		return "", false
	}
	return "-" + rest, true
}

type parser struct {
	lines []string
	e     *model.Edition
	at    map[string]pos
	ps    Problems
}

func (p *parser) problem(line, col int, format string, args ...any) {
	p.ps = append(p.ps, Problem{Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

func parse(src []byte) (*model.Edition, map[string]pos, Problems) {
	if len(src) > MaxSize {
		return nil, nil, Problems{{Msg: fmt.Sprintf("the file is %s; an edition file may be at most %s",
			humanSize(len(src)), humanSize(MaxSize))}}
	}
	if ps := checkEncoding(src); ps != nil {
		return nil, nil, ps
	}
	text := strings.TrimPrefix(string(src), "\ufeff")
	text = strings.TrimSuffix(text, "\n")
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	p := &parser{lines: lines, e: &model.Edition{}, at: map[string]pos{"frontmatter": {1, 1}}}
	i := p.frontMatter()
	if i < 0 {
		return nil, nil, p.ps
	}
	for i < len(lines) {
		switch {
		case blank(lines[i]):
			i++
		case isSectionHeading(lines[i]):
			i = p.section(i)
		default:
			p.problem(i+1, 1, `text outside any section: start a section with a line like "# lead" or "# briefs: Also know"`)
			i = p.blockEnd(i+1, len(lines), isSectionHeading)
		}
	}
	if len(p.e.Sections) == 0 && len(p.ps) == 0 {
		p.problem(len(lines), 1, `the edition has no sections: add one with a line like "# lead"`)
	}
	p.ps = append(p.ps, validate(p.e, p.at)...)
	return p.e, p.at, p.ps.sorted()
}

// checkEncoding reports every line that is not valid UTF-8. Positions past
// an invalid byte mean little, so parsing stops there.
func checkEncoding(src []byte) Problems {
	var ps Problems
	line, col := 1, 1
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRune(src[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			ps = append(ps, Problem{Line: line, Col: col, Msg: fmt.Sprintf(
				"invalid UTF-8 (byte 0x%02X): save the file as UTF-8", src[i])})
			if len(ps) == 20 {
				return ps
			}
			// Skip to the next line: one report per line is enough.
			for i < len(src) && src[i] != '\n' {
				i++
			}
			continue
		case r == '\n':
			line, col = line+1, 1
		default:
			col++
		}
		i += size
	}
	return ps
}

// frontMatter reads the block between the two "---" lines and returns the
// index of the line after it, or -1 when the rest of the file cannot be read.
func (p *parser) frontMatter() int {
	if len(p.lines) == 0 || p.lines[0] != "---" {
		p.problem(1, 1, `the file must start with front matter: a line "---", fields like "subject: ...", then "---"`)
		return -1
	}
	end := -1
	for j := 1; j < len(p.lines); j++ {
		if p.lines[j] == "---" {
			end = j
			break
		}
	}
	if end < 0 {
		p.problem(1, 1, `the front matter is not closed: add a line "---" after its last field`)
		return -1
	}
	fm := p.fields(1, end, "", "the front matter", frontFields)
	e := p.e
	e.Slug, e.Date, e.Slot, e.Language = fm["slug"], fm["date"], model.Slot(fm["slot"]), fm["language"]
	e.Subject, e.Preheader = fm["subject"], fm["preheader"]
	if e.Slug == "" {
		e.Slug = DefaultSlug(e.Date, e.Slot)
	}
	switch v := fm["public"]; v {
	case "", "false":
	case "true":
		e.Public = true
	default:
		at := p.at["public"]
		p.problem(at.line, at.col, "public must be true or false, not %q", v)
	}
	if fm["hero-image"] != "" || fm["hero-alt"] != "" || fm["hero-credit"] != "" || fm["hero-credit-prefix"] != "" || fm["hero-width"] != "" {
		h := &model.Image{URL: fm["hero-image"], Alt: fm["hero-alt"], Credit: fm["hero-credit"], CreditPrefix: fm["hero-credit-prefix"]}
		if w := fm["hero-width"]; w != "" {
			n, err := strconv.Atoi(w)
			if err != nil || n <= 0 {
				at := p.at["hero-width"]
				p.problem(at.line, at.col, "hero-width must be a whole number of pixels, such as 600, not %q", w)
			}
			h.Width = n
		}
		e.Hero = h
	}
	return end + 1
}

// fields reads "name: value" lines in [start, end). Blank lines are skipped;
// every other line must be a known field. Positions are recorded under
// prefix+name.
func (p *parser) fields(start, end int, prefix, what string, known []string) map[string]string {
	out := map[string]string{}
	for j := start; j < end; j++ {
		l := p.lines[j]
		if blank(l) {
			continue
		}
		if !fieldLine.MatchString(l) {
			p.problem(j+1, 1, `expected a field like "%s: ..." in %s (fields: %s)`, known[0], what, strings.Join(known, ", "))
			continue
		}
		p.field(j, prefix, what, known, out)
	}
	return out
}

func (p *parser) field(j int, prefix, what string, known []string, out map[string]string) {
	l := p.lines[j]
	name, raw, _ := strings.Cut(l, ":")
	value := strings.TrimSpace(raw)
	col := utf8.RuneCountInString(l[:len(l)-len(strings.TrimLeft(raw, " \t"))]) + 1
	switch {
	case !contains(known, name):
		p.problem(j+1, 1, "unknown field %q in %s (fields: %s)", name, what, strings.Join(known, ", "))
	case hasKey(out, name):
		p.problem(j+1, 1, "field %q appears twice in %s", name, what)
	default:
		out[name] = value
		p.at[prefix+name] = pos{j + 1, col}
	}
}

// section reads the section whose heading is on line i and returns the index
// of the line after it.
func (p *parser) section(i int) int {
	end := p.blockEnd(i+1, len(p.lines), isSectionHeading)
	head := strings.TrimSpace(p.lines[i][1:])
	kindText, title, _ := strings.Cut(head, ":")
	kind := model.SectionKind(strings.TrimSpace(kindText))
	title = strings.TrimSpace(title)
	switch {
	case kind == "":
		p.problem(i+1, 1, `section heading without a kind: write "# lead", "# cards", "# briefs", "# picks" or "# text", then ": Title" if you want one`)
		return end
	case !kind.Valid():
		p.problem(i+1, 3, `unknown section kind %q: a section heading is "# kind: Title", where kind is lead, cards, briefs, picks or text`, string(kind))
		return end
	}
	key := sectionKey(len(p.e.Sections))
	p.at[key] = pos{i + 1, 1}
	if title != "" {
		p.at[key+".title"] = pos{i + 1, utf8.RuneCountInString(p.lines[i][:strings.Index(p.lines[i], title)]) + 1}
	}
	s := model.Section{Kind: kind, Title: title}
	if title == NoTitle {
		s.Title, s.NoTitle = "", true
	}
	switch kind {
	case model.KindLead:
		s.Lead = p.lead(i+1, end, key)
	case model.KindText:
		s.Text = &model.Text{Body: p.body(i+1, end, key, "a text section")}
	default:
		p.items(i+1, end, key, &s)
	}
	p.e.Sections = append(p.e.Sections, s)
	return end
}

// lead reads an optional block of fields, then the body.
func (p *parser) lead(start, end int, key string) *model.Lead {
	j := start
	for j < end && blank(p.lines[j]) {
		j++
	}
	k := j
	for k < end && !blank(p.lines[k]) {
		k++
	}
	f := map[string]string{}
	if j < k && allFields(p.lines[j:k]) {
		for n := j; n < k; n++ {
			p.field(n, key+".f.", "the lead", leadFields, f)
		}
		j = k
	}
	return &model.Lead{
		Headline: f["headline"],
		Byline:   model.Byline{Name: f["byline"], Role: f["role"]},
		Body:     p.body(j, end, key, "the lead"),
	}
}

// items reads the "## " items of a cards, briefs or picks section.
func (p *parser) items(start, end int, key string, s *model.Section) {
	j := start
	for j < end && !isItemHeading(p.lines[j]) {
		if !blank(p.lines[j]) {
			p.problem(j+1, 1, `text before the first item: start each item of a %s section with a line like "## Headline"`, s.Kind)
			j = p.blockEnd(j, end, isItemHeading)
			break
		}
		j++
	}
	for n := 0; j < end; n++ {
		itemEnd := p.blockEnd(j+1, end, isItemHeading)
		heading := strings.TrimSpace(p.lines[j][2:])
		ik := key + ".i" + strconv.Itoa(n)
		p.at[ik] = pos{j + 1, 1}
		p.at[ik+".heading"] = pos{j + 1, min(4, utf8.RuneCountInString(p.lines[j])+1)}
		switch s.Kind {
		case model.KindCards:
			f := p.fields(j+1, itemEnd, ik+".f.", "a card", cardFields)
			s.Cards = append(s.Cards, model.Card{Headline: heading, Author: f["author"], URL: f["url"], CTA: f["cta"]})
		case model.KindPicks:
			f := p.fields(j+1, itemEnd, ik+".f.", "a pick", pickFields)
			s.Picks = append(s.Picks, model.Pick{Title: heading, Verb: f["verb"], Author: f["author"], Publication: f["publication"], URL: f["url"]})
		case model.KindBriefs:
			s.Briefs = append(s.Briefs, model.Brief{Headline: heading, Body: p.body(j+1, itemEnd, ik, "a brief")})
		}
		j = itemEnd
	}
}

// body returns lines [start, end) as Markdown without the blank lines around
// it, and records where it starts.
func (p *parser) body(start, end int, key, what string) string {
	for start < end && blank(p.lines[start]) {
		start++
	}
	for end > start && blank(p.lines[end-1]) {
		end--
	}
	if start == end {
		return ""
	}
	p.at[key+".body"] = pos{start + 1, 1}
	return strings.Join(p.lines[start:end], "\n")
}

// blockEnd returns the index of the first line in [start, limit) outside a
// fenced code block for which stop is true, or limit.
func (p *parser) blockEnd(start, limit int, stop func(string) bool) int {
	var fence string
	for j := start; j < limit; j++ {
		l := p.lines[j]
		if f := fenceMarker(l); f != "" {
			switch {
			case fence == "":
				fence = f
			case strings.HasPrefix(f, fence[:1]) && len(f) >= len(fence):
				fence = ""
			}
			continue
		}
		if fence == "" && stop(l) {
			return j
		}
	}
	return limit
}

// fenceMarker returns the run of backticks or tildes that opens or closes a
// fenced code block on line l, or "".
func fenceMarker(l string) string {
	t := strings.TrimLeft(l, " ")
	if len(l)-len(t) > 3 {
		return ""
	}
	for _, c := range []string{"`", "~"} {
		n := len(t) - len(strings.TrimLeft(t, c))
		if n >= 3 {
			return t[:n]
		}
	}
	return ""
}

func isSectionHeading(l string) bool { return l == "#" || strings.HasPrefix(l, "# ") }
func isItemHeading(l string) bool    { return l == "##" || strings.HasPrefix(l, "## ") }
func blank(l string) bool            { return strings.TrimSpace(l) == "" }

func allFields(lines []string) bool {
	for _, l := range lines {
		if !fieldLine.MatchString(l) {
			return false
		}
	}
	return true
}

func sectionKey(i int) string { return "s" + strconv.Itoa(i) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }

func humanSize(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
