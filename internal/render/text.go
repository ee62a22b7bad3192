package render

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/herald-news/herald/internal/model"
)

// textWidth is where plain-text paragraphs wrap. Words are never broken, so
// a long URL stays whole on a line of its own.
const textWidth = 72

// textWriter accumulates plain-text lines with at most one blank line
// between blocks.
type textWriter struct {
	b       strings.Builder
	pending bool // a blank line is owed before the next line
	started bool
}

func (w *textWriter) line(s string) {
	if w.pending && w.started {
		w.b.WriteByte('\n')
	}
	w.pending = false
	w.started = true
	w.b.WriteString(strings.TrimRight(s, " "))
	w.b.WriteByte('\n')
}

func (w *textWriter) blank()   { w.pending = true }
func (w *textWriter) unblank() { w.pending = false }

// wrap writes s as a paragraph wrapped at textWidth, with first before its
// first line and rest before the others.
func (w *textWriter) wrap(s, first, rest string) {
	words := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' })
	if len(words) == 0 {
		return
	}
	cur := first + words[0]
	n := utf8.RuneCountInString(cur)
	for _, word := range words[1:] {
		wn := utf8.RuneCountInString(word)
		if n+1+wn > textWidth {
			w.line(cur)
			cur, n = rest+word, utf8.RuneCountInString(rest)+wn
			continue
		}
		cur += " " + word
		n += 1 + wn
	}
	w.line(cur)
}

// heading writes a section title in capitals, underlined.
func (w *textWriter) heading(title string) {
	title = strings.ToUpper(strings.TrimSpace(title))
	w.blank()
	w.line(title)
	w.line(strings.Repeat("-", utf8.RuneCountInString(title)))
	w.blank()
}

// text renders the plain-text email from the edition itself. Personal
// fields are the placeholders in v.
func (r *Renderer) text(v *view) string {
	e := v.Edition
	tw := &textWriter{}
	tw.line(strings.ToUpper(r.pub.Name))
	tw.line(v.Dateline)
	tw.blank()
	tw.line("View this edition in your browser: " + v.WebURL)
	tw.blank()
	tw.line(v.Greeting + ", " + v.Name + ".")
	tw.blank()
	heroDone := false
	hero := func() {
		if e.Hero != nil && !heroDone {
			if e.Hero.Credit != "" {
				tw.wrap("Photo: "+e.Hero.Credit, "", "")
				tw.blank()
			}
		}
		heroDone = true
	}
	for _, s := range v.Sections {
		switch s.Kind {
		case model.KindLead:
			if s.Title != "" {
				tw.heading(s.Title)
			}
			hero()
			l := s.src.Lead
			if l.Headline != "" {
				tw.wrap(strings.ToUpper(l.Headline), "", "")
				tw.blank()
			}
			mdText(l.Body, r.base, tw, "")
			if l.Byline.Name != "" {
				tw.line(l.Byline.Name)
				if l.Byline.Role != "" {
					tw.line(l.Byline.Role)
				}
				tw.blank()
			}
		case model.KindCards:
			hero()
			tw.heading(s.Title)
			for _, c := range s.Cards {
				if c.Author != "" {
					tw.line(c.Author)
				}
				tw.wrap(c.Headline, "", "")
				tw.line(c.CTA + ": " + c.URL)
				tw.blank()
			}
		case model.KindBriefs:
			hero()
			tw.heading(s.Title)
			for _, b := range s.src.Briefs {
				tw.wrap("* "+b.Headline, "", "  ")
				mdText(b.Body, r.base, tw, "  ")
			}
		case model.KindPicks:
			hero()
			tw.heading(s.Title)
			for i, p := range s.src.Picks {
				mark := strconv.Itoa(i+1) + ". "
				pad := strings.Repeat(" ", len(mark))
				tw.wrap(sentence(p.Title)+" "+credit(p)+".", mark, pad)
				tw.line(pad + p.URL)
				tw.blank()
			}
		case model.KindText:
			hero()
			if s.Title != "" {
				tw.heading(s.Title)
			}
			mdText(s.src.Text.Body, r.base, tw, "")
		}
	}
	tw.blank()
	tw.line("--")
	tw.wrap("You are receiving this because you subscribed to "+r.pub.Name+".", "", "")
	tw.line("Unsubscribe: " + v.UnsubscribeURL)
	tw.line("Manage your preferences: " + v.PreferencesURL)
	if r.pub.PostalAddress != "" {
		tw.wrap(r.pub.PostalAddress, "", "")
	}
	return tw.b.String()
}

// credit returns "Author in Publication", or the publication alone.
func credit(p model.Pick) string {
	if p.Author == "" {
		return p.Publication
	}
	return p.Author + " in " + p.Publication
}

// sentence ends s with a full stop unless it already ends a sentence.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s[len(s)-1:], ".?!…") || strings.HasSuffix(s, "…") {
		return s
	}
	return s + "."
}

func itoa(n int) string { return strconv.Itoa(n) }
