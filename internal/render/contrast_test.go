package render_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/herald-news/herald/internal/contrast"
	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
)

// These tests read the inlined HTML email the way a mail client does
// (package contrast: the pre-send checks use the same reader) and check
// WCAG 2 contrast of every text, in light and in dark mode.

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
			problems, checked, err := contrast.Check(root, true)
			if err != nil {
				t.Fatalf("%v: teach package contrast, or simplify the theme", err)
			}
			for _, p := range problems {
				t.Error(p)
			}
			if checked < 60 {
				t.Errorf("only %d texts checked in both modes; the reader found too little", checked)
			}
		})
	}
}

// themeSheet reads the rules of the default email theme's <style> block,
// with each template action replaced by a colour of its own (so two rules
// that both say {{.Colors.Accent}} still tell apart).
func themeSheet(t *testing.T) []contrast.Rule {
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
	rules, err := contrast.ParseCSS(css, true)
	if err != nil {
		t.Fatal(err)
	}
	// Premailer keeps media rules in a <style> block with every
	// declaration made !important, so that they beat the inline styles.
	for i, r := range rules {
		if r.Mode == "" {
			continue
		}
		decls := map[string]contrast.Decl{}
		for k, d := range r.Decls {
			d.Important = true
			decls[k] = d
		}
		rules[i].Decls = decls
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
	contrast.Walk(root, func(n *html.Node) {
		if n.Type == html.ElementNode {
			elems = append(elems, n)
		}
	})
	for _, mode := range contrast.Modes {
		for _, ru := range sheet {
			if ru.Mode != "" && ru.Mode != mode || ru.Mode == "" && mode == "dark" {
				continue // each rule is judged in the mode it is written for
			}
			for prop, d := range ru.Decls {
				matched, won := 0, false
				for _, n := range elems {
					if !contrast.MatchChain(ru.Chain, n) {
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
						mode, contrast.Selector(ru.Chain), prop, d.Value, matched)
				}
			}
		}
	}
}

// cascadedSheet is cascaded without the style attributes: which of the
// theme's own rules wins.
func cascadedSheet(n *html.Node, sheet []contrast.Rule, mode, prop string) (contrast.Decl, bool) {
	saved := n.Attr
	n.Attr = nil
	for _, a := range saved {
		if a.Key != "style" {
			n.Attr = append(n.Attr, a)
		}
	}
	defer func() { n.Attr = saved }()
	return contrast.Cascaded(n, sheet, mode, prop)
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
