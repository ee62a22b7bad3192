package render_test

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
)

// This file reads an inlined HTML email the way a mail client does: the
// inline style attributes first, then the rules premailer had to leave in a
// <style> block (the dark-mode ones, which carry !important so they win over
// the inline styles). It resolves every text's colour and the background
// behind it, in light and in dark mode, and checks WCAG 2 contrast.

// minContrast is WCAG 2's AA ratio for body text.
const minContrast = 4.5

// emailThemes are the themes Herald ships, each rendered as a campaign would
// render it: the default theme with the sample publication's brand colours,
// and with no brand colours at all (the theme's own).
func emailThemes(t *testing.T) map[string][]byte {
	t.Helper()
	plain := sample.Publication()
	plain.Colors = model.Colors{}
	pubs := map[string]model.Publication{"default theme, sample colours": sample.Publication(), "default theme, theme colours": plain}
	out := map[string][]byte{}
	e, err := sample.Edition()
	if err != nil {
		t.Fatal(err)
	}
	for name, pub := range pubs {
		r, err := render.New(pub, render.Options{})
		if err != nil {
			t.Fatal(err)
		}
		m, err := r.Email(e)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = m.AppendHTML(nil, subscriber)
	}
	// The golden file too, so a stale golden cannot lock a bug in.
	g, err := os.ReadFile(filepath.Join("testdata", "sample.email.html"))
	if err != nil {
		t.Fatal(err)
	}
	out["golden sample.email.html"] = g
	return out
}

func TestEmailTextContrast(t *testing.T) {
	for name, doc := range emailThemes(t) {
		t.Run(name, func(t *testing.T) {
			root, err := html.Parse(bytes.NewReader(doc))
			if err != nil {
				t.Fatal(err)
			}
			sheet := parseSheets(t, root)
			for _, mode := range []string{"light", "dark"} {
				checked := 0
				for _, tx := range resolveTexts(t, root, sheet, mode) {
					checked++
					ratio := contrast(tx.fg, tx.bg)
					switch {
					case tx.fg == tx.bg:
						t.Errorf("%s mode: %s %q: text colour %s is its background colour", mode, tx.where, tx.text, tx.fg)
					case ratio < minContrast:
						t.Errorf("%s mode: %s %q: %s on %s has contrast %.2f:1, under %.1f:1", mode, tx.where, tx.text, tx.fg, tx.bg, ratio, minContrast)
					}
				}
				if checked < 30 {
					t.Errorf("%s mode: only %d texts checked; the reader found too little", mode, checked)
				}
			}
		})
	}
}

// rgb is an sRGB colour.
type rgb struct{ r, g, b uint8 }

func (c rgb) String() string { return fmt.Sprintf("#%02x%02x%02x", c.r, c.g, c.b) }

// parseColor reads a CSS hex colour.
func parseColor(s string) (rgb, bool) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "!important"))
	if !strings.HasPrefix(s, "#") {
		return rgb{}, false
	}
	h := s[1:]
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	if len(h) != 6 {
		return rgb{}, false
	}
	n, err := strconv.ParseUint(h, 16, 32)
	if err != nil {
		return rgb{}, false
	}
	return rgb{uint8(n >> 16), uint8(n >> 8), uint8(n)}, true
}

// luminance is WCAG 2's relative luminance.
func luminance(c rgb) float64 {
	lin := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c.r) + 0.7152*lin(c.g) + 0.0722*lin(c.b)
}

// contrast is WCAG 2's contrast ratio of two colours, from 1 to 21.
func contrast(a, b rgb) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// A rule is one selector of a style sheet rule with its declarations.
type rule struct {
	sel   [][]compound // descendant chain, outermost first
	spec  [3]int
	decls map[string]decl
	mode  string // "light", "dark" or "" for both
	order int
}

type decl struct {
	value     string
	important bool
}

// compound is a simple selector sequence such as "td.block" or "*".
type compound struct {
	tag     string
	classes []string
	id      string
	child   bool // reached by ">" from the previous compound
}

// parseSheets reads every <style> element's rules. Rules inside
// @media (prefers-color-scheme: dark) apply in dark mode only (light: light
// only); other media queries are assumed to match.
func parseSheets(t *testing.T, root *html.Node) []rule {
	t.Helper()
	var css strings.Builder
	walk(root, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "style" && n.FirstChild != nil {
			css.WriteString(n.FirstChild.Data)
			css.WriteByte('\n')
		}
	})
	var rules []rule
	parseBlock(t, stripComments(css.String()), "", &rules)
	return rules
}

func stripComments(s string) string {
	for {
		i := strings.Index(s, "/*")
		if i < 0 {
			return s
		}
		j := strings.Index(s[i+2:], "*/")
		if j < 0 {
			return s[:i]
		}
		s = s[:i] + s[i+2+j+2:]
	}
}

