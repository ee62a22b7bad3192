package edition_test

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/herald-news/herald/internal/edition"
	"github.com/herald-news/herald/internal/edition/sample"
)

// FuzzParse checks that any input is either refused or round-trips stably.
func FuzzParse(f *testing.F) {
	f.Add(sample.Source())
	f.Add([]byte(handwritten))
	f.Add([]byte("---\nsubject: x\ndate: 2025-01-01\n---\n# text\n\n```\n# a\n```\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		e, err := edition.Parse(src)
		if err != nil {
			return
		}
		out, err := edition.Format(e)
		if err != nil {
			t.Fatalf("Format refused a parsed edition: %v", err)
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
