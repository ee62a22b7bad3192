package render

import "github.com/herald-news/herald/internal/model"

// Freeze returns the rendered email in the form a campaign keeps when it
// starts, so delivery never renders (or reads the edition) again.
func (m *Email) Freeze() model.Frozen {
	return model.Frozen{
		Subject: m.subject,
		Prefix:  m.prefix,
		HTML:    m.html.buf,
		Text:    m.text.buf,
		Links:   m.Links(),
	}
}

// Thaw rebuilds an Email from a frozen campaign copy. nameFallback stands in
// for subscribers without a name.
func Thaw(f model.Frozen, nameFallback string) *Email {
	return &Email{
		subject:  f.Subject,
		html:     compile(f.HTML, f.Prefix, true),
		text:     compile(f.Text, f.Prefix, false),
		links:    f.Links,
		fallback: nameFallback,
		prefix:   f.Prefix,
	}
}
