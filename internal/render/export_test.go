package render

import "html/template"

// MarkdownHTMLForTest exposes the sanitising Markdown renderer to the
// external tests.
func MarkdownHTMLForTest(r *Renderer, body string) template.HTML {
	h, err := r.md.html(body)
	if err != nil {
		panic(err)
	}
	return h
}
