package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

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
	s.archiveList(w, r, nil)
}

// archiveList lists the public, published editions of list l (nil: of
// every list) in its language and with its brand and feeds, a page at a
// time.
func (s *Server) archiveList(w http.ResponseWriter, r *http.Request, l *model.List) {
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if page < 1 || page > 10000 {
		page = 1
	}
	base, lang, feedBase := "/archive", s.negotiate(r), ""
	f := store.EditionFilter{Status: model.EditionPublished, PublicOnly: true}
	if l != nil {
		base = "/archive/" + l.Slug
		lang, feedBase, f.ListID = s.forList(r, l), base, l.ID
	}
	size := s.opts.ArchivePageSize
	f.Limit, f.Offset = size+1, (page-1)*size
	eds, err := s.store.ListEditions(r.Context(), f)
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
		data.Next = base + "?page=" + strconv.Itoa(page+1)
	}
	if page == 2 {
		data.Prev = base
	} else if page > 2 {
		data.Prev = base + "?page=" + strconv.Itoa(page-1)
	}
	for _, e := range eds {
		data.Editions = append(data.Editions, archiveItem{e, dateline(lang, e)})
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	s.render(w, r, http.StatusOK, "archive", view{L: lang, list: l, Title: lang.T("archive.title"), Feeds: true, FeedBase: feedBase, Data: data})
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
// it, with caching headers; a public list's slug is that list's archive
// (a list's slug wins over an edition's).
func (s *Server) archiveEdition(w http.ResponseWriter, r *http.Request) {
	if l, err := s.store.ListBySlug(r.Context(), r.PathValue("slug")); err == nil && l.Public {
		s.archiveList(w, r, l)
		return
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.serverError(w, r, "read list", err)
		return
	}
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

// serveEdition serves e as the web page its readers get: under the brand
// and in the language of the list its newest campaign went to.
func (s *Server) serveEdition(w http.ResponseWriter, r *http.Request, e *model.Edition, cache string) {
	var list *model.List
	id, err := s.store.EditionListID(r.Context(), e.ID)
	if err == nil && id != 0 {
		list, err = s.store.ListByID(r.Context(), id)
	}
	if err != nil {
		s.serverError(w, r, "read the edition's list", err)
		return
	}
	rd, err := s.renderer.forList(r.Context(), list)
	if err != nil {
		s.serverError(w, r, "renderer", err)
		return
	}
	// The subscribe prompt leads to the form of the edition's list when
	// readers may join it, else to the home page's newsletters.
	subscribe := ""
	if list != nil && list.Public {
		subscribe = s.base + "/subscribe/" + url.PathEscape(list.Slug)
	}
	page, err := rd.WebPage(e, subscribe)
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
