package validator

import (
	"regexp"
	"strings"

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
// a name on one line, and a known opt-in (empty is single).
func List(l *model.List) error {
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
