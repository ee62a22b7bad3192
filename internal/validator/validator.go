// Package validator holds the rules an input must keep before Herald
// stores it: one function per aggregate (Campaign, List, Subscriber, User,
// Token, Publication) and the rules they share (Slug, Colors, Sender). Each
// returns nil or an *Error naming the field that breaks a rule, with a
// sentence a person can act on; a check that looks at a whole form
// (Publication) returns Errors, every problem at once, so a form can mark
// each field. The admin, the API and the CLI call the same function and
// each renders the error its own way (a message beside the form field, in
// the admin's language, a JSON problem naming the field, a line on stderr
// naming the flag); the store calls it too, so no front door can bypass a
// rule.
//
// Messages: an Error carries a catalog key (admin.validator.*, in
// internal/i18n/locales/admin/<tag>/validator.toml) with its arguments, and
// Message, the same sentence in English, for the API and the CLI. The
// English catalog is the one source of both.
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

	"github.com/herald-news/herald/internal/i18n"
)

// Error is an input that breaks a rule.
type Error struct {
	// Field names the input as the API spells it ("reply_to", "slug").
	Field string
	// Message says what is wrong, as a sentence a person can act on, in
	// English (the API's and the CLI's language).
	Message string
	// Key is the message's catalog key ("admin.validator.from"), for a
	// front door that speaks the reader's language; "" when the error has
	// only its English Message.
	Key string
	// Args are the key's arguments as name, value pairs (i18n.Localizer.T).
	Args []any
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// In returns the message in the language of l: Message in English (it
// may say more than the key's words), the key's message in another.
func (e *Error) In(l *i18n.Localizer) string {
	if e.Key == "" || l == nil || l.Catalog() == i18n.Source {
		return e.Message
	}
	return l.T(e.Key, e.Args...)
}

// New returns an Error on field with the message of catalog key, filled
// with args (name, value pairs); Message is its English.
func New(field, key string, args ...any) *Error {
	return &Error{Field: field, Key: key, Args: args, Message: i18n.For(i18n.Source).T(key, args...)}
}

// As returns the *Error in err's chain (the first of Errors), or nil.
func As(err error) *Error {
	var ve *Error
	if errors.As(err, &ve) {
		return ve
	}
	return nil
}

// Errors are every problem of one input, in the order of its fields. As
// an error it reads as its messages one after another, and errors.As finds
// its first *Error, so a front door that shows one problem shows the first.
type Errors []*Error

// Error returns the messages, one after another.
func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Message
	}
	return strings.Join(msgs, " ")
}

// Unwrap returns the errors, for errors.As and errors.Is.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Err returns es as an error, nil when there is no problem.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// add appends err's problems (none when err is nil).
func (es *Errors) add(err error) {
	*es = append(*es, All(err)...)
}

// All returns every *Error in err: those of an Errors, or the one *Error
// in its chain, or none.
func All(err error) []*Error {
	var es Errors
	if errors.As(err, &es) {
		return es
	}
	if ve := As(err); ve != nil {
		return []*Error{ve}
	}
	return nil
}

// fieldError is New for this package's own checks.
func fieldError(field, key string, args ...any) *Error { return New(field, key, args...) }

// withMessage returns e with an English message more precise than its
// key's (a detail only English has words for).
func withMessage(e *Error, msg string) *Error {
	e.Message = msg
	return e
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

// q quotes a value for a message, as %q does.
func q(s string) string { return fmt.Sprintf("%q", s) }
