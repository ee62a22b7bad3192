package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/feeds"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/token"
)

type archiveItem struct {
	*model.Edition
	Dateline string
}

// archiveIndex lists public, published editions, newest first, a page at
// a time (?page=2).
func (s *Server) archiveIndex(w http.ResponseWriter, r *http.Request) {
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if page < 1 || page > 10000 {
		page = 1
	}
	size := s.opts.ArchivePageSize
	eds, err := s.store.ListEditions(r.Context(), store.EditionFilter{Status: model.EditionPublished, PublicOnly: true,
		Limit: size + 1, Offset: (page - 1) * size})
	if err != nil {
		s.serverError(w, r, "list editions", err)
		return
	}
	data := struct {
		Editions   []archiveItem
		Prev, Next string
	}{}
	if len(eds) > size {
		eds = eds[:size]
		data.Next = "/archive?page=" + strconv.Itoa(page+1)
	}
	if page == 2 {
		data.Prev = "/archive"
	} else if page > 2 {
		data.Prev = "/archive?page=" + strconv.Itoa(page-1)
	}
	for _, e := range eds {
		data.Editions = append(data.Editions, archiveItem{e, dateline(e)})
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	s.render(w, r, http.StatusOK, "archive", view{Title: "Archive", Feeds: true, Data: data})
}

// archiveSlash sends /archive/ (a typed or pasted address) to the one
// archive URL, keeping the page asked for.
func (s *Server) archiveSlash(w http.ResponseWriter, r *http.Request) {
	to := "/archive"
	if q := r.URL.RawQuery; q != "" {
		to += "?" + q
	}
	http.Redirect(w, r, to, http.StatusMovedPermanently)
}

func public(e *model.Edition) bool { return e.Public && e.Status == model.EditionPublished }

// archiveEdition serves one public edition as the editions renderer draws
// it, with caching headers.
func (s *Server) archiveEdition(w http.ResponseWriter, r *http.Request) {
	e, err := s.store.EditionBySlug(r.Context(), r.PathValue("slug"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !public(e)) {
		s.notFound(w, r)
		return
	}
	if err != nil {
		s.serverError(w, r, "read edition", err)
		return
	}
	s.serveEdition(w, r, e, "public, max-age=300")
}

func (s *Server) serveEdition(w http.ResponseWriter, r *http.Request, e *model.Edition, cache string) {
	_, rd, err := s.renderer.get(r.Context())
	if err != nil {
		s.serverError(w, r, "renderer", err)
		return
	}
	page, err := rd.Web(e)
	if err != nil {
		s.serverError(w, r, "render edition", err)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", editionCSP(page))
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", cache)
	h.Set("ETag", etag(page))
	http.ServeContent(w, r, "", e.UpdatedAt, bytes.NewReader(page))
}

var styleBlock = regexp.MustCompile(`(?s)<style[^>]*>(.*?)</style>`)

// editionCSP allows exactly the page's own inline style blocks (by hash),
// remote images (hero pictures live on the publication's servers), and no
// script at all.
func editionCSP(page []byte) string {
	var b strings.Builder
	b.WriteString("default-src 'none'; style-src")
	n := 0
	for _, m := range styleBlock.FindAllSubmatch(page, -1) {
		sum := sha256.Sum256(m[1])
		b.WriteString(" 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'")
		n++
	}
	if n == 0 {
		b.WriteString(" 'none'")
	}
	b.WriteString("; img-src https: http: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	return b.String()
}

func etag(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

// archiveCampaign is the "view in browser" link of every message: public
// editions redirect to their archive page; an edition that is not public
// is shown only for a campaign that was actually sent, and never indexed.
func (s *Server) archiveCampaign(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.notFound(w, r)
		return
	}
	info, err := s.campaigns.get(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.notFound(w, r)
		return
	}
	if err != nil {
		s.serverError(w, r, "read campaign", err)
		return
	}
	e, err := s.store.GetEdition(r.Context(), info.editionID)
	if errors.Is(err, store.ErrNotFound) {
		s.notFound(w, r)
		return
	}
	if err != nil {
		s.serverError(w, r, "read edition", err)
		return
	}
	if public(e) {
		http.Redirect(w, r, "/archive/"+e.Slug, http.StatusFound)
		return
	}
	switch info.status {
	case model.CampaignSending, model.CampaignPaused, model.CampaignSent:
	default:
		s.notFound(w, r)
		return
	}
	// Not in the public archive: only the link in the campaign's own mail
	// opens it (a guessed campaign number does not).
	if c, err := s.signer.Verify(r.URL.Query().Get("k"), token.View, time.Now()); err != nil || c.CampaignID != id {
		s.notFound(w, r)
		return
	}
	w.Header().Set("X-Robots-Tag", "noindex, nofollow")
	s.serveEdition(w, r, e, "private, max-age=300")
}

// feedCache keeps each rendered feed for a short while: rendering every
// entry per poll would let feed readers load the server.
type feedCache struct {
	mu sync.Mutex
	m  map[string]cachedFeed
}

type cachedFeed struct {
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
	kind := strings.TrimPrefix(r.URL.Path, "/feed.")
	s.feeds.mu.Lock()
	if s.feeds.m == nil {
		s.feeds.m = map[string]cachedFeed{}
	}
	cf, ok := s.feeds.m[kind]
	s.feeds.mu.Unlock()
	if !ok || time.Since(cf.at) > feedTTL {
		var err error
		if cf, err = s.buildFeed(r, kind); err != nil {
			s.serverError(w, r, "build feed", err)
			return
		}
		s.feeds.mu.Lock()
		s.feeds.m[kind] = cf
		s.feeds.mu.Unlock()
	}
	h := w.Header()
	h.Set("Content-Type", cf.ctype)
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("ETag", etag(cf.body))
	http.ServeContent(w, r, "", cf.modified, bytes.NewReader(cf.body))
}

func (s *Server) buildFeed(r *http.Request, kind string) (cachedFeed, error) {
	pub, rd, err := s.renderer.get(r.Context())
	if err != nil {
		return cachedFeed{}, err
	}
	eds, err := s.store.ListEditions(r.Context(), store.EditionFilter{Status: model.EditionPublished, PublicOnly: true, Limit: feedItems})
	if err != nil {
		return cachedFeed{}, err
	}
	f := &feeds.Feed{
		Title:       pub.Name,
		Link:        &feeds.Link{Href: s.base + "/archive"},
		Description: "Every public edition of " + pub.Name,
		Id:          s.base + "/archive",
	}
	var modified time.Time
	for _, e := range eds {
		fe, err := rd.FeedEntry(e)
		if err != nil {
			return cachedFeed{}, err
		}
		it := &feeds.Item{Title: fe.Title, Link: &feeds.Link{Href: fe.Link}, Description: fe.Summary, Id: fe.ID,
			Created: fe.Published, Updated: fe.Updated, Content: fe.ContentHTML}
		if fe.Author != "" {
			it.Author = &feeds.Author{Name: fe.Author}
		}
		if fe.ImageURL != "" {
			it.Enclosure = &feeds.Enclosure{Url: fe.ImageURL, Type: imageType(fe.ImageURL), Length: "0"}
		}
		f.Items = append(f.Items, it)
		if fe.Updated.After(modified) {
			modified = fe.Updated
		}
	}
	if modified.IsZero() {
		modified = startTime
	}
	f.Updated, f.Created = modified, modified
	var body string
	cf := cachedFeed{modified: modified, at: time.Now()}
	switch kind {
	case "rss":
		body, err = f.ToRss()
		cf.ctype = "application/rss+xml; charset=utf-8"
	case "atom":
		body, err = f.ToAtom()
		cf.ctype = "application/atom+xml; charset=utf-8"
	default:
		body, err = f.ToJSON()
		cf.ctype = "application/feed+json; charset=utf-8"
	}
	if err != nil {
		return cachedFeed{}, err
	}
	cf.body = []byte(body)
	return cf, nil
}

func imageType(u string) string {
	switch {
	case strings.HasSuffix(u, ".png"):
		return "image/png"
	case strings.HasSuffix(u, ".webp"):
		return "image/webp"
	case strings.HasSuffix(u, ".gif"):
		return "image/gif"
	}
	return "image/jpeg"
}
