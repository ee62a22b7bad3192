package render

import (
	"testing"

	"github.com/herald-news/herald/internal/model"
)

func TestThawWithoutPlaceholders(t *testing.T) {
	m := Thaw(model.Frozen{Subject: "s", HTML: []byte("<p>plain</p>"), Text: []byte("plain")}, "reader")
	if got := string(m.AppendHTML(nil, Fields{Name: "x"})); got != "<p>plain</p>" {
		t.Fatalf("AppendHTML = %q", got)
	}
}
