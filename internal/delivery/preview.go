package delivery

import "regexp"

// openPixel matches the open-tracking pixel track adds: a one-pixel image
// whose address is an open token (Links.Open).
var openPixel = regexp.MustCompile(`<img src="[^"]*/o/[^"/?#]+\.gif" width="1" height="1"[^>]*>`)

// WithoutOpenPixel returns a sent message's HTML without its open-tracking
// pixel, so that staff looking at it (the admin's outbox) do not count as a
// reader who opened it.
func WithoutOpenPixel(page []byte) []byte { return openPixel.ReplaceAll(page, nil) }
