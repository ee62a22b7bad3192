package validator

import (
	"net/mail"
	"net/url"
	"regexp"
	"strings"

	"github.com/herald-news/herald/internal/address"
	"github.com/herald-news/herald/internal/i18n"
	"github.com/herald-news/herald/internal/model"
)

// slugRule is the one shape of a list's slug (and of other URL names):
// lower-case letters, digits and dashes, at most 63, not starting with a
// dash.
var slugRule = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// SlugRule says the slug rule in words, for messages.
const SlugRule = "lower-case letters, digits and dashes (at most 63), starting with a letter or digit"

// IsSlug reports whether s keeps the slug rule.
func IsSlug(s string) bool { return slugRule.MatchString(s) }

// List checks a list before it is stored: a slug that keeps the slug rule,
// a name on one line, a known opt-in (empty is single), a language Herald
// has a catalog for (empty is the publication's) and a brand that can work
// (Brand).
func List(l *model.List) error {
	if _, err := i18n.Check(l.Language); err != nil {
		return fieldError("language", "%s", sentence(strings.TrimPrefix(err.Error(), i18n.ErrLanguage.Error()+": ")))
	}
	if err := Brand(l.Brand); err != nil {
		return err
	}
	switch {
	case !IsSlug(l.Slug):
		return fieldError("slug", "A list's slug is %s; %q is not.", SlugRule, l.Slug)
	case strings.TrimSpace(l.Name) == "":
		return fieldError("name", "Give the list a name.")
	case !OneLine(l.Name):
		return fieldError("name", "The list name must fit on one line.")
	case l.OptIn != "" && l.OptIn != model.OptInSingle && l.OptIn != model.OptInDouble:
		return fieldError("opt_in", "Opt-in is single or double, not %q.", l.OptIn)
	}
	return nil
}

// Brand checks a list's brand (nil is none): every field on one line,
// colours that are CSS hex values, a logo at an absolute http(s) URL, a From
// with or without a display name and a Reply-To that is a bare address.
// Fields are named "brand_<field>", as the admin's form and the API's
// brand object spell them.
func Brand(b *model.Brand) error {
	if b == nil {
		return nil
	}
	for _, f := range []struct{ field, what, v string }{{"brand_name", "name", b.Name}, {"brand_logo", "logo URL", b.LogoURL},
		{"brand_theme", "theme folder", b.ThemeDir}, {"brand_from", "From", b.From}, {"brand_reply_to", "Reply-To", b.ReplyTo},
		{"brand_address", "footer address", b.PostalAddress}} {
		if !OneLine(f.v) {
			return fieldError(f.field, "The brand's %s must fit on one line.", f.what)
		}
	}
	for _, c := range []struct{ field, what, v string }{{"brand_accent", "accent", b.Colors.Accent}, {"brand_text", "text", b.Colors.Text},
		{"brand_background", "background", b.Colors.Background}} {
		if c.v != "" && !IsColor(c.v) {
			return fieldError(c.field, "The brand's %s colour %q is not a hex value such as #9c2f1f.", c.what, c.v)
		}
	}
	if u, err := url.Parse(b.LogoURL); b.LogoURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		return fieldError("brand_logo", "The brand's logo %q is not an absolute http(s) URL.", b.LogoURL)
	}
	if b.From != "" {
		if _, err := mail.ParseAddress(b.From); err != nil {
			return fieldError("brand_from", "The brand's From should look like: Le Soir <soir@example.org>.")
		}
	}
	if b.ReplyTo != "" {
		if _, err := address.Normalize(b.ReplyTo); err != nil {
			return fieldError("brand_reply_to", "The brand's Reply-To %q is not a bare email address such as letters@example.org.", b.ReplyTo)
		}
	}
	return nil
}
