package render

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html/template"
	"slices"

	"github.com/vanng822/go-premailer/premailer"
	"golang.org/x/net/html"

	"github.com/herald-news/herald/internal/model"
)

// Fields are one subscriber's values for an Email's placeholders. URLs must
// be absolute http(s) URLs built by Herald; they are HTML-escaped in the
// HTML, not checked.
type Fields struct {
	Name           string // empty: Options.NameFallback
	UnsubscribeURL string
	PreferencesURL string
	WebURL         string // this edition on the web, possibly tracked
	// FeedbackURL is the reader's page for rating the edition; the email
	// links to it with ?r=1 to 3 when the publication asks for feedback.
	FeedbackURL string
	// Click, Open and Hidden are the reader's tracking URLs in an Email
	// made by Track: the start of every tracked link (the link's own
	// address follows it, query-escaped), the open pixel, and the hidden
	// link.
	Click, Open, Hidden string
}

// field names a placeholder.
type field uint8

const (
	fieldNone field = iota
	fieldName
	fieldUnsubscribe
	fieldPreferences
	fieldWeb
	fieldFeedback
	fieldClick
	fieldOpen
	fieldHidden
	// What lies between fieldIfAnonymous or fieldIfNamed and fieldEndIf
	// is kept only for a subscriber without a name, or with one: the
	// greeting has a form for each.
	fieldIfAnonymous
	fieldIfNamed
	fieldEndIf
)

// placeholder codes follow the per-render prefix in the rendered output.
var fieldCodes = map[byte]field{'n': fieldName, 'u': fieldUnsubscribe, 'p': fieldPreferences, 'w': fieldWeb, 'f': fieldFeedback,
	'a': fieldIfAnonymous, 'b': fieldIfNamed, 'e': fieldEndIf, 'c': fieldClick, 'o': fieldOpen, 'h': fieldHidden}

// Email is an edition rendered for mail, with placeholders for the
// per-subscriber fields. It is immutable and safe for concurrent use.
type Email struct {
	subject   string
	preheader string
	html      compiled
	text      compiled
	links     []string
	fallback  string
	prefix    string // placeholder prefix, kept so a frozen copy can be thawed
	lang      string // the language it was rendered in; "" when thawed
}

// compiled is rendered output split at its placeholders.
type compiled struct {
	buf    []byte
	parts  []part // each literal is followed by a field (fieldNone for the last)
	escape bool   // HTML-escape field values
}

type part struct {
	start, end int
	f          field
}

// Email renders e for mail, once per campaign. It fails with
// edition.Problems if e is not valid, or with a *ThemeError.
func (r *Renderer) Email(e *model.Edition) (*Email, error) {
	v, err := r.view(e, 600)
	if err != nil {
		return nil, err
	}
	var nonce [8]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, fmt.Errorf("placeholder nonce: %w", err)
	}
	// The prefix is random per render, so no text an editor types can
	// collide with a placeholder. Letters and digits only: it survives HTML,
	// URL and CSS escaping unchanged.
	prefix := "hrld" + hex.EncodeToString(nonce[:])
	v.Name, v.UnsubscribeURL, v.PreferencesURL, v.WebURL, v.FeedbackURL = prefix+"n", prefix+"u", prefix+"p", prefix+"w", prefix+"f"
	l, named, anon := v.L, v.greetKeys[1], v.greetKeys[2]
	v.GreetingLine = template.HTML(prefix+"a") + l.HTML(anon) + template.HTML(prefix+"b") +
		l.HTML(named, "Name", template.HTML(prefix+"n")) + template.HTML(prefix+"e")
	v.greetText = prefix + "a" + l.T(anon) + prefix + "b" + l.Plain(named, "Name", prefix+"n") + prefix + "e"

	raw, err := execute(r.email, r.emailSrc, EmailTemplate, v)
	if err != nil {
		return nil, err
	}
	pm, err := premailer.NewPremailerFromBytes(raw, premailer.NewOptions())
	if err != nil {
		return nil, fmt.Errorf("inline CSS: %w", err)
	}
	inlined, err := pm.Transform()
	if err != nil {
		return nil, fmt.Errorf("inline CSS: %w", err)
	}
	m := &Email{
		subject:   e.Subject,
		preheader: e.Preheader,
		html:      compile([]byte(inlined), prefix, true),
		text:      compile([]byte(r.text(v)), prefix, false),
		links:     links([]byte(inlined)),
		fallback:  cmp.Or(r.opts.NameFallback, l.T("email.reader")),
		prefix:    prefix,
		lang:      l.Lang(),
	}
	return m, nil
}

