package validator

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/herald-news/herald/internal/address"
	"github.com/herald-news/herald/internal/i18n"
)

// MaxNameLength bounds the name of a user or an API token, in characters.
const MaxNameLength = 200

// User checks an admin user's address and name (optional, one line). The
// role is auth's to parse; auth.CreateUser reports it under the field
// "role".
func User(email, name string) error {
	if _, err := address.Normalize(email); err != nil {
		return fieldError("email", "%s", sentence(err.Error()))
	}
	return name1("name", "user", name, false)
}

// Token checks an API token's name: required, one line.
func Token(name string) error {
	return name1("name", "token", name, true)
}

func name1(field, what, name string, required bool) error {
	switch {
	case required && strings.TrimSpace(name) == "":
		return fieldError(field, "A %s needs a name.", what)
	case !OneLine(name):
		return fieldError(field, "The %s's name must fit on one line.", what)
	case utf8.RuneCountInString(name) > MaxNameLength:
		return fieldError(field, "The %s's name is at most %d characters.", what, MaxNameLength)
	}
	return nil
}

// AdminLanguage checks the language a user reads the admin in: "" (English)
// or one the admin is translated into (i18n.AdminLanguages).
func AdminLanguage(lang string) error {
	if lang == "" || slices.Contains(i18n.AdminLanguages(), lang) {
		return nil
	}
	return fieldError("language", "The admin speaks %s, not %q.", strings.Join(i18n.AdminLanguages(), ", "), lang)
}
