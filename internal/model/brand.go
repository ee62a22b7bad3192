package model

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
)

// Brand is a list's own identity: every email, archive page, feed and
// public page of the list shows it. An empty field takes the publication's.
type Brand struct {
	Name          string `json:"name,omitempty"`     // the publication name readers see
	LogoURL       string `json:"logo_url,omitempty"` // absolute http(s) URL
	Colors        Colors `json:"colors,omitzero"`
	ThemeDir      string `json:"theme_dir,omitempty"` // a theme folder on the server, as the theme setting
	From          string `json:"from,omitempty"`      // "Name <address>" of its campaigns and mails
	ReplyTo       string `json:"reply_to,omitempty"`  // a bare address
	PostalAddress string `json:"postal_address,omitempty"`
}

// ErrBrand is wrapped by Brand.Check's errors.
var ErrBrand = errors.New("invalid brand")

var hexColorRE = regexp.MustCompile(`^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$`)

// Check reports the first field of b that cannot work, in words for the
// person who typed it: colours are CSS hex values, the logo an absolute
// http(s) URL, From an address with or without a name, Reply-To a bare
// address, and every field one line.
func (b *Brand) Check() error {
	if b == nil {
		return nil
	}
	for _, f := range []struct{ what, v string }{{"name", b.Name}, {"logo URL", b.LogoURL}, {"theme folder", b.ThemeDir},
		{"From", b.From}, {"Reply-To", b.ReplyTo}, {"footer address", b.PostalAddress}} {
		if strings.ContainsAny(f.v, "\r\n") {
			return fmt.Errorf("%w: the brand's %s must fit on one line", ErrBrand, f.what)
		}
	}
	for _, c := range []struct{ what, v string }{{"accent", b.Colors.Accent}, {"text", b.Colors.Text}, {"background", b.Colors.Background}} {
		if c.v != "" && !hexColorRE.MatchString(c.v) {
			return fmt.Errorf("%w: the brand's %s colour %q is not a hex value such as #9c2f1f", ErrBrand, c.what, c.v)
		}
	}
	if b.LogoURL != "" {
		if u, err := url.Parse(b.LogoURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%w: the brand's logo %q is not an absolute http(s) URL", ErrBrand, b.LogoURL)
		}
	}
	if b.From != "" {
		if _, err := mail.ParseAddress(b.From); err != nil {
			return fmt.Errorf("%w: the brand's From %q should look like: Le Soir <soir@example.org>", ErrBrand, b.From)
		}
	}
	if b.ReplyTo != "" {
		if a, err := mail.ParseAddress(b.ReplyTo); err != nil || a.Name != "" {
			return fmt.Errorf("%w: the brand's Reply-To %q is not a bare email address such as letters@example.org", ErrBrand, b.ReplyTo)
		}
	}
	return nil
}

// IsZero reports whether b sets nothing.
func (b Brand) IsZero() bool { return b == Brand{} }

// Apply returns pub as the brand shows it: b's fields over pub's. A nil
// brand leaves pub as it is.
func (b *Brand) Apply(pub Publication) Publication {
	if b == nil {
		return pub
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&pub.Name, b.Name)
	set(&pub.LogoURL, b.LogoURL)
	set(&pub.Colors.Accent, b.Colors.Accent)
	set(&pub.Colors.Text, b.Colors.Text)
	set(&pub.Colors.Background, b.Colors.Background)
	set(&pub.PostalAddress, b.PostalAddress)
	return pub
}

// Publication returns pub as list l shows it: its brand and its language.
func (l *List) Publication(pub Publication) Publication {
	pub = l.Brand.Apply(pub)
	if l.Language != "" {
		pub.Language = l.Language
	}
	return pub
}
