package validator

import (
	"net/mail"

	"github.com/herald-news/herald/internal/address"
)

// isMailbox reports whether s is one address with or without a display
// name ("The Courier <news@example.com>", "news@example.com").
func isMailbox(s string) bool {
	_, err := mail.ParseAddress(s)
	return err == nil
}

// isAddress reports whether s is a bare address Herald can send to.
func isAddress(s string) bool {
	_, err := address.Normalize(s)
	return err == nil
}

// Email checks an address typed into field: one bare address. The English
// message says exactly what is wrong with it.
func Email(field, s string) error {
	if _, err := address.Normalize(s); err != nil {
		return withMessage(fieldError(field, "admin.validator.email", "Value", q(s)), sentence(err.Error()))
	}
	return nil
}
