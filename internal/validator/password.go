package validator

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Password lengths: at least MinPasswordLength characters, at most
// MaxPasswordBytes bytes (bcrypt reads no further, so a longer password is
// refused rather than cut silently).
const (
	MinPasswordLength = 10
	MaxPasswordBytes  = 72
)

// The rules a new password can break, each its own error so that a front
// door can word it in its reader's language (test with errors.Is). Their
// field is "password".
var (
	// ErrPasswordShort is a password under MinPasswordLength characters.
	ErrPasswordShort = &Error{Field: "password", Message: "A password needs at least 10 characters."}
	// ErrPasswordLong is a password over MaxPasswordBytes bytes.
	ErrPasswordLong = &Error{Field: "password", Message: "A password may have at most 72 bytes (fewer characters when they are accented or not Latin)."}
	// ErrPasswordSpaces is a password that begins or ends with a space:
	// almost always one copied with the spaces around it.
	ErrPasswordSpaces = &Error{Field: "password", Message: "A password cannot begin or end with a space: remove the spaces around it (they often come along when a password is copied)."}
	// ErrPasswordControl is a password with a line break, tab or other
	// control character, which nobody can type into a sign-in form.
	ErrPasswordControl = &Error{Field: "password", Message: "A password cannot hold a line break, tab or other control character."}
)

// Password checks a new password: no spaces around it, no control
// characters, at least MinPasswordLength characters and at most
// MaxPasswordBytes bytes. It returns one of the ErrPassword errors.
func Password(pw string) error {
	switch {
	case pw != "" && strings.TrimSpace(pw) != pw:
		return ErrPasswordSpaces
	case strings.ContainsFunc(pw, unicode.IsControl):
		return ErrPasswordControl
	case utf8.RuneCountInString(pw) < MinPasswordLength:
		return ErrPasswordShort
	case len(pw) > MaxPasswordBytes:
		return ErrPasswordLong
	}
	return nil
}

// HasSurroundingSpace reports whether a typed password begins or ends
// with white space, which no password Password accepts does: a sign-in
// form can say so instead of "wrong password".
func HasSurroundingSpace(pw string) bool {
	return strings.TrimSpace(pw) != pw
}
