package contrast_test

import (
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/herald-news/herald/internal/contrast"
)

func TestCheck(t *testing.T) {
	doc := `<html><head><style>
	.note { color: #767676; }
	a:hover { color: #ffffff; }
	@media (prefers-color-scheme: dark) { .card { background-color: #1e1e1e !important; } .note { color: #2a2a2a !important; } }
	</style></head><body style="background-color:#ffffff"><div class="card"><p class="note">Readable in light mode only</p>
	<p style="color:#000000;background:#000000 none">Black on black</p></div></body></html>`
	root, err := html.Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := contrast.Check(root, true); err == nil || !strings.Contains(err.Error(), `"a:hover"`) {
		t.Fatalf("strict check of a:hover: %v", err)
	}
	problems, checked, err := contrast.Check(root, false)
	if err != nil || checked != 4 {
		t.Fatalf("checked %d texts, %v", checked, err)
	}
	var got []string
	for _, p := range problems {
		got = append(got, p.String())
	}
	want := []string{
		`light mode: body > div.card > p "Black on black": text colour #000000 is its background colour`,
		`dark mode: body > div.card > p.note "Readable in light mode only": #2a2a2a on #1e1e1e has contrast 1.16:1, under 4.5:1`,
		`dark mode: body > div.card > p "Black on black": text colour #000000 is its background colour`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if r := contrast.Ratio(contrast.RGB{}, contrast.RGB{R: 255, G: 255, B: 255}); r < 20.99 || r > 21.01 {
		t.Errorf("black on white = %.3f, want 21", r)
	}
}