// compile splits out at every placeholder.
func compile(out []byte, prefix string, escape bool) compiled {
	c := compiled{buf: out, escape: escape}
	p := []byte(prefix)
	start := 0
	for i := 0; len(p) > 0; { // no prefix: nothing to fill in
		j := bytes.Index(out[i:], p)
		if j < 0 || i+j+len(p) >= len(out) {
			break
		}
		at := i + j
		f, ok := fieldCodes[out[at+len(p)]]
		if !ok {
			i = at + len(p)
			continue
		}
		c.parts = append(c.parts, part{start: start, end: at, f: f})
		start = at + len(p) + 1
		i = start
	}
	c.parts = append(c.parts, part{start: start, end: len(out), f: fieldNone})
	return c
}

// Language returns the BCP 47 tag of the language the email was rendered
// in, "" for a thawed copy.
func (m *Email) Language() string { return m.lang }

// Subject returns the edition's subject line.
func (m *Email) Subject() string { return m.subject }

// Preheader returns the edition's preheader text.
func (m *Email) Preheader() string { return m.preheader }

// Links returns every absolute http(s) URL readers can follow in the HTML,
// once each, in order: the click-redirect allowlist for the campaign.
// Per-subscriber URLs are not included.
func (m *Email) Links() []string { return slices.Clone(m.links) }

// HTMLSize returns the size of the HTML before personalisation.
func (m *Email) HTMLSize() int { return len(m.html.buf) }

// AppendHTML appends the HTML with f filled in, HTML-escaped.
func (m *Email) AppendHTML(dst []byte, f Fields) []byte {
	return m.html.append(dst, &f, m.fallback)
}

// AppendText appends the plain text with f filled in.
func (m *Email) AppendText(dst []byte, f Fields) []byte {
	return m.text.append(dst, &f, m.fallback)
}

func (c *compiled) append(dst []byte, f *Fields, fallback string) []byte {
	name := nameFor(f, fallback)
	dst = slices.Grow(dst, len(c.buf)+2*(len(name)+len(f.UnsubscribeURL)+len(f.PreferencesURL)+len(f.WebURL))+4*len(f.FeedbackURL)+
		16*len(f.Click)+len(f.Open)+len(f.Hidden)+64)
	return c.fill(dst, 0, len(c.parts), false, f, name)
}

// nameFor is the name a reader is greeted by.
func nameFor(f *Fields, fallback string) string {
	name := f.Name
	if name == "" {
		name = fallback
	}
	if name == "" {
		name = defaultNameFallback // never "Good evening, ."
	}
	return name
}

// fill appends parts[from:to] filled in for f: each part's literal (but
// the first's when hole is set: a Cut's hole starts at a field) and field.
func (c *compiled) fill(dst []byte, from, to int, hole bool, f *Fields, name string) []byte {
	skip := false // inside the greeting form this subscriber does not get
	for i := from; i < to; i++ {
		p := c.parts[i]
		if !skip && !(hole && i == from) {
			dst = append(dst, c.buf[p.start:p.end]...)
		}
		var v string
		switch p.f {
		case fieldIfAnonymous:
			skip = f.Name != ""
			continue
		case fieldIfNamed:
			skip = f.Name == ""
			continue
		case fieldEndIf:
			skip = false
			continue
		}
		if skip {
			continue
		}
		switch p.f {
		case fieldNone:
			continue
		case fieldName:
			v = name
		case fieldUnsubscribe:
			v = f.UnsubscribeURL
		case fieldPreferences:
			v = f.PreferencesURL
		case fieldWeb:
			v = f.WebURL
		case fieldFeedback:
			v = f.FeedbackURL
		case fieldClick:
			v = f.Click
		case fieldOpen:
			v = f.Open
		case fieldHidden:
			v = f.Hidden
		}
		dst = appendValue(dst, v, c.escape)
	}
	return dst
}

