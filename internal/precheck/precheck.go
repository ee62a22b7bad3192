// Package precheck looks over an edition's email before it goes out, the
// way a careful editor would: every link answers (and where it redirects),
// every image loads and has alt text, the HTML stays under Gmail's clipping
// limit, every text is readable against its background in light and dark
// mode, the subject and preheader fit, no URL is linked under two different
// texts, and no link points at localhost or the staging site.
//
// Contract: findings are warnings for a person to weigh, never a block.
// Links and images are fetched with the desk's SSRF-safe client (package
// unfurl: public addresses only; Options.Allow is for tests), a few at a
// time, and the whole check ends within Options.Timeout: what it did not
// reach by then is reported as not checked. The admin composer's panel,
// `herald edition check --online` and the warning before a campaign starts
// all run this one check.
//
// Words: each finding's Message (and each fetch's Problem) is English, for
// the API and the CLI; its Words are the same as a catalog key
// (admin.precheck.*) with arguments, which the admin says in the user's
// language. The English catalog is the one source of both.
package precheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/herald-news/herald/internal/contrast"
	"github.com/herald-news/herald/internal/i18n"
	"github.com/herald-news/herald/internal/unfurl"
)

// Limits the checks hold an email to.
const (
	// GmailClipBytes is where Gmail cuts a message's HTML and shows
	// "[Message clipped] View entire message": about 102 KB.
	GmailClipBytes = 102 * 1024
	// MaxSubject is about what a phone's inbox shows of a subject.
	MaxSubject = 60
	// MaxPreheader is about what inboxes show after the subject.
	MaxPreheader = 110
)

// Check names, as findings carry them.
const (
	CheckLinks     = "links"
	CheckImages    = "images"
	CheckSize      = "size"
	CheckContrast  = "contrast"
	CheckSubject   = "subject"
	CheckPreheader = "preheader"
	CheckDuplicate = "duplicate links"
	CheckLocal     = "local links"
)

// checkKeys are the catalog keys of the check names.
var checkKeys = map[string]string{
	CheckLinks:     "admin.precheck.check.links",
	CheckImages:    "admin.precheck.check.images",
	CheckSize:      "admin.precheck.check.size",
	CheckContrast:  "admin.precheck.check.contrast",
	CheckSubject:   "admin.precheck.check.subject",
	CheckPreheader: "admin.precheck.check.preheader",
	CheckDuplicate: "admin.precheck.check.duplicate",
	CheckLocal:     "admin.precheck.check.local",
}

// CheckName returns a check's name (CheckLinks, ...) in l's language.
func CheckName(check string, l *i18n.Localizer) string {
	if k, ok := checkKeys[check]; ok && l != nil {
		return l.T(k)
	}
	return check
}

// Words are a message for a person as a catalog key (admin.precheck.*, in
// internal/i18n/locales/admin/<tag>/precheck.toml) with its arguments as
// name, value pairs (i18n.Localizer.T); an argument may be Words itself.
// The English catalog is the one source of Finding.Message and
// Fetch.Problem, which the API and the CLI show.
type Words struct {
	Key  string
	Args []any
}

// In returns the words in l's language.
func (w Words) In(l *i18n.Localizer) string {
	args := slices.Clone(w.Args)
	for i, a := range args {
		if n, ok := a.(Words); ok {
			args[i] = n.In(l)
		}
	}
	return l.T(w.Key, args...)
}

var english = i18n.For(i18n.Source)

func say(key string, args ...any) Words { return Words{Key: key, Args: args} }

// A Finding is one thing worth a look before sending.
type Finding struct {
	Check   string `json:"check"`
	Message string `json:"message"` // in English
	URL     string `json:"url,omitempty"`
	// Words are Message as a catalog message, for the admin, which
	// speaks the user's language.
	Words Words `json:"-"`
}

// In returns the message in l's language.
func (f Finding) In(l *i18n.Localizer) string {
	if f.Words.Key == "" || l == nil {
		return f.Message
	}
	return f.Words.In(l)
}

// A Fetch is how one link or image answered.
type Fetch struct {
	URL       string   `json:"url"`
	Text      string   `json:"text,omitempty"` // the link's text, or the image's alt
	Status    int      `json:"status,omitempty"`
	Redirects []string `json:"redirects,omitempty"` // each URL it was sent on to, in order
	Problem   string   `json:"problem,omitempty"`   // why it does not answer well, in English; "" when it does
	// ProblemWords are Problem as a catalog message.
	ProblemWords Words `json:"-"`
}

// ProblemIn returns the problem in l's language.
func (f Fetch) ProblemIn(l *i18n.Localizer) string {
	if f.ProblemWords.Key == "" || l == nil {
		return f.Problem
	}
	return f.ProblemWords.In(l)
}

