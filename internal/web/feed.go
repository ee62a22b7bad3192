package web

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/feeds"

	"github.com/herald-news/herald/internal/i18n"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/store"
)

// feedCache keeps each rendered feed for a short while: rendering every
// entry per poll would let feed readers load the server.
type feedCache struct {
	mu sync.Mutex
	m  map[string]cachedFeed
}

type cachedFeed struct {
	stamp    string // the editions' stamp it was built at
	body     []byte
	ctype    string
	modified time.Time
	at       time.Time
}

const (
	feedItems = 30
	feedTTL   = 30 * time.Second
)

// feed serves RSS 2.0, Atom or JSON Feed of the public archive, with
// ETag and Last-Modified so readers can ask "anything new?" cheaply.
func (s *Server) feed(w http.ResponseWriter, r *http.Request) {
	s.serveFeed(w, r, strings.TrimPrefix(r.URL.Path, "/feed."), nil)
}

// listFeed serves /archive/{list}/feed.rss (.atom, .json): one public
// list's editions, under its brand.
func (s *Server) listFeed(w http.ResponseWriter, r *http.Request) {
	kind, ok := strings.CutPrefix(r.PathValue("feed"), "feed.")
	if !ok || (kind != "rss" && kind != "atom" && kind != "json") {
		s.notFound(w, r)
		return
	}
	l := s.publicList(w, r)
	if l == nil {
		return
	}
	s.serveFeed(w, r, kind, l)
}

func (s *Server) serveFeed(w http.ResponseWriter, r *http.Request, kind string, l *model.List) {
	key := kind
	if l != nil {
		key = l.Slug + "/" + kind
	}
	s.feeds.mu.Lock()
	if s.feeds.m == nil {
		s.feeds.m = map[string]cachedFeed{}
	}
	cf, ok := s.feeds.m[key]
	s.feeds.mu.Unlock()
	// An edition published (on any node) shows at once: the cache is
	// rebuilt when the editions changed, and at the latest after feedTTL
	// (the publication's name or theme, a list's brand).
	stamp, err := s.store.EditionsStamp(r.Context())
	if err != nil {
		s.serverError(w, r, "build feed", err)
		return
	}
	if !ok || cf.stamp != stamp || time.Since(cf.at) > feedTTL {
		if cf, err = s.buildFeed(r.Context(), kind, l); err != nil {
			s.serverError(w, r, "build feed", err)
			return
		}
		cf.stamp = stamp
		s.feeds.mu.Lock()
		s.feeds.m[key] = cf
		s.feeds.mu.Unlock()
	}
	h := w.Header()
	h.Set("Content-Type", cf.ctype)
	// Short: a reader's app asks again soon, cheaply (ETag, Last-Modified).
	h.Set("Cache-Control", "public, max-age=60")
	h.Set("ETag", etag(cf.body))
	http.ServeContent(w, r, "", cf.modified, bytes.NewReader(cf.body))
}

// feedItem is one edition in a feed. ImageSize and ImageType are known
// only for a hero picture uploaded to Herald (0 and "" otherwise): an
// enclosure needs its real length, which a picture on another server
// does not tell us without fetching it.
type feedItem struct {
	render.FeedEntry
	ImageSize int64
	ImageType string
}

func (s *Server) buildFeed(ctx context.Context, kind string, l *model.List) (cachedFeed, error) {
	pub, rd, err := s.renderer.get(ctx)
	if err != nil {
		return cachedFeed{}, err
	}
	f := store.EditionFilter{Status: model.EditionPublished, PublicOnly: true, Limit: feedItems}
	archive, feedBase := s.base+"/archive", s.base
	if l != nil {
		// The list's brand and language, its own archive as the feed's home.
		if rd, err = s.renderer.forList(ctx, l); err != nil {
			return cachedFeed{}, err
		}
		pub, f.ListID, archive = l.Publication(pub), l.ID, archive+"/"+l.Slug
		feedBase = archive
	}
	eds, err := s.store.ListEditions(ctx, f)
	if err != nil {
		return cachedFeed{}, err
	}
	// Last-Modified follows the database, not the items' dates: an
	// edition dated last year and published now is news to a reader.
	var modified time.Time
	items := make([]feedItem, 0, len(eds))
	for _, e := range eds {
		fe, err := rd.FeedEntry(e)
		if err != nil {
			return cachedFeed{}, err
		}
		it := feedItem{FeedEntry: fe}
		if it.ImageSize, it.ImageType, err = s.uploadedImage(ctx, fe.ImageURL); err != nil {
			return cachedFeed{}, err
		}
		items = append(items, it)
		for _, t := range []time.Time{e.UpdatedAt, e.PublishedAt} {
			if t.After(modified) {
				modified = t
			}
		}
	}
	if modified.IsZero() {
		modified = startTime
	}
	modified = modified.UTC().Truncate(time.Second)
	body, ctype, err := writeFeed(kind, archive, feedBase, pub, items, modified)
	if err != nil {
		return cachedFeed{}, err
	}
	return cachedFeed{body: body, ctype: ctype, modified: modified, at: time.Now()}, nil
}

