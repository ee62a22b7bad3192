// Package edition reads, writes and checks editions as Markdown files with
// front matter (the format is documented in docs/editions.md).
//
// Contract: Parse accepts only files that Check finds nothing wrong with;
// Format writes the canonical form of an edition, and Parse followed by
// Format is stable: formatting the result of parsing a formatted file gives
// the same bytes. Validate applies the same rules to an edition that did not
// come from a file (the admin UI, the API). Nothing here does I/O.
package edition

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrInvalid is wrapped by every Problems error, so callers can tell a bad
// edition from other failures with errors.Is.
var ErrInvalid = errors.New("invalid edition")

// Problem is one thing wrong with an edition, with its place in the file
// when it came from one. Line and Col count from 1 (Col in characters);
// both are 0 when the place is unknown.
type Problem struct {
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
	Msg  string `json:"message"`
	// Where the problem is in the edition's structure, for a form that
	// words it in its own terms ("Card 2: the button needs a link"):
	// Section and Item count from 1 (0: the header, or the section
	// itself); Field names the field ("subject", "hero-alt", "headline",
	// "url", "body", ...), "" for the section or item as a whole.
	Section int    `json:"section,omitempty"`
	Item    int    `json:"item,omitempty"`
	Field   string `json:"field,omitempty"`
	// Code says what is wrong (one of the Code constants; "" for a
	// problem with the file's own syntax), Detail refines it (why a URL
	// is refused), Value is the value at fault, and N and Limit are the
	// sizes of a value over its limit.
	Code   Code   `json:"code,omitempty"`
	Detail string `json:"detail,omitempty"`
	Value  string `json:"value,omitempty"`
	N      int    `json:"n,omitempty"`
	Limit  int    `json:"limit,omitempty"`
}

// Code is what a Problem says is wrong, whatever the words.
type Code string

// What Validate finds wrong.
const (
	CodeMissing       Code = "missing"        // a required field is empty (a URL: no link)
	CodeEncoding      Code = "encoding"       // not valid UTF-8
	CodeLineBreak     Code = "line_break"     // a one-line field holds a line break
	CodeControl       Code = "control"        // a control character
	CodeTooLong       Code = "too_long"       // N characters (bytes for a body) over Limit
	CodeDateFormat    Code = "date_format"    // not YYYY-MM-DD
	CodeDateInvalid   Code = "date_invalid"   // no such day
	CodeSlot          Code = "slot"           // not one lowercase word
	CodeLanguage      Code = "language"       // no catalog for it
	CodeSlug          Code = "slug"           // characters a slug may not use
	CodeNoAlt         Code = "no_alt"         // the hero image has no alt text
	CodeNoCredit      Code = "no_credit"      // a credit prefix without a credit
	CodeWidth         Code = "width"          // the hero's width is out of range
	CodeNoSections    Code = "no_sections"    // the edition is empty
	CodeTitleNoTitle  Code = "title_no_title" // a title and "no heading" both
	CodeTitleReserved Code = "title_reserved" // the title is the file's "no heading" mark
	CodeSecondLead    Code = "second_lead"    // more than one lead
	CodeNoByline      Code = "no_byline"      // a role without a name
	CodeNoText        Code = "no_text"        // a body that needs text has none
	CodeHeadingLine   Code = "heading_line"   // a body line starting with # or ##
	CodeFieldLine     Code = "field_line"     // the lead starts with a line read as a field
	CodeStrayCR       Code = "stray_cr"       // a carriage return inside a body line
	CodeBadLink       Code = "bad_link"       // a link in a body is no web address (Detail)
	CodeBadImage      Code = "bad_image"      // an image in a body is no web address (Detail)
	CodeImageAlt      Code = "image_alt"      // an image in a body has no alt text
	CodeRawHTML       Code = "raw_html"       // HTML in a body
	CodeNoItems       Code = "no_items"       // a cards, briefs or picks section with none
	CodeNoHeadline    Code = "no_headline"    // an item without its headline or title
	CodeVerb          Code = "verb"           // a pick's verb is not a few words
	CodeBadURL        Code = "bad_url"        // a field's URL is no web address (Detail)
	CodeUnknownKind   Code = "unknown_kind"   // a section of no known kind
)

// Why a URL is refused (a Problem's Detail).
const (
	URLSpace      = "space"      // it holds a space or control character
	URLUnreadable = "unreadable" // it cannot be parsed
	URLNoHost     = "no_host"    // http(s) without a host
	URLRelative   = "relative"   // no scheme
	URLScheme     = "scheme"     // not http(s) (or mailto where allowed)
)

// String formats the problem as "line:col: message", or just the message
// when it has no place.
func (p Problem) String() string {
	if p.Line == 0 {
		return p.Msg
	}
	return fmt.Sprintf("%d:%d: %s", p.Line, p.Col, p.Msg)
}

// Problems is every problem found in an edition, in file order. As an error
// it lists them one per line.
type Problems []Problem

// Error lists the problems, one per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.Is(err, ErrInvalid) match.
func (ps Problems) Unwrap() error { return ErrInvalid }

func (ps Problems) sorted() Problems {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].Line != ps[j].Line {
			return ps[i].Line < ps[j].Line
		}
		return ps[i].Col < ps[j].Col
	})
	return ps
}
