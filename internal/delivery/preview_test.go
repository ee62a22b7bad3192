package delivery

import (
	"bytes"
	"testing"
)

// The open pixel track adds is taken out again, and nothing else is.
func TestWithoutOpenPixel(t *testing.T) {
	page := []byte(`<html><body><p><a href="https://example.com/a">A</a></p><img src="https://example.com/photo.gif" width="1" height="1" alt="spacer"></body></html>`)
	pixel := "https://news.example/o/abc.DEF-123.gif"
	tracked := track(nil, page, map[string]bool{"https://example.com/a": true}, func(u string) string { return "https://news.example/c/x?u=" + u }, pixel, "")
	if !bytes.Contains(tracked, []byte(pixel)) {
		t.Fatalf("track added no pixel: %s", tracked)
	}
	got := WithoutOpenPixel(tracked)
	if bytes.Contains(got, []byte("/o/")) {
		t.Errorf("the pixel is still there: %s", got)
	}
	if !bytes.Contains(got, []byte(`https://example.com/photo.gif`)) || !bytes.Contains(got, []byte("https://news.example/c/x")) {
		t.Errorf("more than the pixel went: %s", got)
	}
}
