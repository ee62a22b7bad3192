// Package render turns an edition into what readers get: an HTML email, a
// plain-text email, a web archive page, JSON and feed entries.
//
// Contract: an edition is rendered once (Renderer.Email, once per campaign)
// into an Email holding the finished HTML and text with placeholders for the
// per-subscriber fields; Email.AppendHTML and Email.AppendText then fill in
// a subscriber's fields by plain substitution, HTML-escaped in the HTML, with
// no template work and no allocation beyond the destination slice. An Email
// is immutable and safe for concurrent use. Plain text is rendered from the
// edition itself, never from the HTML. Editors' text is escaped; Markdown is
// rendered with goldmark and sanitised with bluemonday. Renderers refuse an
// edition that edition.Validate finds problems with.
//
// Themes: the default theme (theme/email.html and theme/web.html) is
// embedded; Options.ThemeDir may hold either file to override it, and a
// template that fails to parse or run is reported as a *ThemeError with its
// file and line.
package render

import (
	"bytes"
	"cmp"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/herald-news/herald/internal/edition"
	"github.com/herald-news/herald/internal/i18n"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/validator"
)

//go:embed theme/*.html
var defaultTheme embed.FS

// Theme template files.
const (
	EmailTemplate = "email.html"
	WebTemplate   = "web.html"
)

// Options adjust a Renderer. The zero value uses the default theme.
type Options struct {
	// ThemeDir is a folder whose email.html and web.html, when present,
	// replace the default theme's.
	ThemeDir string
	// ArchiveURL is the base of web archive URLs; an edition's page is
	// ArchiveURL + slug. Default: the publication's site URL + "/archive/".
	ArchiveURL string
	// NameFallback stands in for a subscriber without a name in a theme
	// that writes {{.Name}} itself. Default: the language's word for
	// "reader". The default theme's greeting has a form without a name.
	NameFallback string
}

// Renderer renders editions of one publication. It holds no mutable state
// and is safe for concurrent use.
type Renderer struct {
	pub      model.Publication
	opts     Options
	base     *url.URL
	colors   model.Colors
	email    *template.Template
	web      *template.Template
	emailSrc string // file the email template came from, for errors
	webSrc   string
	md       *markdown
}

// Branded returns the publication and render options as list l shows them
// (its brand, language and theme folder over the publication's); a nil l
// leaves them as they are.
func Branded(l *model.List, pub model.Publication, opts Options) (model.Publication, Options) {
	if l == nil {
		return pub, opts
	}
	if l.Brand != nil && l.Brand.ThemeDir != "" {
		opts.ThemeDir = l.Brand.ThemeDir
	}
	return l.Publication(pub), opts
}

// ThemeError reports a theme template that failed to parse or execute.
type ThemeError struct {
	File string // the template file, such as "themes/courier/email.html"
	Line int    // 0 when the template package gave none
	Msg  string
	Err  error
}

