package render_test

import (
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/render"
)

// TestGreetingWithoutAName: a reader with no name, in a campaign thawed
// with no fallback configured, is greeted "Good evening, reader.", never
// "Good evening, .".
func TestGreetingWithoutAName(t *testing.T) {
	e, err := sample.Edition()
	if err != nil {
		t.Fatal(err)
	}
	r, err := render.New(sample.Publication(), render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	em, err := r.Email(e)
	if err != nil {
		t.Fatal(err)
	}
	thawed := render.Thaw(em.Freeze(), "")
	for name, doc := range map[string]string{
		"text": string(thawed.AppendText(nil, render.Fields{})), "html": string(thawed.AppendHTML(nil, render.Fields{})),
	} {
		if strings.Contains(doc, ", .") || !strings.Contains(doc, ", reader.") {
			t.Errorf("%s greeting without a name:\n%.600s", name, doc)
		}
	}
}
