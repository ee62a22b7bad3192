package delivery

import (
	"strings"
	"testing"
)

func TestTrack(t *testing.T) {
	page := `<html><body><a href="https://site.example/a?x=1&amp;y=2">A</a> <a href="https://news.example/unsubscribe/tok">U</a>` +
		`<a href="https://other.example/b">B</a></body></html>`
	links := map[string]bool{"https://site.example/a?x=1&y=2": true, "https://other.example/b": true}
	click := func(u string) string { return "https://news.example/c/T?u=" + u }
	got := string(track(nil, []byte(page), links, click, "https://news.example/o/T.gif", ""))
	for _, want := range []string{
		`href="https://news.example/c/T?u=https://site.example/a?x=1&amp;y=2"`,
		`href="https://news.example/unsubscribe/tok"`,
		`href="https://news.example/c/T?u=https://other.example/b"`,
		`<img src="https://news.example/o/T.gif" width="1" height="1" alt=""`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("tracked page lacks %s:\n%s", want, got)
		}
	}
	if !strings.HasSuffix(got, "</body></html>") {
		t.Errorf("pixel not placed before </body>: %s", got)
	}
}