// Track returns a copy of m whose HTML is rewrite's rewrite of it, done
// once: rewrite gets placeholders for the reader's click, open and hidden
// URLs (letters and digits, so escaping keeps them), which the copy fills
// in from Fields.Click, Open and Hidden, HTML-escaped. The copy's HTML for
// a reader is then rewrite's for the reader's HTML and URLs, as long as
// rewrite treats the placeholders as it would treat the URLs (and no
// rewritten place holds another placeholder).
func (m *Email) Track(rewrite func(html []byte, click, open, hidden string) []byte) *Email {
	c := *m
	c.html = compile(rewrite(m.html.buf, m.prefix+"c", m.prefix+"o", m.prefix+"h"), m.prefix, true)
	return &c
}

// Cut is one part of an Email (its HTML or its text) cut where readers'
// copies differ: Static returns the runs every reader gets, and hole i,
// between run i and run i+1, is filled per reader by AppendHole. A
// greeting with a form for readers with and without a name is one hole.
type Cut struct {
	c        *compiled
	holes    [][2]int // parts [from, to) of each hole
	static   [][]byte
	fallback string
}

// CutHTML cuts the HTML.
func (m *Email) CutHTML() Cut { return m.cut(&m.html) }

// CutText cuts the plain text.
func (m *Email) CutText() Cut { return m.cut(&m.text) }

func (m *Email) cut(c *compiled) Cut {
	k := Cut{c: c, fallback: m.fallback}
	var run []byte
	for i := 0; i < len(c.parts); {
		p := c.parts[i]
		run = append(run, c.buf[p.start:p.end]...)
		if p.f == fieldNone { // the last part
			i++
			continue
		}
		k.static = append(k.static, run)
		run = nil
		to := i + 1
		if p.f == fieldIfAnonymous || p.f == fieldIfNamed {
			for to < len(c.parts) && c.parts[to-1].f != fieldEndIf {
				to++
			}
		}
		k.holes = append(k.holes, [2]int{i, to})
		i = to // its literal starts the next run
	}
	k.static = append(k.static, run)
	return k
}

// Static returns the runs every reader gets, one more than the holes.
func (k Cut) Static() [][]byte { return k.static }

// AppendHole appends hole i filled in for f, HTML-escaped in the HTML.
func (k Cut) AppendHole(dst []byte, i int, f *Fields) []byte {
	h := k.holes[i]
	return k.c.fill(dst, h[0], h[1], true, f, nameFor(f, k.fallback))
}

// appendValue appends v, HTML-escaped when escape is set, with control
// characters (a line break in a name, say) turned into spaces.
func appendValue(dst []byte, v string, escape bool) []byte {
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c < 0x20 || c == 0x7f:
			dst = append(dst, ' ')
		case !escape:
			dst = append(dst, c)
		case c == '&':
			dst = append(dst, "&amp;"...)
		case c == '<':
			dst = append(dst, "&lt;"...)
		case c == '>':
			dst = append(dst, "&gt;"...)
		case c == '"':
			dst = append(dst, "&#34;"...)
		case c == '\'':
			dst = append(dst, "&#39;"...)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// links returns the absolute http(s) targets of the document's links.
func links(doc []byte) []string {
	var out []string
	seen := map[string]bool{}
	z := html.NewTokenizer(bytes.NewReader(doc))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return out
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			if string(name) != "a" {
				continue
			}
			for hasAttr {
				var k, val []byte
				k, val, hasAttr = z.TagAttr()
				if string(k) == "href" && absHTTP(string(val)) && !seen[string(val)] {
					seen[string(val)] = true
					out = append(out, string(val))
				}
			}
		}
	}
}
