package edition_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/herald-news/herald/internal/edition"
	"github.com/herald-news/herald/internal/edition/sample"
)

// FuzzParse checks that any input is either refused or round-trips stably:
// Parse and Check agree (Parse fails exactly when Check finds problems,
// with those problems, each placed in the file and in file order), an
// accepted edition passes Validate, and Format of it is accepted by Check
// and parses back to the same edition.
func FuzzParse(f *testing.F) {
	f.Add(sample.Source())
	f.Add([]byte(handwritten))
	f.Add([]byte("---\nsubject: x\ndate: 2025-01-01\n---\n# text\n\n```\n# a\n```\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		e, err := edition.Parse(src)
		ps := edition.Check(src)
		if err != nil {
			checkProblems(t, src, err, ps)
			return
		}
		if len(ps) != 0 {
			t.Fatalf("Parse accepted a file in which Check finds %v", ps)
		}
		if ps := edition.Validate(e); len(ps) != 0 {
			t.Fatalf("Validate refuses a parsed edition: %v\n%q", ps, src)
		}
		out, err := edition.Format(e)
		if err != nil {
			t.Fatalf("Format refused a parsed edition: %v", err)
		}
		if ps := edition.Check(out); len(ps) != 0 {
			t.Fatalf("Check refuses the formatted file: %v\n%s", ps, out)
		}
		e2, err := edition.Parse(out)
		if err != nil {
			t.Fatalf("formatted file does not parse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(e, e2) {
			t.Fatalf("round trip changed the edition\n%q\n%q", src, out)
		}
		out2, _ := edition.Format(e2)
		if !bytes.Equal(out, out2) {
			t.Fatalf("format not stable")
		}
	})
}

// checkProblems fails t unless Parse's error err is Problems equal to
// Check's, non-empty, each placed within src (or unplaced), in file order.
func checkProblems(t *testing.T, src []byte, err error, ps edition.Problems) {
	t.Helper()
	var got edition.Problems
	if !errors.As(err, &got) || !errors.Is(err, edition.ErrInvalid) {
		t.Fatalf("Parse failed with %T %v, not Problems", err, err)
	}
	if len(got) == 0 || !reflect.DeepEqual(got, ps) {
		t.Fatalf("Parse found %v but Check %v\n%q", got, ps, src)
	}
	lines := bytes.Count(src, []byte("\n")) + 1
	prev := 0
	for _, p := range got {
		if p.Msg == "" || p.Line < 0 || p.Line > lines || (p.Line == 0) != (p.Col == 0) || p.Col < 0 {
			t.Fatalf("problem %+v is misplaced or empty in a file of %d lines\n%q", p, lines, src)
		}
		if p.Line != 0 && p.Line < prev {
			t.Fatalf("problems out of file order: %v\n%q", got, src)
		}
		prev = max(prev, p.Line)
	}
}
