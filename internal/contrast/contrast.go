// Package contrast reads an inlined HTML email the way a mail client does
// (the inline style attributes first, then the rules left in <style>
// blocks: the dark-mode ones, which carry !important to win over inline
// styles) and resolves every visible text's colour and the background
// behind it, in light and in dark mode, for WCAG 2 contrast. The render
// package's tests hold Herald's themes to it, and the pre-send checks
// (package precheck) hold each edition to it.
//
// Contract: it reads the CSS Herald's themes use (tags, classes, ids, "*",
// descendant and child combinators, hex colours); anything else is an
// error naming what it could not read, never silently skipped.
package contrast

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"golang.org/x/net/html"
)

// MinRatio is WCAG 2's AA contrast ratio for body text.
const MinRatio = 4.5

// RGB is an sRGB colour.
type RGB struct{ R, G, B uint8 }

func (c RGB) String() string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

// ParseColor reads a CSS hex colour.
func ParseColor(s string) (RGB, bool) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "!important"))
	if !strings.HasPrefix(s, "#") {
		return RGB{}, false
	}
	h := s[1:]
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	if len(h) != 6 {
		return RGB{}, false
	}
	n, err := strconv.ParseUint(h, 16, 32)
	if err != nil {
		return RGB{}, false
	}
	return RGB{uint8(n >> 16), uint8(n >> 8), uint8(n)}, true
}

// luminance is WCAG 2's relative luminance.
func luminance(c RGB) float64 {
	lin := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c.R) + 0.7152*lin(c.G) + 0.0722*lin(c.B)
}

// Ratio is WCAG 2's contrast ratio of two colours, from 1 to 21.
func Ratio(a, b RGB) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// A Rule is one selector of a style sheet rule with its declarations.
type Rule struct {
	Chain []Compound // descendant chain, outermost first
	Spec  [3]int
	Decls map[string]Decl
	Mode  string // "light", "dark" or "" for both
	Order int
}

// Decl is one declaration's value.
type Decl struct {
	Value     string
	Important bool
}

// Compound is a simple selector sequence such as "td.block" or "*".
type Compound struct {
	Tag     string
	Classes []string
	ID      string
	Child   bool // reached by ">" from the previous compound
}

// Sheet reads every <style> element's rules in doc. Rules inside
// @media (prefers-color-scheme: dark) apply in dark mode only (light: light
// only); other media queries are taken to match. Strict refuses a selector
// it cannot read; otherwise such a rule (a:hover, td[align]) is left out,
// which only misses a colour that rule would paint.
func Sheet(root *html.Node, strict bool) ([]Rule, error) {
	var css strings.Builder
	Walk(root, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "style" && n.FirstChild != nil {
			css.WriteString(n.FirstChild.Data)
			css.WriteByte('\n')
		}
	})
	return ParseCSS(css.String(), strict)
}

