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
}

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
