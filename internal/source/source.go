// Package source polls the desk's feeds: RSS, Atom and JSON Feed from the
// publication's own site and from other publications. A poll is a
// conditional GET (ETag and Last-Modified from the last answer) through the
// SSRF-safe client of package unfurl; the feed is parsed with gofeed and
// its items stored once per GUID.
//
// Contract: any node may run a Poller; sources are claimed under a lease
// (store.ClaimSources), so each due source is polled by one node. A bad
// feed (unreachable, an error status, not a feed, even a parser panic)
// never stops the poller: the source's status says what went wrong and it
// is tried again after its interval.
package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/unfurl"
)

// Poller polls due sources.
type Poller struct {
	Store  *store.Store
	Client *http.Client // from unfurl.NewClient
	Log    *slog.Logger
	// Every is how often Run looks for due sources (default 30s).
	Every time.Duration
	// MaxBytes is the largest feed read (default 5 MiB).
	MaxBytes int64
}

// claimLease is how long a claimed source is held before another node may
// poll it, should this one die mid-poll: longer than a fetch can take.
const claimLease = 2 * time.Minute

// Run polls due sources until ctx ends.
func (p *Poller) Run(ctx context.Context) error {
	every := p.Every
	if every <= 0 {
		every = 30 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := p.PollDue(ctx); err != nil && ctx.Err() == nil {
			p.log().Error("poll sources", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (p *Poller) log() *slog.Logger {
	if p.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Log
}

// PollDue claims the sources that are due and polls each, returning how
// many it polled.
func (p *Poller) PollDue(ctx context.Context) (int, error) {
	polled := 0
	for {
		due, err := p.Store.ClaimSources(ctx, 10, claimLease)
		if err != nil {
			return polled, err
		}
		if len(due) == 0 {
			return polled, nil
		}
		for _, src := range due {
			result := p.Poll(ctx, src)
			added, err := p.Store.RecordPoll(ctx, result)
			if err != nil {
				return polled, err
			}
			polled++
			if result.Problem != "" {
				p.log().Warn("source poll failed", "source", src.Name, "url", src.URL, "problem", result.Problem)
			} else if added > 0 {
				p.log().Info("source polled", "source", src.Name, "new_items", added)
			}
		}
	}
}

// Poll fetches and parses one source. It never fails: a problem is in the
// result's Problem.
func (p *Poller) Poll(ctx context.Context, src model.Feed) (result store.Poll) {
	result.SourceID = src.ID
	defer func() {
		if r := recover(); r != nil {
			result = store.Poll{SourceID: src.ID, Problem: fmt.Sprintf("the feed could not be read (the parser failed: %v)", r)}
		}
	}()
	header := http.Header{"Accept": {"application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, application/xml;q=0.8, */*;q=0.5"}}
	if src.ETag != "" {
		header.Set("If-None-Match", src.ETag)
	}
	if src.LastModified != "" {
		header.Set("If-Modified-Since", src.LastModified)
	}
	resp, err := unfurl.Get(ctx, p.Client, src.URL, header)
	if err != nil {
		result.Problem = fetchProblem(err)
		return result
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified:
		result.NotModified = true
		return result
	case resp.StatusCode != http.StatusOK:
		result.Problem = "the feed answered " + resp.Status
		return result
	}
	max := p.MaxBytes
	if max <= 0 {
		max = 5 << 20
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		result.Problem = "the feed stopped part-way: " + err.Error()
		return result
	}
	if int64(len(body)) > max {
		result.Problem = fmt.Sprintf("the feed is larger than %d MB", max>>20)
		return result
	}
	feed, err := gofeed.NewParser().ParseString(string(body))
	if err != nil {
		result.Problem = "this is not an RSS, Atom or JSON feed (" + err.Error() + ")"
		return result
	}
	result.ETag, result.LastModified = resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	base := resp.Request.URL
	for _, it := range feed.Items {
		if item, ok := convert(it, base); ok {
			result.Items = append(result.Items, item)
		}
	}
	return result
}

// fetchProblem words a failed fetch as a class (unfurl.Describe), never
// the raw network error.
func fetchProblem(err error) string {
	var refused *unfurl.RefusedError
	if errors.As(err, &refused) {
		return refused.Error()
	}
	return "could not fetch the feed: " + unfurl.Describe(err)
}

// PollNow reads one source now, on a person's request, and records what
// it found as a scheduled poll would: how many items were new, or the
// problem in words.
func (p *Poller) PollNow(ctx context.Context, id int64) (added int, problem string, err error) {
	src, err := p.Store.Source(ctx, id)
	if err != nil {
		return 0, "", err
	}
	result := p.Poll(ctx, *src)
	if added, err = p.Store.RecordPoll(ctx, result); err != nil {
		return 0, "", err
	}
	return added, result.Problem, nil
}

// convert turns a parsed entry into an item; entries without a link or a
// title are of no use to the desk and are skipped.
func convert(it *gofeed.Item, base *url.URL) (model.FeedItem, bool) {
	link := absolute(base, strings.TrimSpace(it.Link))
	title := strings.Join(strings.Fields(textOf(it.Title)), " ")
	if link == "" || title == "" {
		return model.FeedItem{}, false
	}
	item := model.FeedItem{URL: link, Title: title, GUID: strings.TrimSpace(it.GUID)}
	if item.GUID == "" {
		item.GUID = link
	}
	if len(item.GUID) > 500 {
		sum := sha256.Sum256([]byte(item.GUID))
		item.GUID = "sha256:" + hex.EncodeToString(sum[:])
	}
	var names []string
	for _, a := range it.Authors {
		if a != nil && strings.TrimSpace(a.Name) != "" {
			names = append(names, strings.TrimSpace(a.Name))
		}
	}
	if len(names) == 0 && it.Author != nil {
		names = append(names, strings.TrimSpace(it.Author.Name))
	}
	item.Author = strings.Join(names, " and ")
	if it.Image != nil {
		item.ImageURL = absolute(base, it.Image.URL)
	}
	for _, enc := range it.Enclosures {
		if item.ImageURL == "" && enc != nil && strings.HasPrefix(enc.Type, "image/") {
			item.ImageURL = absolute(base, enc.URL)
		}
	}
	summary := strings.Join(strings.Fields(textOf(it.Description)), " ")
	if r := []rune(summary); len(r) > 300 {
		summary = strings.TrimSpace(string(r[:299])) + "…"
	}
	item.Summary = summary
	switch {
	case it.PublishedParsed != nil:
		item.PublishedAt = it.PublishedParsed.UTC()
	case it.UpdatedParsed != nil:
		item.PublishedAt = it.UpdatedParsed.UTC()
	}
	return item, true
}

func absolute(base *url.URL, ref string) string {
	if ref == "" {
		return ""
	}
	u, err := base.Parse(ref)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	return u.String()
}

// textOf returns the text of an HTML fragment (feeds put markup in titles
// and descriptions).
func textOf(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return s
	}
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	for {
		switch z.Next() {
		case html.ErrorToken:
			return b.String()
		case html.TextToken:
			b.Write(z.Text())
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			b.WriteByte(' ')
		}
	}
}

// MarkUsed fills each item's UsedIn with the dates of the editions (the
// recent ones the caller read) that already link to its URL.
func MarkUsed(items []model.FeedItem, editions []*model.Edition) {
	used := map[string][]string{}
	for _, e := range editions {
		for _, u := range Links(e) {
			used[u] = append(used[u], e.Date)
		}
	}
	for i := range items {
		items[i].UsedIn = used[items[i].URL]
	}
}

// Links lists the URLs an edition's cards and picks point to.
func Links(e *model.Edition) []string {
	var out []string
	for _, s := range e.Sections {
		for _, c := range s.Cards {
			out = append(out, c.URL)
		}
		for _, p := range s.Picks {
			out = append(out, p.URL)
		}
	}
	return out
}

// Guard refuses a feed address that resolves to a non-public address:
// *unfurl.Unfurler, with the same allowances as the client that polls.
type Guard interface {
	CheckHost(ctx context.Context, raw string) error
}

// Check builds a source from what a person typed (a form or an API
// request), or says in a sentence for them what is wrong. A feed on a
// loopback, private or metadata address is refused here, as a pasted
// link is, rather than saved to fail at every poll.
func Check(ctx context.Context, g Guard, name, rawURL, publication string, own bool, minutes int) (*model.Feed, error) {
	src := &model.Feed{Name: strings.TrimSpace(name), URL: strings.TrimSpace(rawURL), Own: own,
		Publication: strings.TrimSpace(publication), Interval: time.Duration(minutes) * time.Minute}
	if src.Name == "" {
		return nil, errors.New("Give the source a name.")
	}
	if _, err := unfurl.ParseURL(src.URL); err != nil {
		return nil, errors.New("The feed address should be a web address starting with https://.")
	}
	if err := g.CheckHost(ctx, src.URL); err != nil {
		return nil, fmt.Errorf("The feed address is refused: %v.", err)
	}
	if minutes == 0 {
		src.Interval = 15 * time.Minute
	}
	if src.Interval < 5*time.Minute || src.Interval > 24*time.Hour {
		return nil, errors.New("Poll a feed every 5 minutes at the most often, and at least once a day.")
	}
	if !own && src.Publication == "" {
		src.Publication = src.Name
	}
	return src, nil
}
