package delivery

import (
	"bytes"
	"html"
)

// track appends to dst a copy of page in which every href pointing at one of
// the campaign's links goes through click instead, and which ends with the
// open pixel. Other hrefs (unsubscribe, preferences, web version) are left
// alone. page is HTML as the renderer wrote it: attribute values in double
// quotes, & written as &amp;.
func track(dst, page []byte, links map[string]bool, click func(target string) string, pixel string) []byte {
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