// problem sets the fetch's problem.
func (f *Fetch) problem(w Words) {
	f.ProblemWords, f.Problem = w, w.In(english)
}

// Report is the whole check's outcome.
type Report struct {
	Findings  []Finding     `json:"findings"`
	Links     []Fetch       `json:"links"`
	Images    []Fetch       `json:"images"`
	HTMLBytes int           `json:"html_bytes"`
	Took      time.Duration `json:"took_ns"`
}

// OK reports whether the check found nothing.
func (r Report) OK() bool { return len(r.Findings) == 0 }

// Input is the email as a reader gets it, before tracking rewrites links.
type Input struct {
	Subject, Preheader string
	HTML               []byte
	// Own are the base URLs of Herald's own pages (the unsubscribe,
	// preferences and archive links the template adds): links to them, or
	// under them, are not fetched.
	Own []string
	// Progress, when set, hears how many of the links and images have
	// been fetched, of how many.
	Progress func(done, total int)
}

// Options bound a check. Zero values take the defaults shown.
type Options struct {
	// Allow lets tests reach an in-process site on loopback; Herald never
	// sets it from configuration.
	Allow []netip.Prefix
	// StagingHosts are host names (and their subdomains) of a staging or
	// preview site that readers must never be sent to.
	StagingHosts []string
	Concurrency  int           // links fetched at once (8)
	LinkTimeout  time.Duration // for one link, redirects included (10s)
	Timeout      time.Duration // for the whole check (30s)
	// Offline skips fetching links and images (edition check without
	// --online, and a check with no network).
	Offline bool
}

// Checker runs checks. It is safe for concurrent use.
type Checker struct {
	opts   Options
	client *http.Client
}

// New returns a Checker.
func New(o Options) *Checker {
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.LinkTimeout <= 0 {
		o.LinkTimeout = 10 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	for i, h := range o.StagingHosts {
		o.StagingHosts[i] = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(h), "."))
	}
	c := unfurl.NewClient(unfurl.Options{Timeout: o.LinkTimeout, Allow: o.Allow})
	return &Checker{opts: o, client: c}
}

// link is one <a> or <img> found in the HTML.
type link struct {
	url, text string
	hasAlt    bool
	pixel     bool // a 1×1 image (a tracking pixel or spacer)
	cta       bool // a call-to-action button (class "cta"), which repeats its card's link
}

// Check runs every check on in. It returns when done or when the time
// limit (or ctx) ends it, with what was checked by then.
func (c *Checker) Check(ctx context.Context, in Input) Report {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	rep := Report{HTMLBytes: len(in.HTML), Links: []Fetch{}, Images: []Fetch{}, Findings: []Finding{}}
	add := func(check, url string, w Words) {
		rep.Findings = append(rep.Findings, Finding{Check: check, URL: url, Message: w.In(english), Words: w})
	}
	c.checkWords(in, add)
	if len(in.HTML) > GmailClipBytes {
		add(CheckSize, "", say("admin.precheck.size", "KB", (len(in.HTML)+1023)/1024))
	}
	root, err := html.Parse(bytes.NewReader(in.HTML))
	if err != nil {
		add(CheckLinks, "", say("admin.precheck.unreadable", "Error", err.Error()))
		rep.Took = time.Since(start)
		return rep
	}
	if problems, _, err := contrast.Check(root, false); err != nil {
		add(CheckContrast, "", say("admin.precheck.contrast.not_checked", "Error", err.Error()))
	} else {
		for _, p := range problems {
			add(CheckContrast, "", contrastWords(p))
		}
	}
	anchors, images := collect(root)
	c.checkDuplicates(anchors, add)
	own := func(u string) bool {
		return slices.ContainsFunc(in.Own, func(base string) bool {
			base = strings.TrimSuffix(base, "/")
			return base != "" && (u == base || strings.HasPrefix(u, base+"/") || strings.HasPrefix(u, base+"?"))
		})
	}
	var toFetch []link
	for _, a := range anchors {
		if own(a.url) {
			continue
		}
		if why := c.local(a.url); why.Key != "" {
			add(CheckLocal, a.url, say("admin.precheck.local.link", "Text", quote(a.text), "Where", why))
		}
		toFetch = append(toFetch, a)
	}
	for _, im := range images {
		if !im.hasAlt && !im.pixel {
			add(CheckImages, im.url, say("admin.precheck.no_alt"))
		}
		if why := c.local(im.url); why.Key != "" {
			add(CheckLocal, im.url, say("admin.precheck.local.image", "Where", why))
		}
	}
	if !c.opts.Offline {
		toFetch, images = dedupe(toFetch), dedupe(images)
		var done atomic.Int64
		tick := func() {}
		if in.Progress != nil {
			total := len(toFetch) + len(images)
			in.Progress(0, total)
			tick = func() { in.Progress(int(done.Add(1)), total) }
		}
		rep.Links = c.fetchAll(ctx, toFetch, false, tick)
		rep.Images = c.fetchAll(ctx, images, true, tick)
		for _, f := range rep.Links {
			if f.Problem != "" {
				add(CheckLinks, f.URL, say("admin.precheck.link_problem", "Text", quote(f.Text), "Problem", f.ProblemWords))
			}
		}
		for _, f := range rep.Images {
			if f.Problem != "" {
				add(CheckImages, f.URL, say("admin.precheck.image_problem", "Problem", f.ProblemWords))
			}
		}
	}
	rep.Took = time.Since(start)
	return rep
}

