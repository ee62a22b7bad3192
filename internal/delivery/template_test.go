package delivery

import (
	"strings"
	"testing"
)

// TestTemplateAllowsVariablesOnly: {{.name}} is the whole language; every
// other action is refused where it stands, and output is bounded.
func TestTemplateAllowsVariablesOnly(t *testing.T) {
	tp, err := ParseTemplate("Hi {{.name}}", "Code {{ .code }}\n{{/* a comment */}}", `<a href="{{.url}}">{{.name}}</a>`)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tp.Variables(), ","); got != "code,name,url" {
		t.Errorf("variables %s", got)
	}
	subject, text, html, err := tp.Execute(map[string]string{"name": `O'Hara & "Sons"`, "code": "<1>", "url": "https://example.com/?a=1&b=2", "extra": "ignored"})
	if err != nil || subject != `Hi O'Hara & "Sons"` || string(text) != "Code <1>\n" ||
		string(html) != `<a href="https://example.com/?a=1&amp;b=2">O&#39;Hara &amp; &#34;Sons&#34;</a>` {
		t.Errorf("Execute = %q %q %q %v", subject, text, html, err)
	}
	for _, c := range []struct{ subject, text, html, want string }{
		{"", "x", "", "needs a subject"},
		{"s", "", " ", "needs a text body, an HTML body, or both"},
		{"s", "{{if .a}}b{{end}}", "", "text at 1:"},
		{"s", "{{range .a}}b{{end}}", "", "only {{.name}} variables"},
		{"s", "{{.a.b}}", "", "only {{.name}} variables"},
		{"s", "{{$x := .a}}{{$x}}", "", "only {{.name}} variables"},
		{"s", "{{printf \"%s\" .a}}", "", "only {{.name}} variables"},
		{"s", "{{.a | html}}", "", "only {{.name}} variables"},
		{"s", `{{define "t"}}x{{end}}{{template "t"}}`, "", "only {{.name}} variables"},
		{"{{.}}", "x", "", "subject at"},
		{"s", "", "<p>{{.a</p>", "does not parse"},
	} {
		if _, err := ParseTemplate(c.subject, c.text, c.html); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseTemplate(%q, %q, %q) = %v, want %q", c.subject, c.text, c.html, err, c.want)
		}
	}
	if _, _, _, err := tp.Execute(map[string]string{"name": "x"}); err == nil || !strings.Contains(err.Error(), "{{.code}}, {{.url}}") {
		t.Errorf("missing variables: %v", err)
	}
	big, _ := ParseTemplate("s", "{{.x}}{{.x}}{{.x}}", "")
	if _, _, _, err := big.Execute(map[string]string{"x": strings.Repeat("y", 1<<20)}); err == nil || !strings.Contains(err.Error(), "over 2 MiB") {
		t.Errorf("oversized output: %v", err)
	}
}
