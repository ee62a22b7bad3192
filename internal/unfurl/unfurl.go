package unfurl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// Page is what a link's page says about itself.
type Page struct {
	URL         string `json:"url"` // the canonical URL, or the one fetched after redirects
	Title       string `json:"title"`
	Author      string `json:"author,omitempty"`
	Publication string `json:"publication,omitempty"`
	Image       string `json:"image,omitempty"`
	Description string `json:"description,omitempty"`
}

// Unfurler fetches pages and reads their metadata.
type Unfurler struct {
	client   *http.Client
	maxBytes int64
	allow    []netip.Prefix
}

// New returns an Unfurler that fetches with NewClient(opts).
func New(opts Options) *Unfurler {
	opts = opts.withDefaults()
	return &Unfurler{client: NewClient(opts), maxBytes: opts.MaxBytes, allow: opts.Allow}
}

// Client is the SSRF-safe client the Unfurler fetches with, to share with
// other fetches made on a person's behalf (reading a feed now).
func (u *Unfurler) Client() *http.Client { return u.client }

// CheckHost refuses raw when its host resolves to an address the
// Unfurler's client would refuse (see CheckHost), so an address is
// refused when it is saved rather than at every later fetch.
func (u *Unfurler) CheckHost(ctx context.Context, raw string) error {
	parsed, err := ParseURL(raw)
	if err != nil {
		return err
	}
	return CheckHost(ctx, parsed, u.allow)
}

// Unfurl fetches raw and reads its title, author, publication and image.
// JSON-LD (a NewsArticle's headline, author and publisher) comes first,
// then OpenGraph, then Twitter cards, then the page's own title and
// author meta tag. Errors are written for the editor who pasted the link.
func (u *Unfurler) Unfurl(ctx context.Context, raw string) (Page, error) {
	resp, err := Get(ctx, u.client, strings.TrimSpace(raw), http.Header{"Accept": {"text/html,application/xhtml+xml"}})
	if err != nil {
		var refused *RefusedError
		if errors.As(err, &refused) {
			return Page{}, refused
		}
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return Page{}, fmt.Errorf("the page at %s took too long to answer", raw)
		}
		return Page{}, fmt.Errorf("could not fetch %s: %s", raw, Describe(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Page{}, fmt.Errorf("the page at %s answered %s", raw, resp.Status)
	}
	if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct != "text/html" && ct != "application/xhtml+xml" {
		return Page{}, fmt.Errorf("%s is not a web page (it is %s)", raw, orUnknown(ct))
	}
	p, err := Parse(io.LimitReader(resp.Body, u.maxBytes), resp.Request.URL)
	if err != nil {
		return Page{}, fmt.Errorf("could not read the page at %s: %w", raw, err)
	}
	return p, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "of no stated type"
	}
	return s
}

// Parse reads a page's metadata from its HTML; base resolves relative
// URLs. A body cut short (at the size limit) still yields what its head
// said.
func Parse(r io.Reader, base *url.URL) (Page, error) {
	doc, err := html.Parse(r)
	if err != nil {
		return Page{}, err
	}
	meta := map[string]string{}
	var title, canonical string
	var ld []ldThing
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "meta":
				key := strings.ToLower(attr(n, "property"))
				if key == "" {
					key = strings.ToLower(attr(n, "name"))
				}
				if v := strings.TrimSpace(attr(n, "content")); key != "" && v != "" {
					if _, seen := meta[key]; !seen {
						meta[key] = v
					}
				}
			case "title":
				if title == "" && n.FirstChild != nil {
					title = strings.TrimSpace(n.FirstChild.Data)
				}
			case "link":
				if strings.EqualFold(attr(n, "rel"), "canonical") && canonical == "" {
					canonical = attr(n, "href")
				}
			case "script":
				if strings.EqualFold(attr(n, "type"), "application/ld+json") && n.FirstChild != nil {
					ld = append(ld, parseLD(n.FirstChild.Data)...)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)

	var p Page
	for _, t := range ld {
		if !t.isArticle() {
			continue
		}
		p.Title = first(p.Title, t.Headline)
		p.Author = first(p.Author, t.Author.names())
		p.Publication = first(p.Publication, t.Publisher.names())
		p.Image = first(p.Image, t.Image.url())
		p.Description = first(p.Description, t.Description)
	}
	p.Title = first(p.Title, meta["og:title"], meta["twitter:title"], title)
	p.Publication = first(p.Publication, meta["og:site_name"], meta["application-name"])
	p.Author = first(p.Author, nonURL(meta["article:author"]), meta["author"], nonURL(meta["twitter:creator"]))
	p.Image = first(p.Image, meta["og:image:secure_url"], meta["og:image"], meta["twitter:image"], meta["twitter:image:src"])
	p.Description = first(p.Description, meta["og:description"], meta["twitter:description"], meta["description"])
	p.URL = first(resolve(base, canonical), resolve(base, meta["og:url"]), base.String())
	p.Image = resolve(base, p.Image)
	p.Title = strings.Join(strings.Fields(p.Title), " ")
	return p, nil
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if strings.EqualFold(a.Key, name) {
			return a.Val
		}
	}
	return ""
}