// ParseCSS reads a style sheet's rules; strict as for Sheet.
func ParseCSS(css string, strict bool) ([]Rule, error) {
	var rules []Rule
	err := parseBlock(stripComments(css), "", strict, &rules)
	return rules, err
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
func parseBlock(s, mode string, strict bool, rules *[]Rule) error {
	for {
		s = strings.TrimSpace(s)
		if s == "" {
			return nil
		}
		open := strings.IndexByte(s, '{')
		if open < 0 {
			return fmt.Errorf("cannot read CSS near %q", s)
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
			return fmt.Errorf("unbalanced braces in CSS after %q", prelude)
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
			if err := parseBlock(body, m, strict, rules); err != nil {
				return err
			}
		case strings.HasPrefix(prelude, "@"):
			continue // @font-face and the like carry no colours we read
		default:
			decls := parseDecls(body)
			for _, sel := range strings.Split(prelude, ",") {
				chain, spec, err := parseSelector(strings.TrimSpace(sel))
				if err != nil && !strict {
					continue
				}
				if err != nil {
					return err
				}
				*rules = append(*rules, Rule{Chain: chain, Spec: spec, Decls: decls, Mode: mode, Order: len(*rules)})
			}
		}
	}
}

// parseDecls reads "prop: value; prop: value !important".
func parseDecls(body string) map[string]Decl {
	decls := map[string]Decl{}
	for _, d := range strings.Split(body, ";") {
		k, v, ok := strings.Cut(d, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		imp := strings.HasSuffix(v, "!important")
		decls[strings.ToLower(strings.TrimSpace(k))] = Decl{Value: strings.TrimSpace(strings.TrimSuffix(v, "!important")), Important: imp}
	}
	return decls
}

// parseSelector reads the selectors a theme uses: tags, classes, ids, "*",
// descendant and child combinators. Anything else is an error rather than
// being silently ignored.
func parseSelector(sel string) ([]Compound, [3]int, error) {
	var spec [3]int
	if strings.ContainsAny(sel, ":[+~") {
		return nil, spec, fmt.Errorf("cannot read the CSS selector %q (pseudo-classes, attributes and sibling combinators are not read)", sel)
	}
	var chain []Compound
	child := false
	for _, part := range strings.Fields(strings.ReplaceAll(sel, ">", " > ")) {
		if part == ">" {
			child = true
			continue
		}
		c := Compound{Child: child}
		child = false
		rest := part
		if i := strings.IndexAny(rest, ".#"); i != 0 {
			if i < 0 {
				i = len(rest)
			}
			c.Tag, rest = strings.ToLower(rest[:i]), rest[i:]
			if c.Tag != "*" {
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
				c.Classes = append(c.Classes, name)
				spec[1]++
			} else {
				c.ID = name
				spec[0]++
			}
		}
		chain = append(chain, c)
	}
	return chain, spec, nil
}

// Matches reports whether the compound matches element n.
func (c Compound) Matches(n *html.Node) bool {
	if n.Type != html.ElementNode {
		return false
	}
	if c.Tag != "" && c.Tag != "*" && c.Tag != n.Data {
		return false
	}
	if c.ID != "" {
		if id, _ := Attr(n, "id"); id != c.ID {
			return false
		}
	}
	cls, _ := Attr(n, "class")
	have := strings.Fields(cls)
	for _, want := range c.Classes {
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

// MatchChain reports whether the chain's last compound matches n and the
// earlier ones match its ancestors.
func MatchChain(chain []Compound, n *html.Node) bool {
	last := len(chain) - 1
	if !chain[last].Matches(n) {
		return false
	}
	if last == 0 {
		return true
	}
	rest := chain[:last]
	for p := n.Parent; p != nil; p = p.Parent {
		if MatchChain(rest, p) {
			return true
		}
		if chain[last].Child {
			return false
		}
	}
	return false
}

// Selector writes a chain back as CSS.
func Selector(chain []Compound) string {
	var parts []string
	for _, c := range chain {
		s := c.Tag
		for _, cl := range c.Classes {
			s += "." + cl
		}
		if c.ID != "" {
			s += "#" + c.ID
		}
		if c.Child {
			s = "> " + s
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// Cascaded returns the winning declaration of prop for n in mode:
// important beats normal, inline important beats sheet important, inline
// normal beats sheet normal, then specificity, then order.
func Cascaded(n *html.Node, sheet []Rule, mode, prop string) (Decl, bool) {
	type cand struct {
		d      Decl
		inline bool
		spec   [3]int
		order  int
	}
	var best *cand
	better := func(a, b cand) bool { // a beats b
		if a.d.Important != b.d.Important {
			return a.d.Important
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
	st, _ := Attr(n, "style")
	if d, ok := parseDecls(st)[prop]; ok {
		consider(cand{d: d, inline: true})
	}
	for _, r := range sheet {
		if r.Mode != "" && r.Mode != mode {
			continue
		}
		d, ok := r.Decls[prop]
		if !ok {
			continue
		}
		if MatchChain(r.Chain, n) {
			consider(cand{d: d, spec: r.Spec, order: r.Order})
		}
	}
	if best == nil {
		return Decl{}, false
	}
	return best.d, true
}

// backgroundOf returns the colour a background declaration paints, if any.
func backgroundOf(n *html.Node, sheet []Rule, mode string) (RGB, bool, error) {
	for _, prop := range []string{"background-color", "background"} {
		d, ok := Cascaded(n, sheet, mode, prop)
		if !ok {
			continue
		}
		v := strings.ToLower(d.Value)
		if v == "transparent" || v == "none" {
			return RGB{}, false, nil
		}
		for _, tok := range strings.Fields(v) {
			if c, ok := ParseColor(tok); ok {
				return c, true, nil
			}
		}
		return RGB{}, false, fmt.Errorf("cannot read the background %q of <%s>", d.Value, n.Data)
	}
	if bg, ok := Attr(n, "bgcolor"); ok {
		if c, ok := ParseColor(bg); ok {
			return c, true, nil
		}
	}
	return RGB{}, false, nil
}

// A Text is a run of visible text with its resolved colours.
type Text struct {
	Where  string // the last three elements it is in, "td.block > p > a"
	Text   string // its first 40 bytes
	FG, BG RGB
}

// canvas is what a client paints under a page that declares color-scheme
// "light dark": white with black text, or dark with light text.
var canvas = map[string][2]RGB{
	"light": {{0, 0, 0}, {0xff, 0xff, 0xff}},
	"dark":  {{0xff, 0xff, 0xff}, {0x12, 0x12, 0x12}},
}

// Modes are the colour schemes a mail client may show a message in.
var Modes = []string{"light", "dark"}

// Texts walks the body and resolves the colour and background of every
// visible text in mode ("light" or "dark").
func Texts(root *html.Node, sheet []Rule, mode string) ([]Text, error) {
	var out []Text
	var visit func(n *html.Node, fg, bg RGB, path string) error
	visit = func(n *html.Node, fg, bg RGB, path string) error {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "head", "style", "script", "title":
				return nil
			}
			if d, ok := Cascaded(n, sheet, mode, "display"); ok && d.Value == "none" {
				return nil
			}
			c, ok, err := backgroundOf(n, sheet, mode)
			if err != nil {
				return err
			}
			if ok {
				bg = c
			}
			if d, ok := Cascaded(n, sheet, mode, "color"); ok {
				c, ok := ParseColor(d.Value)
				if !ok {
					return fmt.Errorf("cannot read the colour %q of <%s>", d.Value, n.Data)
				}
				fg = c
			} else if n.Data == "a" {
				fg = RGB{0, 0, 0xee} // a link with no colour of its own is the client's blue
			}
			label := n.Data
			if cls, _ := Attr(n, "class"); cls != "" {
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
				out = append(out, Text{Where: strings.Join(parts[max(0, len(parts)-3):], " > "), Text: s, FG: fg, BG: bg})
			}
			return nil
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if err := visit(c, fg, bg, path); err != nil {
				return err
			}
		}
		return nil
	}
	c := canvas[mode]
	err := visit(root, c[0], c[1], "")
	return out, err
}

// A Problem is a text too faint against its background in one mode.
type Problem struct {
	Mode string
	Text
	Ratio float64
}

func (p Problem) String() string {
	if p.FG == p.BG {
		return fmt.Sprintf("%s mode: %s %q: text colour %s is its background colour", p.Mode, p.Where, p.Text.Text, p.FG)
	}
	return fmt.Sprintf("%s mode: %s %q: %s on %s has contrast %.2f:1, under %.1f:1", p.Mode, p.Where, p.Text.Text, p.FG, p.BG, p.Ratio, MinRatio)
}

// Check resolves every text of an HTML document in both modes and returns
// those under MinRatio, and how many texts it checked; strict as for Sheet.
func Check(root *html.Node, strict bool) ([]Problem, int, error) {
	sheet, err := Sheet(root, strict)
	if err != nil {
		return nil, 0, err
	}
	var out []Problem
	checked := 0
	for _, mode := range Modes {
		texts, err := Texts(root, sheet, mode)
		if err != nil {
			return nil, 0, err
		}
		for _, tx := range texts {
			checked++
			if r := Ratio(tx.FG, tx.BG); tx.FG == tx.BG || r < MinRatio {
				out = append(out, Problem{Mode: mode, Text: tx, Ratio: r})
			}
		}
	}
	return out, checked, nil
}

// Walk calls fn for n and every node under it, in document order.
func Walk(n *html.Node, fn func(*html.Node)) {
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		Walk(c, fn)
	}
}

// Attr returns an attribute's value.
func Attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}
