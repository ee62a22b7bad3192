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
	// What lies between fieldIfAnonymous or fieldIfNamed and fieldEndIf
	// is kept only for a subscriber without a name, or with one: the
	// greeting has a form for each.
	fieldIfAnonymous
	fieldIfNamed
	fieldEndIf
)

// placeholder codes follow the per-render prefix in the rendered output.
var fieldCodes = map[byte]field{'n': fieldName, 'u': fieldUnsubscribe, 'p': fieldPreferences, 'w': fieldWeb, 'f': fieldFeedback,
	'a': fieldIfAnonymous, 'b': fieldIfNamed, 'e': fieldEndIf}

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
	name := f.Name
	if name == "" {
		name = fallback
	}
	if name == "" {
		name = defaultNameFallback // never "Good evening, ."
	}
	dst = slices.Grow(dst, len(c.buf)+2*(len(name)+len(f.UnsubscribeURL)+len(f.PreferencesURL)+len(f.WebURL))+4*len(f.FeedbackURL)+64)
	skip := false // inside the greeting form this subscriber does not get
	for _, p := range c.parts {
		if !skip {
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
		}
		dst = appendValue(dst, v, c.escape)
	}
	return dst
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