// parseBlock reads rules and @media blocks from s.
func parseBlock(t *testing.T, s, mode string, rules *[]rule) {
	t.Helper()
	for {
		s = strings.TrimSpace(s)
		if s == "" {
			return
		}
		open := strings.IndexByte(s, '{')
		if open < 0 {
			t.Fatalf("cannot read CSS near %q", s)
		}
		prelude := strings.TrimSpace(s[:open])
		// Find the matching close brace.
		depth, end := 0, -1
		for i := open; i < len(s); i++ {
			if s[i] == '{' {
				depth++
			} else if s[i] == '}' {
				depth--
				if depth == 0 {
					end = i
					break
				}
			}
		}
		if end < 0 {
			t.Fatalf("unbalanced braces in CSS after %q", prelude)
		}
		body := s[open+1 : end]
		s = s[end+1:]
		switch {
		case strings.HasPrefix(prelude, "@media"):
			m := mode
			q := strings.ReplaceAll(strings.ToLower(prelude), " ", "")
			switch {
			case strings.Contains(q, "prefers-color-scheme:dark"):
				m = "dark"
			case strings.Contains(q, "prefers-color-scheme:light"):
				m = "light"
			}
			parseBlock(t, body, m, rules)
		case strings.HasPrefix(prelude, "@"):
			continue // @font-face and the like carry no colours we read
		default:
			decls := map[string]decl{}
			for _, d := range strings.Split(body, ";") {
				k, v, ok := strings.Cut(d, ":")
				if !ok {
					continue
				}
				v = strings.TrimSpace(v)
				imp := strings.HasSuffix(v, "!important")
				decls[strings.ToLower(strings.TrimSpace(k))] = decl{value: strings.TrimSpace(strings.TrimSuffix(v, "!important")), important: imp}
			}
			for _, sel := range strings.Split(prelude, ",") {
				chain, spec := parseSelector(t, strings.TrimSpace(sel))
				*rules = append(*rules, rule{sel: [][]compound{chain}, spec: spec, decls: decls, mode: mode, order: len(*rules)})
			}
		}
	}
}

// parseSelector reads the selectors a theme uses: tags, classes, ids, "*",
// descendant and child combinators. Anything else fails the test rather
// than being silently ignored.
func parseSelector(t *testing.T, sel string) ([]compound, [3]int) {
	t.Helper()
	if strings.ContainsAny(sel, ":[+~") {
		t.Fatalf("the contrast test cannot read the selector %q: teach parseSelector, or simplify the theme", sel)
	}
	var chain []compound
	var spec [3]int
	child := false
	for _, part := range strings.Fields(strings.ReplaceAll(sel, ">", " > ")) {
		if part == ">" {
			child = true
			continue
		}
		c := compound{child: child}
		child = false
		rest := part
		if i := strings.IndexAny(rest, ".#"); i != 0 {
			if i < 0 {
				i = len(rest)
			}
			c.tag, rest = strings.ToLower(rest[:i]), rest[i:]
			if c.tag != "*" {
				spec[2]++
			}
		}
		for rest != "" {
			kind := rest[0]
			rest = rest[1:]
			i := strings.IndexAny(rest, ".#")
			if i < 0 {
				i = len(rest)
			}
			name := rest[:i]
			rest = rest[i:]
			if kind == '.' {
				c.classes = append(c.classes, name)
				spec[1]++
			} else {
				c.id = name
				spec[0]++
			}
		}
		chain = append(chain, c)
	}
	return chain, spec
}

func (c compound) matches(n *html.Node) bool {
	if n.Type != html.ElementNode {
		return false
	}
	if c.tag != "" && c.tag != "*" && c.tag != n.Data {
		return false
	}
	if c.id != "" {
		if id, _ := attr(n, "id"); id != c.id {
			return false
		}
	}
	cls, _ := attr(n, "class")
	have := strings.Fields(cls)
	for _, want := range c.classes {
		found := false
		for _, h := range have {
			found = found || h == want
		}
		if !found {
			return false
		}
	}
	return true
}

// matchChain reports whether the chain's last compound matches n and the
// earlier ones match its ancestors.
func matchChain(chain []compound, n *html.Node) bool {
	last := len(chain) - 1
	if !chain[last].matches(n) {
		return false
	}
	if last == 0 {
		return true
	}
	rest := chain[:last]
	for p := n.Parent; p != nil; p = p.Parent {
		if matchChain(rest, p) {
			return true
		}
		if chain[last].child {
			return false
		}
	}
	return false
}

