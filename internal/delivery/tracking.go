package delivery

import (
	"bytes"
	"html"
	"slices"
)

// track appends to dst a copy of page in which every href pointing at one of
// the campaign's links goes through click instead, which starts with the
// hidden link (when hidden is set) and ends with the open pixel. Other
// hrefs (unsubscribe, preferences, web version) are left alone. page is
// HTML as the renderer wrote it: attribute values in double quotes, &
// written as &amp;.
func track(dst, page []byte, links map[string]bool, click func(target string) string, pixel, hidden string) []byte {
	base := len(dst)
	dst = trackLinks(dst, page, links, click, pixel)
	if hidden == "" {
		return dst
	}
	at := base
	if i := bytes.Index(dst[base:], []byte("<body")); i >= 0 {
		if j := bytes.IndexByte(dst[base+i:], '>'); j >= 0 {
			at = base + i + j + 1
		}
	}
	return slices.Insert(dst, at, []byte(hiddenLink(hidden))...)
}

// hiddenLink is a link no reader can see, reach with a keyboard or hear
// from a screen reader, so whatever follows it is a machine (package
// engage's hidden-link rule): an empty anchor, out of the tab order and
// the accessibility tree, in a block every mail client hides
// (display:none, and mso-hide:all for Outlook's Word engine), on a line of
// its own so the lines after it keep their length. The text part never
// has it.
func hiddenLink(href string) string {
	return `<div aria-hidden="true" style="display:none;max-height:0;max-width:0;overflow:hidden;mso-hide:all;font-size:0;line-height:0">` +
		`<a href="` + html.EscapeString(href) + `" tabindex="-1" aria-hidden="true" style="display:none;color:transparent;text-decoration:none"></a></div>` + "\n"
}

func trackLinks(dst, page []byte, links map[string]bool, click func(target string) string, pixel string) []byte {
	const attr = `href="`
	for {
		i := bytes.Index(page, []byte(attr))
		if i < 0 {
			break
		}
		start := i + len(attr)
		end := bytes.IndexByte(page[start:], '"')
		if end < 0 {
			break
		}
		end += start
		dst = append(dst, page[:start]...)
		target := html.UnescapeString(string(page[start:end]))
		if links[target] {
			dst = append(dst, html.EscapeString(click(target))...)
		} else {
			dst = append(dst, page[start:end]...)
		}
		page = page[end:]
	}
	img := `<img src="` + html.EscapeString(pixel) + `" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0">`
	if i := bytes.LastIndex(page, []byte("</body>")); i >= 0 {
		dst = append(dst, page[:i]...)
		dst = append(dst, img...)
		return append(dst, page[i:]...)
	}
	dst = append(dst, page...)
	return append(dst, img...)
}