func (c *Checker) checkWords(in Input, add func(check, url string, w Words)) {
	subject, pre := strings.TrimSpace(in.Subject), strings.TrimSpace(in.Preheader)
	switch n := utf8.RuneCountInString(subject); {
	case n == 0:
		add(CheckSubject, "", say("admin.precheck.subject.empty"))
	case n > MaxSubject:
		add(CheckSubject, "", say("admin.precheck.subject.long", "Length", n, "Max", MaxSubject, "End", quote(cut(subject, MaxSubject))))
	}
	switch n := utf8.RuneCountInString(pre); {
	case n == 0:
		add(CheckPreheader, "", say("admin.precheck.preheader.empty"))
	case n > MaxPreheader:
		add(CheckPreheader, "", say("admin.precheck.preheader.long", "Length", n, "Max", MaxPreheader, "End", quote(cut(pre, MaxPreheader))))
	}
}

// quote quotes a text of the email as Go does (%q).
func quote(s string) string { return fmt.Sprintf("%q", s) }

// contrastWords say what contrast.Problem.String says.
func contrastWords(p contrast.Problem) Words {
	mode := say("admin.precheck.contrast.light")
	if p.Mode == "dark" {
		mode = say("admin.precheck.contrast.dark")
	}
	if p.FG == p.BG {
		return say("admin.precheck.contrast.same", "Mode", mode, "Where", p.Where, "Text", quote(p.Text.Text), "Color", p.FG.String())
	}
	return say("admin.precheck.contrast.low", "Mode", mode, "Where", p.Where, "Text", quote(p.Text.Text),
		"Color", p.FG.String(), "Background", p.BG.String(), "Ratio", fmt.Sprintf("%.2f", p.Ratio), "Min", fmt.Sprintf("%.1f", contrast.MinRatio))
}

func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// checkDuplicates flags a URL linked under two different texts: usually a
// link pasted into the wrong story.
func (c *Checker) checkDuplicates(anchors []link, add func(check, url string, w Words)) {
	texts := map[string][]string{}
	var order []string
	for _, a := range anchors {
		t := strings.Join(strings.Fields(a.text), " ")
		if t == "" || a.cta {
			// An image link's alt text is not a second title, and a
			// card's "Read here" button links its headline's address by
			// design.
			continue
		}
		if _, ok := texts[a.url]; !ok {
			order = append(order, a.url)
		}
		if !slices.ContainsFunc(texts[a.url], func(s string) bool { return strings.EqualFold(s, t) }) {
			texts[a.url] = append(texts[a.url], t)
		}
	}
	for _, u := range order {
		if ts := texts[u]; len(ts) > 1 {
			add(CheckDuplicate, u, say("admin.precheck.duplicate", "Texts", quoteAll(ts)))
		}
	}
}

// quoteAll lists the texts quoted: "a", "b" and "c".
func quoteAll(ts []string) Words {
	q := make([]string, len(ts))
	for i, t := range ts {
		q[i] = quote(t)
	}
	return say("admin.precheck.list", "First", strings.Join(q[:len(q)-1], ", "), "Last", q[len(q)-1])
}

// local says where a URL points that readers cannot go (localhost, a
// private address, the staging site), or nothing (no Key).
func (c *Checker) local(raw string) Words {
	u, err := url.Parse(raw)
	if err != nil {
		return Words{}
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return say("admin.precheck.local.localhost")
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		ip = ip.Unmap()
		if slices.ContainsFunc(c.opts.Allow, func(p netip.Prefix) bool { return p.Contains(ip) }) {
			return Words{}
		}
		if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() {
			return say("admin.precheck.local.private", "Address", ip.String())
		}
	}
	for _, s := range c.opts.StagingHosts {
		if s != "" && (host == s || strings.HasSuffix(host, "."+s)) {
			return say("admin.precheck.local.staging", "Host", s)
		}
	}
	return Words{}
}

