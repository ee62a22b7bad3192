package engage

import (
	"context"
	"slices"
	"time"

	"github.com/herald-news/herald/internal/store"
)

// SourceWeek is what one source's links did in the campaigns started in
// one week.
type SourceWeek struct {
	Week      time.Time // Monday, 00:00 UTC
	Campaigns int       // campaigns that carried its links
	Links     int       // its links in them
	Readers   int64     // readers' clicks on them (unique per link)
	// Share is Readers over the readers' clicks on every link of those
	// campaigns: "picks from this publication get this share of clicks".
	Share float64
}

// SourceTrend is one source's weeks, oldest first, and their sum.
type SourceTrend struct {
	Weeks []SourceWeek
	Total SourceWeek // Week is zero
}

// SourceSource is what the per-source figures read: *store.Store.
type SourceSource interface {
	CampaignsLinksSince(ctx context.Context, since time.Time) ([]store.CampaignLinks, error)
	SourcesOfURLs(ctx context.Context, urls []string) (map[string]int64, error)
	ReadersByLinkSince(ctx context.Context, since time.Time) ([]store.LinkReaders, error)
}

// SourceFigures attributes the links of the campaigns started since a time
// to the sources their items came from and returns each source's weeks.
// Only readers' clicks count (package engage's classification).
func SourceFigures(ctx context.Context, src SourceSource, since time.Time) (map[int64]*SourceTrend, error) {
	camps, err := src.CampaignsLinksSince(ctx, since)
	if err != nil {
		return nil, err
	}
	var urls []string
	seen := map[string]bool{}
	for _, c := range camps {
		for _, l := range c.Links {
			if !seen[l] {
				seen[l] = true
				urls = append(urls, l)
			}
		}
	}
	sourceOf, err := src.SourcesOfURLs(ctx, urls)
	if err != nil {
		return nil, err
	}
	clicks, err := src.ReadersByLinkSince(ctx, since)
	if err != nil {
		return nil, err
	}
	type key struct {
		campaign int64
		url      string
	}
	readers := map[key]int64{}
	all := map[int64]int64{} // campaign -> readers' clicks on any link
	for _, c := range clicks {
		readers[key{c.CampaignID, c.URL}] = c.Readers
		all[c.CampaignID] += c.Readers
	}
	type acc struct {
		SourceWeek
		total int64 // readers' clicks on every link of the campaigns
	}
	weeks := map[int64]map[time.Time]*acc{}
	for _, c := range camps {
		week := monday(c.StartedAt)
		counted := map[int64]bool{}
		for _, l := range c.Links {
			id, ok := sourceOf[l]
			if !ok {
				continue
			}
			if weeks[id] == nil {
				weeks[id] = map[time.Time]*acc{}
			}
			a := weeks[id][week]
			if a == nil {
				a = &acc{SourceWeek: SourceWeek{Week: week}}
				weeks[id][week] = a
			}
			if !counted[id] {
				counted[id] = true
				a.Campaigns++
				a.total += all[c.ID]
			}
			a.Links++
			a.Readers += readers[key{c.ID, l}]
		}
	}
	out := map[int64]*SourceTrend{}
	for id, ws := range weeks {
		t := &SourceTrend{}
		var total int64
		for _, a := range ws {
			if a.total > 0 {
				a.Share = float64(a.Readers) / float64(a.total)
			}
			t.Weeks = append(t.Weeks, a.SourceWeek)
			t.Total.Campaigns += a.Campaigns
			t.Total.Links += a.Links
			t.Total.Readers += a.Readers
			total += a.total
		}
		if total > 0 {
			t.Total.Share = float64(t.Total.Readers) / float64(total)
		}
		slices.SortFunc(t.Weeks, func(a, b SourceWeek) int { return a.Week.Compare(b.Week) })
		out[id] = t
	}
	return out, nil
}

// monday is the start of t's week (UTC).
func monday(t time.Time) time.Time {
	t = t.UTC()
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}
