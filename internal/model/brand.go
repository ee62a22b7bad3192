package model

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
