package render

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/edition"
	"github.com/herald-news/herald/internal/model"
)

// Web renders e as a complete page for the public archive: semantic,
// responsive HTML with the publication's language, headings and alt text,
// navigation to the archive and a subscribe prompt leading to the home
// page's newsletters. WebPage leads the prompt to one list's form.
func (r *Renderer) Web(e *model.Edition) ([]byte, error) { return r.WebPage(e, "") }

// WebPage is Web with the subscribe prompt leading to subscribe (the
// form of the list the edition went to); "" leads to the home page, which
// lists every newsletter.
func (r *Renderer) WebPage(e *model.Edition, subscribe string) ([]byte, error) {
	v, err := r.view(e, 1200)
	if err != nil {
		return nil, err
	}
	if subscribe != "" {
		v.Links.Subscribe = subscribe
	}
	return execute(r.web, r.webSrc, WebTemplate, v)
}

// WebLinks are where an edition's web page leads beyond the edition.
type WebLinks struct {
	Home      string // the public home page, which lists the newsletters
	Archive   string // every edition
	Subscribe string // the subscribe prompt's target
}

// webLinks derives the page's links from the archive's base URL: the
// archive is that URL without its final slash, the home page its parent
// ("https://news.example/archive/" gives "https://news.example/").
func webLinks(archiveBase string) WebLinks {
	archive := strings.TrimSuffix(archiveBase, "/")
	home := archive[:strings.LastIndex(archive, "/")+1]
	return WebLinks{Home: home, Archive: archive, Subscribe: home}
}

// JSON renders e as indented JSON, the same shape the API uses.
func (r *Renderer) JSON(e *model.Edition) ([]byte, error) {
	if ps := edition.Validate(e); len(ps) > 0 {
		return nil, fmt.Errorf("edition %q cannot be rendered: %w", e.Slug, ps)
	}
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode edition: %w", err)
	}
	return append(b, '\n'), nil
}

// FeedEntry is one edition as an RSS, Atom or JSON Feed item.
type FeedEntry struct {
	ID          string    // stable and unique: the archive URL
	Title       string    // the subject
	Link        string    // the archive page
	Summary     string    // the preheader, plain text
	ContentHTML string    // the edition's article HTML, without page chrome
	ImageURL    string    // the hero image, if any
	Author      string    // the lead's byline, if any
	Published   time.Time // the edition's date (see FeedEntry)
	Updated     time.Time // Published, or a later correction (see FeedEntry)
}

// FeedEntry renders e for the feeds. Its dates are the edition's, not the
// moments someone pressed a button: Published is the edition's date, at
// the time it was published when that was on the same day (UTC), which
// orders a day's slots, and at midnight UTC otherwise (an edition
// published the evening before, or backfilled a year later). Updated is
// Published, unless the edition was saved again after it was published:
// then that correction is the update.
func (r *Renderer) FeedEntry(e *model.Edition) (FeedEntry, error) {
	v, err := r.view(e, 1200)
	if err != nil {
		return FeedEntry{}, err
	}
	content, err := execute(r.web, r.webSrc, "content", v)
	if err != nil {
		return FeedEntry{}, err
	}
	fe := FeedEntry{
		ID: v.ArchiveURL, Title: e.Subject, Link: v.ArchiveURL, Summary: e.Preheader,
		ContentHTML: string(content),
	}
	if e.Hero != nil {
		fe.ImageURL = e.Hero.URL
	}
	for _, s := range e.Sections {
		if s.Kind == model.KindLead && s.Lead != nil {
			fe.Author = s.Lead.Byline.Name
		}
	}
	fe.Published, fe.Updated = feedDates(e)
	return fe, nil
}

// feedDates returns an edition's date as FeedEntry describes it.
func feedDates(e *model.Edition) (published, updated time.Time) {
	day, _ := time.Parse(time.DateOnly, e.Date) // Validate has checked it
	published = day
	if p := e.PublishedAt.UTC(); !p.IsZero() && p.Format(time.DateOnly) == e.Date {
		published = p
	}
	updated = published
	if !e.PublishedAt.IsZero() && e.UpdatedAt.After(e.PublishedAt) && e.UpdatedAt.After(published) {
		updated = e.UpdatedAt.UTC()
	}
	return published, updated
}