// uploadedImage returns the size and type of a picture uploaded to this
// Herald (served at /media/), or 0 and "" for any other URL.
func (s *Server) uploadedImage(ctx context.Context, u string) (int64, string, error) {
	name, ok := strings.CutPrefix(u, s.base+"/media/")
	if !ok || name == "" || strings.ContainsAny(name, "/?#") {
		return 0, "", nil
	}
	size, ctype, err := s.store.MediaInfo(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return 0, "", nil
	}
	return size, ctype, err
}

// writeFeed writes items as an RSS 2.0 ("rss"), Atom ("atom") or JSON
// Feed (any other kind) document, with updated as the feed's own date.
// Each format gets what its specification asks for: RSS wants an address
// in <author>, so a byline (a name) goes in dc:creator; Atom wants an
// author for every entry, so the publication is the feed's author; an
// enclosure carries the picture's real length or is left out, while JSON
// Feed's image needs no length and always names the picture.
func writeFeed(kind, archive, feedBase string, pub model.Publication, items []feedItem, updated time.Time) ([]byte, string, error) {
	f := &feeds.Feed{
		Title:       pub.Name,
		Link:        &feeds.Link{Href: archive},
		Description: i18n.For(pub.Language).T("feed.summary", "Publication", pub.Name),
		Id:          archive,
		Updated:     updated,
		Created:     updated,
	}
	for _, it := range items {
		fi := &feeds.Item{Title: it.Title, Link: &feeds.Link{Href: it.Link}, Description: it.Summary, Id: it.ID,
			Created: it.Published, Updated: it.Updated, Content: it.ContentHTML}
		if it.Author != "" {
			fi.Author = &feeds.Author{Name: it.Author}
		}
		if it.ImageURL != "" && it.ImageSize > 0 && it.ImageType != "" {
			fi.Enclosure = &feeds.Enclosure{Url: it.ImageURL, Type: it.ImageType, Length: strconv.FormatInt(it.ImageSize, 10)}
		}
		f.Items = append(f.Items, fi)
	}
	switch kind {
	case "rss":
		b, err := writeRSS(f, items)
		return b, "application/rss+xml; charset=utf-8", err
	case "atom":
		af := (&feeds.Atom{Feed: f}).AtomFeed()
		af.Author = &feeds.AtomAuthor{AtomPerson: feeds.AtomPerson{Name: pub.Name}}
		for i, e := range af.Entries {
			e.Published = items[i].Published.Format(time.RFC3339)
		}
		s, err := feeds.ToXML(af)
		return []byte(s), "application/atom+xml; charset=utf-8", err
	default:
		jf := (&feeds.JSON{Feed: f}).JSONFeed()
		jf.FeedUrl = feedBase + "/feed.json"
		for i, e := range jf.Items {
			e.Image = items[i].ImageURL
		}
		s, err := jf.ToJSON()
		return []byte(s), "application/feed+json; charset=utf-8", err
	}
}

// rssDoc is gorilla/feeds' RSS 2.0 document with the Dublin Core
// namespace, whose dc:creator names an item's writer.
type rssDoc struct {
	XMLName   xml.Name `xml:"rss"`
	Version   string   `xml:"version,attr"`
	ContentNS string   `xml:"xmlns:content,attr"`
	DCNS      string   `xml:"xmlns:dc,attr"`
	Channel   *rssChannel
}

type rssChannel struct {
	*feeds.RssFeed
	Items []*rssItem `xml:"item"`
}

type rssItem struct {
	*feeds.RssItem
	Creator string `xml:"dc:creator,omitempty"`
}

func writeRSS(f *feeds.Feed, items []feedItem) ([]byte, error) {
	rf := (&feeds.Rss{Feed: f}).RssFeed()
	ch := &rssChannel{RssFeed: rf}
	for i, it := range rf.Items {
		// A name alone is not a valid RSS author (it must be an address).
		it.Author = ""
		ch.Items = append(ch.Items, &rssItem{RssItem: it, Creator: items[i].Author})
	}
	rf.Items = nil
	doc := rssDoc{Version: "2.0", ContentNS: "http://purl.org/rss/1.0/modules/content/", DCNS: "http://purl.org/dc/elements/1.1/", Channel: ch}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("write RSS: %w", err)
	}
	return buf.Bytes(), nil
}
