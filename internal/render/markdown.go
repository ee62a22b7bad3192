package render

import (
	"bytes"
	"html"
	"html/template"
	"net/url"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// newPolicy returns the sanitiser for Markdown bodies: the tags Markdown
// produces, links and images with absolute http(s) (and mailto) URLs only,
// no attributes beyond those, so no scripts, styles or event handlers.
func newPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "em", "strong", "del", "code", "pre", "blockquote",
		"ul", "ol", "li", "h3", "h4", "h5", "h6", "hr")
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("src", "alt", "title").OnElements("img")
	p.AllowAttrs("start").Matching(bluemonday.Integer).OnElements("ol")
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(false)
	return p
}

// markdown renders Markdown bodies to sanitised HTML with every link made
// absolute against the publication's site.
type markdown struct {
	base   *url.URL
	policy *bluemonday.Policy
}

// html renders src. A new goldmark instance per call keeps the renderer free
// of shared mutable state; it costs microseconds, once per campaign.
func (m *markdown) html(src string) (template.HTML, error) {
	md := goldmark.New(goldmark.WithParserOptions(
		parser.WithASTTransformers(util.Prioritized(absoluteLinks{m.base}, 100))))
	var buf bytes.Buffer
	if err := md.Convert([]byte(src), &buf); err != nil {
		return "", err
	}
	return template.HTML(m.policy.SanitizeBytes(buf.Bytes())), nil
}

// absoluteLinks rewrites relative link and image destinations against base,
// so a body written for the web still works in a mail client.
type absoluteLinks struct{ base *url.URL }

func (a absoluteLinks) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Link:
			n.Destination = a.resolve(n.Destination)
		case *ast.Image:
			n.Destination = a.resolve(n.Destination)
		}
		return ast.WalkContinue, nil
	})
}

func (a absoluteLinks) resolve(dest []byte) []byte {
	u, err := url.Parse(string(dest))
	if err != nil || u.IsAbs() || a.base == nil {
		return dest
	}
	return []byte(a.base.ResolveReference(u).String())
}

// mdText turns a Markdown body into plain-text blocks, from the Markdown
// itself rather than from HTML: links keep their targets, images their alt
// text, quotes their "> " marks.
func mdText(src string, base *url.URL, tw *textWriter, indent string) {
	s := []byte(src)
	doc := goldmark.DefaultParser().Parse(text.NewReader(s))
	absoluteLinks{base}.Transform(doc.(*ast.Document), nil, nil)
	blocks(doc, s, tw, indent, indent)
}

func blocks(parent ast.Node, src []byte, tw *textWriter, first, rest string) {
	for n := parent.FirstChild(); n != nil; n = n.NextSibling() {
		switch n := n.(type) {
		case *ast.Paragraph, *ast.TextBlock, *ast.Heading:
			for i, line := range strings.Split(inline(n, src), "\n") {
				if i == 0 {
					tw.wrap(line, first, rest)
				} else {
					tw.wrap(line, rest, rest)
				}
			}
		case *ast.Blockquote:
			blocks(n, src, tw, first+"> ", rest+"> ")
		case *ast.List:
			num := n.Start
			for item := n.FirstChild(); item != nil; item = item.NextSibling() {
				mark := "- "
				if n.IsOrdered() {
					mark = itoa(num) + ". "
					num++
				}
				blocks(item, src, tw, rest+mark, rest+strings.Repeat(" ", len(mark)))
				if n.IsTight {
					tw.unblank()
				}
			}
		case *ast.FencedCodeBlock, *ast.CodeBlock:
			lines := n.Lines()
			for i := 0; i < lines.Len(); i++ {
				seg := lines.At(i)
				tw.line(rest + "    " + strings.TrimRight(string(seg.Value(src)), "\n"))
			}
		case *ast.ThematicBreak:
			tw.line(rest + "* * *")
		default:
			continue // raw HTML and anything unknown stay out of the text
		}
		tw.blank()
	}
}

// inline returns the text of a block's inline content, with hard line
// breaks as "\n" and links as "text <url>".
func inline(n ast.Node, src []byte) string {
	var b strings.Builder
	var walk func(n ast.Node)
	walk = func(n ast.Node) {
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			switch c := c.(type) {
			case *ast.Text:
				v := c.Segment.Value(src)
				if !c.IsRaw() {
					v = util.UnescapePunctuations(v)
				}
				b.WriteString(html.UnescapeString(string(v)))
				switch {
				case c.HardLineBreak():
					b.WriteByte('\n')
				case c.SoftLineBreak():
					b.WriteByte(' ')
				}
			case *ast.String:
				b.Write(c.Value)
			case *ast.CodeSpan:
				b.WriteString(plain(c, src))
			case *ast.Link:
				label := strings.TrimSpace(inline(c, src))
				dest := string(c.Destination)
				if label == "" || label == dest || "mailto:"+label == dest {
					b.WriteString(dest)
				} else {
					b.WriteString(label + " <" + dest + ">")
				}
			case *ast.AutoLink:
				b.Write(c.URL(src))
			case *ast.Image:
				if alt := strings.TrimSpace(inline(c, src)); alt != "" {
					b.WriteString("[Image: " + alt + "]")
				}
			case *ast.RawHTML:
				// dropped, as in the HTML output
			default:
				walk(c)
			}
		}
	}
	walk(n)
	return b.String()
}

// plain returns the raw text under n.
func plain(n ast.Node, src []byte) string {
	var b strings.Builder
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		if t, ok := c.(*ast.Text); ok {
			b.Write(t.Segment.Value(src))
		} else {
			b.WriteString(plain(c, src))
		}
	}
	return b.String()
}
