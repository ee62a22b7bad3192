package validator

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/herald-news/herald/internal/i18n"
)

// MaxNameLength bounds the name of a user or an API token, in characters.
const MaxNameLength = 200

// User checks an admin user's address and name (optional, one line). The
// role is auth's to parse; auth.CreateUser reports it under the field
// "role".
// It returns every problem (Errors).
func User(email, name string) error {
	var es Errors
	es.add(Email("email", email))
	es.add(name1("name", "user", name, false))
	return es.Err()
}

// Token checks an API token's name: required, one line.
func Token(name string) error {
	return name1("name", "token", name, true)
}

// name1 checks the name of a user or token (what): on one line, at most
// MaxNameLength characters, and there when required.
func name1(field, what, name string, required bool) error {
	switch {
	case required && strings.TrimSpace(name) == "":
		return fieldError(field, "admin.validator.token_name")
	case !OneLine(name):
		return withMessage(fieldError(field, "admin.validator.one_line"), "The "+what+"'s name must fit on one line.")
	case utf8.RuneCountInString(name) > MaxNameLength:
		return withMessage(fieldError(field, "admin.validator.name_max", "Max", MaxNameLength),
			"The "+what+"'s name is at most "+strconv.Itoa(MaxNameLength)+" characters.")
	}
	return nil
}

// AdminLanguage checks the language a user reads the admin in: "" (English)
// or one the admin is translated into (i18n.AdminLanguages).
func AdminLanguage(lang string) error {
	if lang == "" || slices.Contains(i18n.AdminLanguages(), lang) {
		return nil
	}
	return fieldError("language", "admin.validator.admin_language", "Languages", strings.Join(i18n.AdminLanguages(), ", "), "Value", q(lang))
}
