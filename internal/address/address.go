// Package address normalises and validates email addresses. Herald stores
// every address in the form Normalize returns, so two spellings of one
// mailbox are one subscriber.
package address

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// MaxLength is the longest address Herald accepts (RFC 5321 path limit less
// the angle brackets).
const MaxLength = 254

// ErrInvalid is wrapped by every error Normalize returns, so callers can tell
// a bad address from other failures with errors.Is.
var ErrInvalid = errors.New("invalid email address")

// Error says why an address was refused, in words a person understands.
type Error struct {
	Input  string
	Reason string
}

func (e *Error) Error() string { return e.Reason }

// Unwrap lets errors.Is(err, ErrInvalid) match.
func (e *Error) Unwrap() error { return ErrInvalid }

func invalid(input, format string, args ...any) error {
	return &Error{Input: input, Reason: fmt.Sprintf(format, args...)}
}

// profile converts internationalised domain names to their ASCII form with
// the strict lookup rules browsers and mail servers use.
var profile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.Transitional(false))

// Normalize trims s, checks that it is one bare address (no display name, no
// angle brackets, no comments), lower-cases the domain and converts an
// internationalised domain to its ASCII (punycode) form. The local part keeps
// its case: RFC 5321 lets a receiving server treat it as significant.
func Normalize(s string) (string, error) {
	in := strings.TrimSpace(s)
	switch {
	case in == "":
		return "", invalid(s, "the address is empty")
	case !utf8.ValidString(in):
		return "", invalid(s, "the address is not valid UTF-8 text")
	case strings.ContainsAny(in, "\r\n\t"):
		return "", invalid(s, "the address contains a line break or tab")
	case strings.ContainsAny(in, " <>,;\""):
		return "", invalid(s, "expected a bare address like name@example.com, without spaces, names or brackets")
	}
	at := strings.LastIndexByte(in, '@')
	if at < 0 {
		return "", invalid(s, "the address has no @")
	}
	local, domain := in[:at], in[at+1:]
	if local == "" {
		return "", invalid(s, "nothing before the @")
	}
	if len(local) > 64 {
		return "", invalid(s, "the part before the @ is longer than 64 characters")
	}
	if domain == "" {
		return "", invalid(s, "nothing after the @")
	}
	ascii, err := profile.ToASCII(strings.TrimSuffix(domain, "."))
	if err != nil {
		return "", invalid(s, "the domain %q is not a valid domain name", domain)
	}
	ascii = strings.ToLower(ascii)
	if !strings.Contains(ascii, ".") {
		return "", invalid(s, "the domain %q has no dot (expected something like example.com)", domain)
	}
	for _, label := range strings.Split(ascii, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", invalid(s, "the domain %q is not a valid domain name", domain)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", invalid(s, "the domain %q has a character not allowed in domain names", domain)
			}
		}
	}
	out := local + "@" + ascii
	if len(out) > MaxLength {
		return "", invalid(s, "the address is longer than %d characters", MaxLength)
	}
	// The local part must parse as an RFC 5322 addr-spec (dot-atom, or quoted
	// forms that mail servers accept). net/mail does the grammar for us.
	parsed, err := mail.ParseAddress(out)
	if err != nil || parsed.Name != "" || parsed.Address != out {
		return "", invalid(s, "the part before the @ has characters an address cannot hold")
	}
	return out, nil
}

// Domain returns the domain of a normalised address.
func Domain(addr string) string {
	return addr[strings.LastIndexByte(addr, '@')+1:]
}