// inlineDecls reads a style attribute.
func inlineDecls(n *html.Node) map[string]decl {
	out := map[string]decl{}
	st, _ := attr(n, "style")
	for _, d := range strings.Split(st, ";") {
		k, v, ok := strings.Cut(d, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		imp := strings.HasSuffix(v, "!important")
		out[strings.ToLower(strings.TrimSpace(k))] = decl{value: strings.TrimSpace(strings.TrimSuffix(v, "!important")), important: imp}
	}
	return out
}

// cascaded returns the winning declaration of prop for n in mode:
// important beats normal, inline important beats sheet important, inline
// normal beats sheet normal, then specificity, then order.
func cascaded(n *html.Node, sheet []rule, mode, prop string) (decl, bool) {
	type cand struct {
		d      decl
		inline bool
		spec   [3]int
		order  int
	}
	var best *cand
	better := func(a, b cand) bool { // a beats b
		if a.d.important != b.d.important {
			return a.d.important
		}
		if a.inline != b.inline {
			return a.inline
		}
		if a.spec != b.spec {
			for i := range 3 {
				if a.spec[i] != b.spec[i] {
					return a.spec[i] > b.spec[i]
				}
			}
		}
		return a.order > b.order
	}
	consider := func(c cand) {
		if best == nil || better(c, *best) {
			cc := c
			best = &cc
		}
	}
	if d, ok := inlineDecls(n)[prop]; ok {
		consider(cand{d: d, inline: true})
	}
	for _, r := range sheet {
		if r.mode != "" && r.mode != mode {
			continue
		}
		d, ok := r.decls[prop]
		if !ok {
			continue
		}
		for _, chain := range r.sel {
			if matchChain(chain, n) {
				consider(cand{d: d, spec: r.spec, order: r.order})
			}
		}
	}
	if best == nil {
		return decl{}, false
	}
	return best.d, true
}

// backgroundOf returns the colour a background declaration paints, if any.
func backgroundOf(t *testing.T, n *html.Node, sheet []rule, mode string) (rgb, bool) {
	for _, prop := range []string{"background-color", "background"} {
		d, ok := cascaded(n, sheet, mode, prop)
		if !ok {
			continue
		}
		v := strings.ToLower(d.value)
		if v == "transparent" || v == "none" {
			return rgb{}, false
		}
		for _, tok := range strings.Fields(v) {
			if c, ok := parseColor(tok); ok {
				return c, true
			}
		}
		t.Fatalf("cannot read the background %q of <%s>", d.value, n.Data)
	}
	if bg, ok := attr(n, "bgcolor"); ok {
		if c, ok := parseColor(bg); ok {
			return c, true
		}
	}
	return rgb{}, false
}

// A text is a run of visible text with its resolved colours.
type text struct {
	where  string
	text   string
	fg, bg rgb
}

// The canvas a client paints under a page that declares color-scheme
// "light dark": white with black text, or dark with light text.
var canvas = map[string][2]rgb{
	"light": {{0, 0, 0}, {0xff, 0xff, 0xff}},
	"dark":  {{0xff, 0xff, 0xff}, {0x12, 0x12, 0x12}},
}

// resolveTexts walks the body and resolves the colour and background of
// every visible text.
func resolveTexts(t *testing.T, root *html.Node, sheet []rule, mode string) []text {
	t.Helper()
	var out []text
	var visit func(n *html.Node, fg, bg rgb, path string)
	visit = func(n *html.Node, fg, bg rgb, path string) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "head", "style", "script", "title":
				return
			}
			if d, ok := cascaded(n, sheet, mode, "display"); ok && d.value == "none" {
				return
			}
			if c, ok := backgroundOf(t, n, sheet, mode); ok {
				bg = c
			}
			if d, ok := cascaded(n, sheet, mode, "color"); ok {
				c, ok := parseColor(d.value)
				if !ok {
					t.Fatalf("cannot read the colour %q of <%s>", d.value, n.Data)
				}
				fg = c
			} else if n.Data == "a" {
				fg = rgb{0, 0, 0xee} // a link with no colour of its own is the client's blue
			}
			label := n.Data
			if cls, _ := attr(n, "class"); cls != "" {
				label += "." + strings.ReplaceAll(cls, " ", ".")
			}
			path += " > " + label
		}
		if n.Type == html.TextNode {
			if s := strings.TrimSpace(n.Data); s != "" {
				if len(s) > 40 {
					s = s[:40] + "…"
				}
				parts := strings.Split(strings.TrimPrefix(path, " > "), " > ")
				out = append(out, text{where: strings.Join(parts[max(0, len(parts)-3):], " > "), text: s, fg: fg, bg: bg})
			}
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			visit(c, fg, bg, path)
		}
	}
	c := canvas[mode]
	visit(root, c[0], c[1], "")
	return out
}

