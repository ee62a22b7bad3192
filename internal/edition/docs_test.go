package edition_test

import (
	"os"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/edition/sample"
)

// The documentation shows the complete sample edition; keep them equal.
func TestDocsShowTheSample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/editions.md")
	if err != nil {
		t.Skipf("docs not found: %v", err)
	}
	_, block, ok := strings.Cut(string(doc), "````markdown\n")
	block, _, ok2 := strings.Cut(block, "````")
	if !ok || !ok2 || block != string(sample.Source()) {
		t.Error("docs/editions.md does not show the current sample edition; copy internal/edition/sample/briefing.md into it")
	}
}
