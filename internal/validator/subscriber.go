package validator

import (
	"github.com/herald-news/herald/internal/address"
	"github.com/herald-news/herald/internal/model"
)

// Subscriber checks a subscriber before it is stored: an email address, a
// known status (empty is active), and attributes Herald can use (tz, when
// set, names a time zone).
func Subscriber(s *model.Subscriber) error {
	if _, err := address.Normalize(s.Email); err != nil {
		return fieldError("email", "%s", sentence(err.Error()))
	}
	if s.Status != "" && !s.Status.Valid() {
		return fieldError("status", "A subscriber's status is active or blocklisted, not %q.", s.Status)
	}
	if err := model.CheckAttributes(s.Attributes); err != nil {
		return fieldError("attributes", "The %s.", err.Error())
	}
	return nil
}
