package render

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/herald-news/herald/internal/edition"
	"github.com/herald-news/herald/internal/model"
)

// Web renders e as a complete page for the public archive: semantic,
// responsive HTML with the publication's language, headings and alt text.
func (r *Renderer) Web(e *model.Edition) ([]byte, error) {
	v, err := r.view(e, 1200)
	if err != nil {
		return nil, err
	}
	return execute(r.web, r.webSrc, WebTemplate, v)
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
	Published   time.Time // PublishedAt, or the edition's date at midnight UTC
	Updated     time.Time // UpdatedAt, or Published
}

// FeedEntry renders e for the feeds.
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
		ContentHTML: string(content), Published: e.PublishedAt, Updated: e.UpdatedAt,
	}
	if e.Hero != nil {
		fe.ImageURL = e.Hero.URL
	}
	for _, s := range e.Sections {
		if s.Kind == model.KindLead && s.Lead != nil {
			fe.Author = s.Lead.Byline.Name
		}
	}
	if fe.Published.IsZero() {
		fe.Published, _ = time.Parse(time.DateOnly, e.Date)
	}
	if fe.Updated.IsZero() {
		fe.Updated = fe.Published
	}
	return fe, nil
}
