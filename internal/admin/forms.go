package admin

import (
	"strings"

	"github.com/herald-news/herald/internal/validator"
)

// fieldErrors are a form's problems by field name, each shown beside its
// field when the form comes back (the "field-error" template).
type fieldErrors map[string]string

// formErrors returns the field a domain check refused with its message, or
// nil when err is not a *validator.Error.
func formErrors(err error) fieldErrors {
	if ve := validator.As(err); ve != nil {
		return fieldErrors{ve.Field: ve.Message}
	}
	return nil
}

// sentence makes a clause from elsewhere ("a password needs …") a
// sentence.
func sentence(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
