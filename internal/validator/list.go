package validator

import (
	"errors"
	"net/url"
	"regexp"
	"strings"

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
// (Brand). It returns every problem (Errors), in the form's order.
func List(l *model.List) error {
	var es Errors
	switch {
	case strings.TrimSpace(l.Name) == "":
		es = append(es, fieldError("name", "admin.validator.list_name"))
	case !OneLine(l.Name):
		es = append(es, fieldError("name", "admin.validator.list_name_line"))
	}
	if !IsSlug(l.Slug) {
		es = append(es, fieldError("slug", "admin.validator.slug", "Value", q(l.Slug)))
	}
	if l.OptIn != "" && l.OptIn != model.OptInSingle && l.OptIn != model.OptInDouble {
		es = append(es, fieldError("opt_in", "admin.validator.opt_in", "Value", q(string(l.OptIn))))
	}
	es.add(Language("language", l.Language))
	es.add(Brand(l.Brand))
	return es.Err()
}

// Language checks a reader-facing language typed into field: "" (the
// publication's) or one Herald ships a catalog for.
func Language(field, tag string) error {
	if _, err := i18n.Check(tag); err != nil {
		msg := sentence(strings.TrimPrefix(err.Error(), i18n.ErrLanguage.Error()+": "))
		if errors.Is(err, i18n.ErrLanguage) && strings.Contains(err.Error(), "no catalog") {
			return withMessage(fieldError(field, "admin.validator.language", "Value", q(tag), "Languages", strings.Join(i18n.Languages(), ", ")), msg)
		}
		return withMessage(fieldError(field, "admin.validator.language_tag", "Value", q(tag)), msg)
	}
	return nil
}

// Brand checks a list's brand (nil is none): every field on one line,
// colours that are CSS hex values, a logo at an absolute http(s) URL, a From
// with or without a display name and a Reply-To that is a bare address.
// Fields are named "brand_<field>", as the admin's form and the API's
// brand object spell them. It returns every problem (Errors).
func Brand(b *model.Brand) error {
	if b == nil {
		return nil
	}
	var es Errors
	bad := map[string]bool{}
	for _, f := range []struct{ field, what, v string }{{"brand_name", "name", b.Name}, {"brand_logo", "logo URL", b.LogoURL},
		{"brand_theme", "theme folder", b.ThemeDir}, {"brand_from", "From", b.From}, {"brand_reply_to", "Reply-To", b.ReplyTo},
		{"brand_address", "footer address", b.PostalAddress}} {
		if !OneLine(f.v) {
			es = append(es, withMessage(fieldError(f.field, "admin.validator.one_line"), "The brand's "+f.what+" must fit on one line."))
			bad[f.field] = true
		}
	}
	for _, c := range []struct{ field, what, v string }{{"brand_accent", "accent", b.Colors.Accent}, {"brand_text", "text", b.Colors.Text},
		{"brand_background", "background", b.Colors.Background}} {
		if c.v != "" && !IsColor(c.v) {
			es = append(es, withMessage(fieldError(c.field, "admin.validator.color", "Value", q(c.v)),
				"The brand's "+c.what+" colour "+q(c.v)+" is not a hex value such as #9c2f1f."))
		}
	}
	if !bad["brand_logo"] && b.LogoURL != "" && !IsWebURL(b.LogoURL) {
		es = append(es, withMessage(fieldError("brand_logo", "admin.validator.url", "Value", q(b.LogoURL)),
			"The brand's logo "+q(b.LogoURL)+" is not an absolute http(s) URL."))
	}
	if !bad["brand_from"] && b.From != "" && !isMailbox(b.From) {
		es = append(es, withMessage(fieldError("brand_from", "admin.validator.from"), "The brand's From should look like: Le Soir <soir@example.org>."))
	}
	if !bad["brand_reply_to"] && b.ReplyTo != "" && !isAddress(b.ReplyTo) {
		es = append(es, withMessage(fieldError("brand_reply_to", "admin.validator.reply_to"),
			"The brand's Reply-To "+q(b.ReplyTo)+" is not a bare email address such as letters@example.org."))
	}
	return es.Err()
}

// IsWebURL reports whether s is an absolute http(s) URL.
func IsWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
