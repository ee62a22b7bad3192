// Package validator holds the rules an input must keep before Herald
// stores it: one function per aggregate (Campaign, List, Subscriber, User,
// Token) and the rules they share (Slug, Colors). Each returns nil or an
// *Error naming the field that breaks a rule, with a sentence a person can
// act on. The admin, the API and the CLI call the same function and each
// renders the error its own way (a message beside the form field, a JSON
// problem naming the field, a line on stderr naming the flag); the store
// calls it too, so no front door can bypass a rule.
//
// Contract: the functions read nothing but their input (checks that need
// the database, such as "the edition exists and is ready", live with the
// aggregate's owner: delivery for campaigns), and they never change it.
package validator

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Error is an input that breaks a rule.
type Error struct {
	// Field names the input as the API spells it ("reply_to", "slug").
	Field string
	// Message says what is wrong, as a sentence a person can act on.
	Message string
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// As returns the *Error in err's chain, or nil.
func As(err error) *Error {
	var ve *Error
	if errors.As(err, &ve) {
		return ve
	}
	return nil
}

func fieldError(field, format string, args ...any) *Error {
	return &Error{Field: field, Message: fmt.Sprintf(format, args...)}
}

// sentence makes a lower-case clause ("the sample must be …") a sentence.
func sentence(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// OneLine reports whether s has no line break or other control character.
func OneLine(s string) bool {
	return !strings.ContainsFunc(s, unicode.IsControl)
}
