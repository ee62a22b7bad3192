package delivery

import (
	"bytes"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"slices"
	"strings"
	texttemplate "text/template"
	"text/template/parse"
)

// Template is a message written by the caller of the transactional API: a
// subject, a text body and/or an HTML body with {{.name}} variables. Only
// variables are allowed (no conditions, loops, functions or template
// calls), so filling one in costs no more than its output. Values go into
// the subject and the text as they are, and into the HTML escaped for
// where they stand (element text, attribute, URL), by html/template.
type Template struct {
	subject *texttemplate.Template
	text    *texttemplate.Template
	html    *htmltemplate.Template
	vars    []string // every variable used, sorted
}

// MaxTemplateOutput bounds each filled-in part of a template.
const MaxTemplateOutput = 2 << 20

// ParseTemplate checks and parses a template. Errors name the part and
// the place in it, and say what is allowed.
func ParseTemplate(subject, text, html string) (*Template, error) {
	if strings.TrimSpace(subject) == "" {
		return nil, errors.New("the template needs a subject")
	}
	if strings.TrimSpace(text) == "" && strings.TrimSpace(html) == "" {
		return nil, errors.New("the template needs a text body, an HTML body, or both")
	}
	t := &Template{}
	vars := map[string]bool{}
	var err error
	if t.subject, err = texttemplate.New("subject").Option("missingkey=error").Parse(subject); err != nil {
		return nil, templateError(err)
	}
	if err := onlyVariables("subject", t.subject.Tree, vars); err != nil {
		return nil, err
	}
	if text != "" {
		if t.text, err = texttemplate.New("text").Option("missingkey=error").Parse(text); err != nil {
			return nil, templateError(err)
		}
		if err := onlyVariables("text", t.text.Tree, vars); err != nil {
			return nil, err
		}
	}
	if html != "" {
		if t.html, err = htmltemplate.New("html").Option("missingkey=error").Parse(html); err != nil {
			return nil, templateError(err)
		}
		if err := onlyVariables("html", t.html.Tree, vars); err != nil {
			return nil, err
		}
	}
	for v := range vars {
		t.vars = append(t.vars, v)
	}
	slices.Sort(t.vars)
	return t, nil
}

// templateError words a parse error without Go's "template: " prefix.
func templateError(err error) error {
	return fmt.Errorf("the template does not parse: %s", strings.TrimPrefix(err.Error(), "template: "))
}

// onlyVariables refuses every action but {{.name}} and collects the names.
func onlyVariables(part string, tree *parse.Tree, vars map[string]bool) error {
	if tree == nil || tree.Root == nil {
		return nil
	}
	for _, n := range tree.Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
		case *parse.ActionNode:
			name, ok := variable(n)
			if !ok {
				loc, _ := tree.ErrorContext(n)
				return fmt.Errorf("%s at %s: only {{.name}} variables are allowed, not %s", part, strings.TrimPrefix(loc, part+":"), n)
			}
			vars[name] = true
		default:
			loc, _ := tree.ErrorContext(n)
			return fmt.Errorf("%s at %s: only {{.name}} variables are allowed, not %s", part, strings.TrimPrefix(loc, part+":"), shorten(n.String()))
		}
	}
	return nil
}

// variable reports the name of a {{.name}} action.
func variable(n *parse.ActionNode) (string, bool) {
	p := n.Pipe
	if p == nil || len(p.Decl) != 0 || p.IsAssign || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return "", false
	}
	f, ok := p.Cmds[0].Args[0].(*parse.FieldNode)
	if !ok || len(f.Ident) != 1 {
		return "", false
	}
	return f.Ident[0], true
}

func shorten(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Variables are the names the template uses, sorted.
func (t *Template) Variables() []string { return slices.Clone(t.vars) }

// Execute fills the template in. Every variable it uses must be given;
// extra ones are ignored.
func (t *Template) Execute(vars map[string]string) (subject string, text, html []byte, err error) {
	var missing []string
	for _, v := range t.vars {
		if _, ok := vars[v]; !ok {
			missing = append(missing, v)
		}
	}
	if len(missing) > 0 {
		return "", nil, nil, fmt.Errorf("the template uses %s, which variables does not give", quoteAll(missing))
	}
	var b limitedBuffer
	if err := t.subject.Execute(&b, vars); err != nil {
		return "", nil, nil, fillError("subject", err)
	}
	subject = b.String()
	if t.text != nil {
		b = limitedBuffer{}
		if err := t.text.Execute(&b, vars); err != nil {
			return "", nil, nil, fillError("text", err)
		}
		text = b.Bytes()
	}
	if t.html != nil {
		b = limitedBuffer{}
		if err := t.html.Execute(&b, vars); err != nil {
			return "", nil, nil, fillError("html", err)
		}
		html = b.Bytes()
	}
	return subject, text, html, nil
}

func fillError(part string, err error) error {
	if errors.Is(err, errTooLarge) {
		return fmt.Errorf("the %s, filled in, is over %d MiB", part, MaxTemplateOutput>>20)
	}
	return fmt.Errorf("the %s cannot be filled in: %s", part, strings.TrimPrefix(err.Error(), "template: "))
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "{{." + n + "}}"
	}
	return strings.Join(q, ", ")
}

var errTooLarge = errors.New("template output too large")

// limitedBuffer stops a template's output at MaxTemplateOutput.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > MaxTemplateOutput {
		return 0, errTooLarge
	}
	return b.Buffer.Write(p)
}
