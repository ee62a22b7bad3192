package validator

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/herald-news/herald/internal/address"
	"github.com/herald-news/herald/internal/model"
)

// MaxName is the longest subscriber name, in characters.
const MaxName = 100

// linkLike finds what makes a name a link or an address: a scheme, www.,
// an @, or a host name ending in a top-level domain ("spam.example.com",
// "bit.ly/x"). A name goes into the To header and the greeting of every
// message, so a signup form must not be a way to mail links to strangers.
var linkLike = regexp.MustCompile(`(?i)://|www\.|@|[\p{L}\p{N}-]{2,}\.(?:[a-z]{2,}\.)*(?:com|net|org|info|biz|xyz|top|site|online|club|shop|link|click|app|io|co|ly|me|ru|cn|tk|gg|to|[a-z]{2})(?:[/:?#]|$|\s)`)

// Name checks a subscriber's name: at most MaxName characters, on one
// line, and no web or email address in it. Empty is allowed.
func Name(name string) error {
	switch {
	case utf8.RuneCountInString(name) > MaxName:
		return fieldError("name", "A name is at most %d characters.", MaxName)
	case strings.ContainsFunc(name, unicode.IsControl):
		return fieldError("name", "A name is one line of text.")
	// linkLike needs a ':', '.' or '@'; most names have none, and every
	// message of a campaign asks (ReaderName).
	case strings.ContainsAny(name, ":.@") && linkLike.MatchString(name):
		return fieldError("name", "A name cannot hold a web or email address; write just the name.")
	}
	return nil
}

// ReaderName is name as mail may carry it (To header, greeting): one line
// with single spaces, or "" when Name would refuse it (a name stored
// before the rule, or by a path that does not check it).
func ReaderName(name string) string {
	name = strings.Join(strings.Fields(name), " ")
	if Name(name) != nil {
		return ""
	}
	return name
}

// Subscriber checks a subscriber before it is stored: an email address, a
// name Name accepts, a known status (empty is active), and attributes
// Herald can use (tz, when set, names a time zone).
func Subscriber(s *model.Subscriber) error {
	if _, err := address.Normalize(s.Email); err != nil {
		return fieldError("email", "%s", sentence(err.Error()))
	}
	if err := Name(s.Name); err != nil {
		return err
	}
	if s.Status != "" && !s.Status.Valid() {
		return fieldError("status", "A subscriber's status is active or blocklisted, not %q.", s.Status)
	}
	if err := model.CheckAttributes(s.Attributes); err != nil {
		return fieldError("attributes", "The %s.", err.Error())
	}
	return nil
}