func (e *ThemeError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Unwrap returns the template package's error.
func (e *ThemeError) Unwrap() error { return e.Err }

var (
	tmplErrRE  = regexp.MustCompile(`^(?:html/)?template: ?([^:]+):(\d+):(?:\d+:)?\s*(.*)$`)
	defaultCol = validator.ThemeColors
)

// New returns a renderer for pub. It fails if the publication's site URL is
// not an absolute http(s) URL (every link in an email must be absolute) or if
// a custom theme template does not parse or does not render the sample
// defaultNameFallback greets a reader without a name when no other
// fallback is set.
const defaultNameFallback = "reader"

// edition.
func New(pub model.Publication, opts Options) (*Renderer, error) {
	base, err := url.Parse(pub.SiteURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("publication site URL %q must be an absolute http(s) URL", pub.SiteURL)
	}
	if pub.LogoURL != "" && !absHTTP(pub.LogoURL) {
		return nil, fmt.Errorf("publication logo URL %q must be an absolute http(s) URL", pub.LogoURL)
	}
	if opts.ArchiveURL == "" {
		opts.ArchiveURL = strings.TrimRight(pub.SiteURL, "/") + "/archive/"
	} else if !absHTTP(opts.ArchiveURL) {
		return nil, fmt.Errorf("archive URL %q must be an absolute http(s) URL", opts.ArchiveURL)
	}
	if pub.Language == "" {
		pub.Language = "en"
	}
	r := &Renderer{pub: pub, opts: opts, base: base, colors: defaultCol,
		md: &markdown{base: base, policy: newPolicy()}}
	for _, c := range []struct {
		in  string
		out *string
	}{{pub.Colors.Accent, &r.colors.Accent}, {pub.Colors.Text, &r.colors.Text}, {pub.Colors.Background, &r.colors.Background}} {
		if c.in == "" {
			continue
		}
		if !validator.IsColor(c.in) {
			return nil, fmt.Errorf("publication colour %q must be a CSS hex colour such as #9c2f1f", c.in)
		}
		*c.out = c.in
	}
	if opts.ThemeDir != "" {
		if err := checkThemeDir(opts.ThemeDir); err != nil {
			return nil, err
		}
	}
	if r.email, r.emailSrc, err = loadTemplate(opts.ThemeDir, EmailTemplate); err != nil {
		return nil, err
	}
	if r.web, r.webSrc, err = loadTemplate(opts.ThemeDir, WebTemplate); err != nil {
		return nil, err
	}
	if opts.ThemeDir != "" {
		if err := r.tryTheme(); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// checkThemeDir refuses a theme folder that is missing, a file, or holds
// neither template: a mistyped path must not quietly give the default theme.
func checkThemeDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("theme folder %q does not exist", dir)
	case err != nil:
		return fmt.Errorf("theme folder %q: %w", dir, err)
	case !fi.IsDir():
		return fmt.Errorf("theme folder %q is a file, not a folder", dir)
	}
	for _, name := range []string{EmailTemplate, WebTemplate} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return nil
		}
	}
	return fmt.Errorf("theme folder %q holds neither %s nor %s", dir, EmailTemplate, WebTemplate)
}

// loadTemplate parses name from dir when it is there, else from the
// embedded default theme.
func loadTemplate(dir, name string) (*template.Template, string, error) {
	src, file := []byte(nil), "default theme "+name
	if dir != "" {
		path := filepath.Join(dir, name)
		b, err := os.ReadFile(path)
		switch {
		case err == nil:
			src, file = b, path
		case !errors.Is(err, fs.ErrNotExist):
			return nil, "", fmt.Errorf("read theme template: %w", err)
		}
	}
	if src == nil {
		b, err := defaultTheme.ReadFile("theme/" + name)
		if err != nil {
			return nil, "", fmt.Errorf("default theme: %w", err)
		}
		src = b
	}
	t, err := template.New(name).Funcs(funcs).Parse(string(src))
	if err != nil {
		return nil, "", themeError(file, err)
	}
	return t, file, nil
}

// themeError turns a template error into a *ThemeError naming file and line.
func themeError(file string, err error) error {
	te := &ThemeError{File: file, Msg: err.Error(), Err: err}
	if m := tmplErrRE.FindStringSubmatch(err.Error()); m != nil {
		te.Line, _ = strconv.Atoi(m[2])
		te.Msg = m[3]
	}
	return te
}

var funcs = template.FuncMap{
	"sentence": sentence,
}

// tryTheme renders the sample edition's shape so a custom template's
// execution errors show up when the renderer is built, not mid-campaign.
func (r *Renderer) tryTheme() error {
	e := &model.Edition{Slug: "theme-check", Date: "2025-01-01", Slot: model.SlotMorning,
		Subject: "Theme check", Preheader: "Checking the theme",
		Hero: &model.Image{URL: r.pub.SiteURL + "/hero.jpg", Alt: "A picture", Credit: "Credit"},
		Sections: []model.Section{
			{Kind: model.KindLead, Lead: &model.Lead{Headline: "Lead", Body: "Body with a [link](https://example.org/).",
				Byline: model.Byline{Name: "A Writer", Role: "Editor"}}},
			{Kind: model.KindCards, Cards: []model.Card{{Author: "A", Headline: "Card", URL: "https://example.org/c", CTA: "Read"}}},
			{Kind: model.KindBriefs, Briefs: []model.Brief{{Headline: "Brief", Body: "Body."}}},
			{Kind: model.KindPicks, Picks: []model.Pick{{Title: "Pick", Author: "B", Publication: "P", URL: "https://example.org/p"}}},
			{Kind: model.KindText, Text: &model.Text{Body: "Text."}},
		}}
	if _, err := r.Email(e); err != nil {
		return err
	}
	_, err := r.Web(e)
	return err
}