// themeSheet reads the rules of the default email theme's <style> block,
// with each template action replaced by a colour of its own (so two rules
// that both say {{.Colors.Accent}} still tell apart).
func themeSheet(t *testing.T) []rule {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("theme", "email.html"))
	if err != nil {
		t.Fatal(err)
	}
	_, css, ok := strings.Cut(string(src), "<style>")
	css, _, ok2 := strings.Cut(css, "</style>")
	if !ok || !ok2 {
		t.Fatal("theme/email.html has no <style> block")
	}
	for n := 1; ; n++ {
		i := strings.Index(css, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(css[i:], "}}")
		css = css[:i] + fmt.Sprintf("#%06x", n) + css[i+j+2:]
	}
	var rules []rule
	parseBlock(t, stripComments(css), "", &rules)
	// Premailer keeps media rules in a <style> block with every
	// declaration made !important, so that they beat the inline styles.
	for i, r := range rules {
		if r.mode == "" {
			continue
		}
		decls := map[string]decl{}
		for k, d := range r.decls {
			d.important = true
			decls[k] = d
		}
		rules[i].decls = decls
	}
	return rules
}

// A declaration the theme writes but that never wins on any element its
// selector matches is a rule that inlining (or the cascade) silently
// throws away: a "Read here" button coloured like its background, red card
// headlines, a byline glued to the text above it.
func TestEmailThemeRulesTakeEffect(t *testing.T) {
	sheet := themeSheet(t)
	r, e := setup(t)
	// Give the lead a title so the kicker is on the page too.
	for i, s := range e.Sections {
		if s.Kind == model.KindLead {
			e.Sections[i].Title = "Tonight"
		}
	}
	m, err := r.Email(e)
	if err != nil {
		t.Fatal(err)
	}
	root, err := html.Parse(bytes.NewReader(m.AppendHTML(nil, subscriber)))
	if err != nil {
		t.Fatal(err)
	}
	var elems []*html.Node
	walk(root, func(n *html.Node) {
		if n.Type == html.ElementNode {
			elems = append(elems, n)
		}
	})
	for _, mode := range []string{"light", "dark"} {
		for _, ru := range sheet {
			if ru.mode != "" && ru.mode != mode || ru.mode == "" && mode == "dark" {
				continue // each rule is judged in the mode it is written for
			}
			for prop, d := range ru.decls {
				matched, won := 0, false
				for _, n := range elems {
					if !matchChain(ru.sel[0], n) {
						continue
					}
					matched++
					if w, ok := cascadedSheet(n, sheet, mode, prop); ok && w == d {
						won = true
						break
					}
				}
				if matched > 0 && !won {
					t.Errorf("%s mode: %q { %s: %s } matches %d element(s) but loses on every one to a more specific rule",
						mode, selectorString(ru.sel[0]), prop, d.value, matched)
				}
			}
		}
	}
}

// cascadedSheet is cascaded without the style attributes: which of the
// theme's own rules wins.
func cascadedSheet(n *html.Node, sheet []rule, mode, prop string) (decl, bool) {
	saved := n.Attr
	n.Attr = nil
	for _, a := range saved {
		if a.Key != "style" {
			n.Attr = append(n.Attr, a)
		}
	}
	defer func() { n.Attr = saved }()
	return cascaded(n, sheet, mode, prop)
}

func selectorString(chain []compound) string {
	var parts []string
	for _, c := range chain {
		s := c.tag
		for _, cl := range c.classes {
			s += "." + cl
		}
		if c.id != "" {
			s += "#" + c.id
		}
		if c.child {
			s = "> " + s
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// TestButtonInkReadsOnTheAccent: the call-to-action label takes black or
// white, whichever reads on the accent, so an accent saved before colours
// were checked (a light yellow) still gives readable buttons.
func TestButtonInkReadsOnTheAccent(t *testing.T) {
	e, err := sample.Edition()
	if err != nil {
		t.Fatal(err)
	}
	for accent, ink := range map[string]string{"#f5c518": "#000000", "#9c2f1f": "#ffffff"} {
		pub := sample.Publication()
		pub.Colors.Accent = accent
		r, err := render.New(pub, render.Options{})
		if err != nil {
			t.Fatal(err)
		}
		m, err := r.Email(e)
		if err != nil {
			t.Fatal(err)
		}
		doc := string(m.AppendHTML(nil, subscriber))
		want := "background-color:" + accent + ";color:" + ink
		if n := strings.Count(doc, want); n == 0 {
			t.Errorf("accent %s: no button with %q", accent, want)
		}
		if bad := "background-color:" + accent + ";color:" + map[string]string{"#000000": "#ffffff", "#ffffff": "#000000"}[ink]; strings.Contains(doc, bad) {
			t.Errorf("accent %s: a button with %q", accent, bad)
		}
	}
}
