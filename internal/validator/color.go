package validator

import (
	"regexp"

	"github.com/herald-news/herald/internal/model"
)

// colorRule is a CSS hex colour: #rgb or #rrggbb.
var colorRule = regexp.MustCompile(`^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$`)

// IsColor reports whether s is a CSS hex colour such as #9c2f1f (#rgb or
// #rrggbb); "" is not.
func IsColor(s string) bool { return colorRule.MatchString(s) }

// Colors checks a publication's brand colours: each empty (the theme's own)
// or a CSS hex colour.
func Colors(c model.Colors) error {
	for _, f := range []struct{ field, name, v string }{
		{"accent", "accent", c.Accent}, {"text", "text", c.Text}, {"background", "background", c.Background},
	} {
		if f.v != "" && !IsColor(f.v) {
			return fieldError(f.field, "The %s colour %q is not a hex value such as #9c2f1f.", f.name, f.v)
		}
	}
	return nil
}