// view is what the templates see.
type view struct {
	Pub      model.Publication
	Colors   model.Colors
	Ink      string // the label colour on the accent (buttons): black or white, whichever reads
	Edition  *model.Edition
	L        *i18n.Localizer // the edition's language: Herald's words, lang and dir
	Dateline string          // "Thursday 13 March 2025 · Evening"
	Greeting string          // "Good evening"
	// GreetingLine is the whole greeting, with and without the reader's
	// name ("Good evening, Ada." or "Good evening, reader."): in an Email,
	// placeholders pick the form per subscriber.
	GreetingLine template.HTML
	// FeedbackAsk and FeedbackRatings are the feedback line's words (when
	// the publication asks for feedback): the question, then the ratings
	// from feedback.Great down to feedback.Poor.
	FeedbackAsk     string
	FeedbackRatings [3]string
	Hero            *model.Image
	HeroCredit      string // the hero's credit with its prefix ("Photo: ..."); "" when none
	Sections        []sectionView
	ArchiveURL      string   // this edition's web page
	Links           WebLinks // the web page's navigation and subscribe prompt

	// Per-subscriber fields: placeholders in an Email, empty on the web.
	Name, UnsubscribeURL, PreferencesURL, WebURL, FeedbackURL string

	greetKeys [3]string // the greeting's catalog keys: see greetingKeys
	greetText string    // GreetingLine for the plain text
}

type sectionView struct {
	L      *i18n.Localizer
	Kind   model.SectionKind
	Title  string
	Lead   *leadView
	Cards  []model.Card
	Briefs []briefView
	Picks  []pickView
	Text   template.HTML
	src    model.Section
}

// Heading is the section's visible heading on the web page: the lead's
// headline, or the section's title; "" when it shows none.
func (s sectionView) Heading() string {
	if s.Kind == model.KindLead {
		if s.Lead == nil {
			return ""
		}
		return s.Lead.Headline
	}
	return s.Title
}

type leadView struct {
	Headline string
	Body     template.HTML
	Byline   model.Byline
}

type briefView struct {
	Headline string
	Body     template.HTML
}

// pickView is a pick as a sentence: the linked title, what joins it to the
// credit, then the credit ("Title." + " " + "Author in Publication.", or
// "Title" + ", " + "reports Publication.").
type pickView struct {
	model.Pick
	Linked string // the title as linked, with its full stop in the plain form
	Joint  string // between the link and the credit: " " or ", "
	// Credit is "Author in Publication" (or the publication alone) in the
	// edition's language: plain, and as HTML with the publication in <em>
	// (email) or <cite> (web).
	Credit               string
	CreditEm, CreditCite template.HTML
}

func newPickView(p model.Pick, l *i18n.Localizer) pickView {
	pv := pickView{Pick: p, Linked: sentence(p.Title), Joint: " "}
	if p.Verb != "" {
		// "Title, reports X." but "Are we ready? asks X.": a question or
		// exclamation takes no comma, and a full stop gives way to it.
		t := strings.TrimSuffix(strings.TrimSpace(p.Title), ".")
		pv.Linked, pv.Joint = t, ", "
		if strings.HasSuffix(t, "?") || strings.HasSuffix(t, "!") || strings.HasSuffix(t, "…") {
			pv.Joint = " "
		}
	}
	in := func(tag string) template.HTML {
		pub := template.HTML("<" + tag + ">" + template.HTMLEscapeString(p.Publication) + "</" + tag + ">")
		if p.Author == "" {
			return pub
		}
		return l.HTML("pick.credit", "Author", p.Author, "Publication", pub)
	}
	pv.CreditEm, pv.CreditCite = in("em"), in("cite")
	pv.Credit = l.Isolate(p.Publication)
	if p.Author != "" {
		pv.Credit = l.Plain("pick.credit", "Author", p.Author, "Publication", p.Publication)
	}
	return pv
}

// fallbackTitles are the catalog keys of the titles used when neither the
// edition nor the publication titles a section.
var fallbackTitles = map[model.SectionKind]string{
	model.KindCards:  "section.cards",
	model.KindBriefs: "section.briefs",
	model.KindPicks:  "section.picks",
}

