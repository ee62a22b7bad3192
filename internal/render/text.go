package render

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/herald-news/herald/internal/model"
)

// textWidth is where plain-text paragraphs wrap. Words are never broken,
// and a URL always stands on a line of its own, so it stays whole and
// clickable and never glues itself to the words around it.
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
	w.wrapUnits(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' }), first, rest)
}

// wrapUnits writes units separated by single spaces, wrapped at textWidth,
// with first before the first line and rest before the others. A unit is
// never broken, even when it holds spaces ("Clara Voss in The Upland
// Review."), and a unit that is a URL gets a line of its own.
func (w *textWriter) wrapUnits(units []string, first, rest string) {
	cur, prefix := "", first
	flush := func() {
		if cur != "" {
			w.line(prefix + cur)
			cur, prefix = "", rest
		}
	}
	for _, u := range units {
		if u == "" {
			continue
		}
		if isURL(u) {
			flush()
			w.line(prefix + u)
			prefix = rest
			continue
		}
		if cur != "" && utf8.RuneCountInString(prefix)+utf8.RuneCountInString(cur)+1+utf8.RuneCountInString(u) > textWidth {
			flush()
		}
		if cur != "" {
			cur += " "
		}
		cur += u
	}
	flush()
}

// isURL reports whether a word is a web address, bare or in the angle
// brackets of a link ("<https://...>."), with any punctuation after it.
func isURL(word string) bool {
	word = strings.TrimLeft(word, "<(\"'")
	return strings.HasPrefix(word, "https://") || strings.HasPrefix(word, "http://")
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
	l := v.L
	tw.line(l.Plain("email.text.view_online", "URL", v.WebURL))
	tw.blank()
	tw.line(v.greetText)
	tw.blank()
	heroDone := false
	hero := func() {
		if e.Hero != nil && !heroDone {
			if v.HeroCredit != "" {
				tw.wrap(v.HeroCredit, "", "")
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
			if s.Title != "" {
				tw.heading(s.Title)
			}
			for _, c := range s.Cards {
				if c.Author != "" {
					tw.line(c.Author)
				}
				tw.wrap(c.Headline, "", "")
				tw.line(l.Plain("email.text.link", "Label", c.CTA, "URL", c.URL))
				tw.blank()
			}
		case model.KindBriefs:
			hero()
			if s.Title != "" {
				tw.heading(s.Title)
			}
			for _, b := range s.src.Briefs {
				tw.wrap("* "+b.Headline, "", "  ")
				mdText(b.Body, r.base, tw, "  ")
			}
		case model.KindPicks:
			hero()
			if s.Title != "" {
				tw.heading(s.Title)
			}
			for i, p := range s.Picks {
				mark := strconv.Itoa(i+1) + ". "
				pad := strings.Repeat(" ", len(mark))
				tw.wrapUnits(pickUnits(p, textWidth-len(pad)), mark, pad)
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
	if r.pub.AskFeedback {
		tw.blank()
		tw.wrap(l.Plain("feedback.text", "Ask", v.FeedbackAsk), "", "")
		tw.line(v.FeedbackURL)
	}
	tw.blank()
	tw.line("--")
	tw.wrap(l.Plain("email.footer_reason", "Publication", r.pub.Name), "", "")
	tw.line(l.Plain("email.text.unsubscribe", "URL", v.UnsubscribeURL))
	tw.line(l.Plain("email.text.preferences", "URL", v.PreferencesURL))
	if r.pub.PostalAddress != "" {
		tw.wrap(r.pub.PostalAddress, "", "")
	}
	return tw.b.String()
}

// pickUnits returns a pick's sentence as units for wrapUnits: the words of
// its title, then its credit ("reports Author in Publication.") in one
// piece when it fits in width, else the verb's words and "Author in
// Publication." in one piece, else word by word.
func pickUnits(p pickView, width int) []string {
	units := strings.Fields(p.Linked + strings.TrimRight(p.Joint, " "))
	cr := p.Credit + "."
	phrase := cr
	if p.Verb != "" {
		phrase = p.Verb + " " + cr
	}
	switch {
	case utf8.RuneCountInString(phrase) <= width:
		return append(units, phrase)
	case utf8.RuneCountInString(cr) <= width:
		return append(append(units, strings.Fields(p.Verb)...), cr)
	}
	return append(units, strings.Fields(phrase)...)
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
