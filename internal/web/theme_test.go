package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/validator"
)

// TestThemeCSSReads: the public pages take the brand accent with the
// button label that reads on it, and a dark-mode accent that reads on the
// dark page; a colour that cannot read is refused when saved.
func TestThemeCSSReads(t *testing.T) {
	s := sqlite(t)
	st := newSite(t, s, nil)
	_, css := st.get(st.client(), "/theme.css")
	for _, want := range []string{":root{--accent:#9c2f1f;--accent-ink:#ffffff;}", "@media (prefers-color-scheme: dark){:root{--accent:#8cb8e0;--accent-ink:#000000;}}"} {
		if !strings.Contains(css, want) {
			t.Errorf("theme.css lacks %q:\n%s", want, css)
		}
	}
	pub := sample.Publication()
	pub.Colors.Accent = "#f5c518"
	err := s.SavePublication(context.Background(), pub)
	if ve := validator.As(err); ve == nil || ve.Field != "accent" || !strings.Contains(ve.Message, "1.63:1") {
		t.Fatalf("saving a yellow accent: %v", err)
	}
}