// collect returns the document's http(s) links with their text, and its
// images with their alt text, in document order.
func collect(root *html.Node) (anchors, images []link) {
	contrast.Walk(root, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		switch n.Data {
		case "a":
			href, _ := contrast.Attr(n, "href")
			cls, _ := contrast.Attr(n, "class")
			if u := strings.TrimSpace(href); isHTTP(u) {
				anchors = append(anchors, link{url: u, text: textOf(n), cta: slices.Contains(strings.Fields(cls), "cta")})
			}
		case "img":
			src, _ := contrast.Attr(n, "src")
			alt, hasAlt := contrast.Attr(n, "alt")
			w, _ := contrast.Attr(n, "width")
			h, _ := contrast.Attr(n, "height")
			if u := strings.TrimSpace(src); isHTTP(u) {
				images = append(images, link{url: u, text: alt, hasAlt: hasAlt && strings.TrimSpace(alt) != "", pixel: w == "1" && h == "1"})
			}
		}
	})
	return anchors, images
}

func isHTTP(u string) bool {
	l := strings.ToLower(u)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

func textOf(n *html.Node) string {
	var b strings.Builder
	contrast.Walk(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	})
	return strings.Join(strings.Fields(b.String()), " ")
}

// dedupe keeps the first of each URL (one fetch each); its text is the
// first text it was linked under.
func dedupe(ls []link) []link {
	seen := map[string]bool{}
	var out []link
	for _, l := range ls {
		if !seen[l.url] {
			seen[l.url] = true
			out = append(out, l)
		}
	}
	return out
}

// fetchAll fetches ls, c.opts.Concurrency at a time, in their order.
func (c *Checker) fetchAll(ctx context.Context, ls []link, image bool, tick func()) []Fetch {
	out := make([]Fetch, len(ls))
	sem := make(chan struct{}, c.opts.Concurrency)
	var wg sync.WaitGroup
	for i, l := range ls {
		out[i] = Fetch{URL: l.url, Text: l.text}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			out[i].problem(say("admin.precheck.fetch.out_of_time"))
			tick()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c.fetch(ctx, &out[i], image)
			tick()
		}()
	}
	wg.Wait()
	return out
}

// refusedHEAD are answers to HEAD that say nothing about GET: servers that
// do not implement it, or refuse it to robots.
func refusedHEAD(status int) bool { return status >= 400 }

// fetch asks for f.URL with HEAD, then with GET when HEAD is refused, and
// records the answer, the redirects followed and what is wrong.
func (c *Checker) fetch(ctx context.Context, f *Fetch, image bool) {
	status, ctype, redirects, err := c.request(ctx, http.MethodHead, f.URL)
	if err == nil && refusedHEAD(status) || err != nil && !errors.Is(err, unfurl.ErrRefused) && !timeout(err) {
		status, ctype, redirects, err = c.request(ctx, http.MethodGet, f.URL)
	}
	f.Status, f.Redirects = status, redirects
	switch {
	case err != nil && ctx.Err() != nil:
		f.problem(say("admin.precheck.fetch.out_of_time"))
	case timeout(err):
		f.problem(say("admin.precheck.fetch.timeout", "Timeout", c.opts.LinkTimeout.String()))
	case err != nil:
		f.problem(describe(err))
	case status >= 400:
		f.problem(say("admin.precheck.fetch.status", "Status", status, "Text", http.StatusText(status)))
	case status >= 300:
		f.problem(say("admin.precheck.fetch.nowhere", "Status", status))
	case image && ctype == "":
		f.problem(say("admin.precheck.fetch.not_image_untyped"))
	case image && !strings.HasPrefix(ctype, "image/"):
		f.problem(say("admin.precheck.fetch.not_image", "Type", ctype))
	}
}

// request sends one request without reading the body and returns the
// final answer's status and type and the redirects followed.
func (c *Checker) request(ctx context.Context, method, raw string) (int, string, []string, error) {
	u, err := unfurl.ParseURL(raw)
	if err != nil {
		return 0, "", nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return 0, "", nil, err
	}
	req.Header.Set("Accept", "text/html,image/*,*/*;q=0.8")
	var redirects []string
	cl := *c.client
	check := c.client.CheckRedirect
	cl.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		redirects = append(redirects, r.URL.String())
		return check(r, via)
	}
	resp, err := cl.Do(req)
	if err != nil {
		return 0, "", redirects, err
	}
	resp.Body.Close()
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return resp.StatusCode, ct, redirects, nil
}

func timeout(err error) bool {
	var ne net.Error
	return err != nil && (errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout())
}

// describe turns a fetch error into words for the editor: a class of
// failure (unfurl.Describe, in English), never a raw network error.
func describe(err error) Words {
	var refused *unfurl.RefusedError
	if errors.As(err, &refused) {
		return say("admin.precheck.fetch.refused", "Reason", refused.Error())
	}
	return say("admin.precheck.fetch.no_answer", "Reason", unfurl.Describe(err))
}