func first(vs ...string) string {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// nonURL drops values that are profile URLs rather than names (OpenGraph's
// article:author is often a URL; Twitter's creator is a handle, kept).
func nonURL(v string) string {
	if strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://") {
		return ""
	}
	return v
}

// resolve makes ref absolute against base, keeping only http(s) results.
func resolve(base *url.URL, ref string) string {
	if ref == "" {
		return ""
	}
	u, err := base.Parse(ref)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	return u.String()
}

// ldThing is the part of a schema.org JSON-LD object the desk reads.
type ldThing struct {
	Type        ldStrings `json:"@type"`
	Headline    string    `json:"headline"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Author      ldPeople  `json:"author"`
	Publisher   ldPeople  `json:"publisher"`
	Image       ldImage   `json:"image"`
	Graph       []ldThing `json:"@graph"`
}

func (t ldThing) isArticle() bool {
	for _, ty := range t.Type {
		if strings.HasSuffix(ty, "Article") || ty == "BlogPosting" || ty == "Report" {
			return true
		}
	}
	return false
}

// parseLD reads one JSON-LD script: an object, an array of them, or an
// object with an @graph. Broken JSON-LD is ignored, as browsers do.
func parseLD(s string) []ldThing {
	s = strings.TrimSpace(s)
	var many []ldThing
	if strings.HasPrefix(s, "[") {
		if json.Unmarshal([]byte(s), &many) != nil {
			return nil
		}
	} else {
		var one ldThing
		if json.Unmarshal([]byte(s), &one) != nil {
			return nil
		}
		many = []ldThing{one}
	}
	var out []ldThing
	for _, t := range many {
		out = append(out, t)
		out = append(out, t.Graph...)
	}
	return out
}

// ldStrings is a JSON-LD value that may be one string or an array.
type ldStrings []string

func (v *ldStrings) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*v = ldStrings{one}
		return nil
	}
	var many []string
	if json.Unmarshal(b, &many) == nil {
		*v = many
	}
	return nil
}

// ldPeople is an author or publisher: a name, an object with a name, or an
// array of either.
type ldPeople []string

func (v *ldPeople) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if json.Unmarshal(b, &raw) != nil {
		raw = []json.RawMessage{b}
	}
	for _, r := range raw {
		var name string
		if json.Unmarshal(r, &name) == nil {
			*v = append(*v, name)
			continue
		}
		var obj struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(r, &obj) == nil && obj.Name != "" {
			*v = append(*v, obj.Name)
		}
	}
	return nil
}

// names joins several authors as "A and B" or "A, B and C".
func (v ldPeople) names() string {
	var ns []string
	for _, n := range v {
		if n = strings.TrimSpace(n); n != "" {
			ns = append(ns, n)
		}
	}
	switch len(ns) {
	case 0:
		return ""
	case 1:
		return ns[0]
	}
	return strings.Join(ns[:len(ns)-1], ", ") + " and " + ns[len(ns)-1]
}

// ldImage is an image: a URL, an ImageObject, or an array of either.
type ldImage string

func (v *ldImage) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if json.Unmarshal(b, &raw) != nil {
		raw = []json.RawMessage{b}
	}
	for _, r := range raw {
		var s string
		if json.Unmarshal(r, &s) == nil && s != "" {
			*v = ldImage(s)
			return nil
		}
		var obj struct {
			URL string `json:"url"`
		}
		if json.Unmarshal(r, &obj) == nil && obj.URL != "" {
			*v = ldImage(obj.URL)
			return nil
		}
	}
	return nil
}

func (v ldImage) url() string { return string(v) }