// greetingKeys are the catalog keys of a slot's greeting: the word alone
// (for themes that write "{{.Greeting}}, {{.Name}}."), the line with a
// name and the line without.
var greetingKeys = map[model.Slot][3]string{
	model.SlotMorning: {"greeting.morning", "greeting.morning_named", "greeting.morning_anonymous"},
	model.SlotMidday:  {"greeting.midday", "greeting.midday_named", "greeting.midday_anonymous"},
	model.SlotEvening: {"greeting.evening", "greeting.evening_named", "greeting.evening_anonymous"},
	"":                {"greeting.default", "greeting.default_named", "greeting.default_anonymous"},
}

// feedbackAsk returns the catalog key of the feedback line's question for
// a slot ("How was tonight's briefing?").
func feedbackAsk(slot model.Slot) string {
	switch slot {
	case model.SlotMorning:
		return "feedback.ask_morning"
	case model.SlotEvening:
		return "feedback.ask_evening"
	}
	return "feedback.ask_default"
}

// language is the language e is rendered in: its own, else the
// publication's.
func (r *Renderer) language(e *model.Edition) *i18n.Localizer {
	return i18n.For(cmp.Or(e.Language, r.pub.Language))
}

// view validates e and prepares what the templates and the text renderer
// need.
func (r *Renderer) view(e *model.Edition, heroWidth int) (*view, error) {
	if ps := edition.Validate(e); len(ps) > 0 {
		return nil, fmt.Errorf("edition %q cannot be rendered: %w", e.Slug, ps)
	}
	l := r.language(e)
	v := &view{Pub: r.pub, Colors: r.colors, Ink: validator.Ink(r.colors.Accent), Edition: e, L: l,
		FeedbackRatings: [3]string{l.T("feedback.great"), l.T("feedback.fine"), l.T("feedback.poor")},
		ArchiveURL:      r.opts.ArchiveURL + url.PathEscape(e.Slug), Links: webLinks(r.opts.ArchiveURL)}
	keys, ok := greetingKeys[e.Slot]
	if !ok {
		keys = greetingKeys[""]
	}
	v.Greeting, v.greetKeys = l.T(keys[0]), keys
	v.FeedbackAsk = l.T(feedbackAsk(e.Slot))
	v.Dateline = l.Dateline(e.Date, string(e.Slot))
	if e.Hero != nil {
		h := *e.Hero
		if h.Width == 0 || h.Width > heroWidth {
			h.Width = heroWidth
		}
		v.Hero = &h
		v.HeroCredit = h.CreditLine(l.Or("credit.prefix", r.pub.CreditPrefix))
	}
	for _, s := range e.Sections {
		sv := sectionView{Kind: s.Kind, Title: s.Title, src: s, L: l}
		if sv.Title == "" && !s.NoTitle {
			sv.Title = r.pub.DefaultTitle(s.Kind)
		}
		if key, ok := fallbackTitles[s.Kind]; ok && sv.Title == "" && !s.NoTitle {
			sv.Title = l.T(key)
		}
		var err error
		switch s.Kind {
		case model.KindLead:
			// The lead's title is a kicker over its headline: with no
			// headline the story starts at once, under no heading at all.
			if s.Lead.Headline == "" {
				sv.Title = ""
			}
			lv := &leadView{Headline: s.Lead.Headline, Byline: s.Lead.Byline}
			lv.Body, err = r.md.html(s.Lead.Body)
			sv.Lead = lv
		case model.KindCards:
			for _, c := range s.Cards {
				if c.CTA == "" {
					c.CTA = l.T("card.cta")
				}
				sv.Cards = append(sv.Cards, c)
			}
		case model.KindBriefs:
			for _, b := range s.Briefs {
				bv := briefView{Headline: b.Headline}
				if bv.Body, err = r.md.html(b.Body); err != nil {
					break
				}
				sv.Briefs = append(sv.Briefs, bv)
			}
		case model.KindPicks:
			for _, p := range s.Picks {
				sv.Picks = append(sv.Picks, newPickView(p, l))
			}
		case model.KindText:
			sv.Text, err = r.md.html(s.Text.Body)
		}
		if err != nil {
			return nil, fmt.Errorf("render Markdown: %w", err)
		}
		v.Sections = append(v.Sections, sv)
	}
	return v, nil
}

// execute runs a theme template and reports failures with file and line.
func execute(t *template.Template, file string, name string, v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, v); err != nil {
		return nil, themeError(file, err)
	}
	return buf.Bytes(), nil
}

func absHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
