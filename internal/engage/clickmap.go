package engage

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/store"
)

// ClickMap is a campaign's email as readers saw it, each link marked with
// its share of the readers who clicked (unique human clicks), and the
// readers per section of the edition.
type ClickMap struct {
	// HTML is the email with the marks, a document of its own (serve it
	// in a sandboxed frame).
	HTML []byte
	// Readers is how many subscribers clicked anything as readers.
	Readers  int64
	Sections []SectionReaders
}

// SectionReaders is one section's links and the readers who clicked any
// of them.
type SectionReaders struct {
	Name    string // "Lead", "Card 2: …", "Briefs", "Pick 3: …", "Other"
	Links   int
	Readers int64
	Share   float64 // of Readers, 0 to 1
}

// MapSource is what a click map reads: *store.Store.
type MapSource interface {
	FrozenContent(ctx context.Context, id int64) (*model.Frozen, error)
	TopLinks(ctx context.Context, id int64, limit int) ([]store.LinkCount, error)
	UniqueClickers(ctx context.Context, id int64, urls []string) (int64, error)
}

// BuildClickMap draws a started campaign's click map.
func BuildClickMap(ctx context.Context, src MapSource, campaignID int64) (*ClickMap, error) {
	frozen, err := src.FrozenContent(ctx, campaignID)
	if err != nil {
		return nil, err
	}
	links, err := src.TopLinks(ctx, campaignID, maxLinks)
	if err != nil {
		return nil, err
	}
	readers := map[string]int64{}
	for _, l := range links {
		readers[l.URL] = l.Human
	}
	total, err := src.UniqueClickers(ctx, campaignID, nil)
	if err != nil {
		return nil, err
	}
	// The email as a reader without a name saw it; personal links lead
	// nowhere here.
	page := render.Thaw(*frozen, "Reader").AppendHTML(nil, render.Fields{UnsubscribeURL: "#", PreferencesURL: "#", WebURL: "#", FeedbackURL: "#"})
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		return nil, fmt.Errorf("read campaign %d's email: %w", campaignID, err)
	}
	m := &ClickMap{Readers: total}
	var order []string
	bySection := map[string][]string{}
	mark(doc, "", func(n *html.Node, section string) {
		href := attr(n, "href")
		if _, ok := readers[href]; !ok && !slices.Contains(frozen.Links, href) {
			return
		}
		if _, ok := bySection[section]; !ok {
			order = append(order, section)
		}
		if !slices.Contains(bySection[section], href) {
			bySection[section] = append(bySection[section], href)
		}
		share := 0.0
		if total > 0 {
			share = float64(readers[href]) / float64(total)
		}
		addAttr(n, "class", "hm-link")
		addAttr(n, "title", fmt.Sprintf("%d readers", readers[href]))
		badge := &html.Node{Type: html.ElementNode, Data: "span", DataAtom: atom.Span,
			Attr: []html.Attribute{{Key: "class", Val: "hm-badge"}, {Key: "data-share", Val: fmt.Sprintf("%.0f", share*100)}}}
		badge.AppendChild(&html.Node{Type: html.TextNode, Data: fmt.Sprintf("%.0f%%", share*100)})
		n.Parent.InsertBefore(badge, n.NextSibling)
	})
	for _, name := range order {
		n, err := src.UniqueClickers(ctx, campaignID, bySection[name])
		if err != nil {
			return nil, err
		}
		s := SectionReaders{Name: name, Links: len(bySection[name]), Readers: n}
		if total > 0 {
			s.Share = float64(n) / float64(total)
		}
		m.Sections = append(m.Sections, s)
	}
	if head := find(doc, atom.Head); head != nil {
		style := &html.Node{Type: html.ElementNode, Data: "style", DataAtom: atom.Style}
		style.AppendChild(&html.Node{Type: html.TextNode, Data: mapStyle})
		head.AppendChild(style)
	}
	var out bytes.Buffer
	if err := html.Render(&out, doc); err != nil {
		return nil, err
	}
	m.HTML = out.Bytes()
	return m, nil
}

// mapStyle marks links and their badges in the map.
const mapStyle = `.hm-link{outline:2px solid #d97706 !important;outline-offset:1px}
.hm-badge{display:inline-block;margin:0 4px;padding:1px 6px;border-radius:9px;background:#d97706;color:#fff !important;
font:bold 12px/1.4 system-ui,sans-serif;vertical-align:middle;text-decoration:none}
.hm-badge[data-share="0"]{background:#9ca3af}`

// mark walks the document calling fn for every link with the section it
// is in, known by the default theme's classes: the lead block, each card,
// the briefs, each pick; links elsewhere (header, footer, custom themes)
// are "Other".
func mark(n *html.Node, section string, fn func(*html.Node, string)) {
	counts := map[string]int{}
	var walk func(n *html.Node, section string)
	walk = func(n *html.Node, section string) {
		if n.Type == html.ElementNode {
			classes := strings.Fields(attr(n, "class"))
			switch {
			case slices.Contains(classes, "block"):
				// A section of the edition: cards, briefs and picks are
				// told apart inside it; the first other block is the lead.
				switch {
				case findClass(n, "card") || findClass(n, "brief") || findClass(n, "picks"):
					section = "Other"
				case counts["lead"] == 0:
					section = "Lead"
					counts["lead"]++
				default:
					section = "Other"
				}
			case slices.Contains(classes, "card"):
				counts["card"]++
				section = fmt.Sprintf("Card %d: %s", counts["card"], headline(n))
			case slices.Contains(classes, "brief"):
				section = "Briefs"
			case slices.Contains(classes, "picks"):
				section = "Picks"
			case n.DataAtom == atom.Li && section == "Picks":
				counts["pick"]++
				section = fmt.Sprintf("Pick %d: %s", counts["pick"], headline(n))
			case slices.Contains(classes, "footer"), slices.Contains(classes, "topbar"), slices.Contains(classes, "masthead"):
				section = "Other"
			}
			if n.DataAtom == atom.A && attr(n, "href") != "" {
				if section == "" {
					section = "Other"
				}
				fn(n, section)
				return
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, section)
		}
	}
	walk(n, section)
}

// headline is the first heading or link text in n, shortened.
func headline(n *html.Node) string {
	var b strings.Builder
	var text func(*html.Node)
	text = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil && b.Len() < 80; c = c.NextSibling {
			text(c)
		}
	}
	if h := find(n, atom.H3); h != nil {
		text(h)
	} else if a := find(n, atom.A); a != nil {
		text(a)
	}
	s := strings.Join(strings.Fields(b.String()), " ")
	if r := []rune(s); len(r) > 60 {
		s = string(r[:59]) + "…"
	}
	return s
}

func find(n *html.Node, a atom.Atom) *html.Node {
	if n.Type == html.ElementNode && n.DataAtom == a {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := find(c, a); f != nil {
			return f
		}
	}
	return nil
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// findClass reports whether n or an element in it has class c.
func findClass(n *html.Node, c string) bool {
	if n.Type == html.ElementNode && slices.Contains(strings.Fields(attr(n, "class")), c) {
		return true
	}
	for k := n.FirstChild; k != nil; k = k.NextSibling {
		if findClass(k, c) {
			return true
		}
	}
	return false
}

// addAttr sets an attribute, adding to a class list already there.
func addAttr(n *html.Node, key, val string) {
	for i, a := range n.Attr {
		if a.Key == key {
			if key == "class" {
				n.Attr[i].Val = a.Val + " " + val
			} else {
				n.Attr[i].Val = val
			}
			return
		}
	}
	n.Attr = append(n.Attr, html.Attribute{Key: key, Val: val})
}
