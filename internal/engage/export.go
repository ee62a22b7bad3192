package engage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/herald-news/herald/internal/csvsafe"
	"github.com/herald-news/herald/internal/importer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

// Parts of a campaign's CSV export. The admin and the API offer the same
// ones (export.csv?part=NAME).
const (
	// PartSummary: one row per figure (recipients, delivered, opens and
	// clicks by class, bounces, complaints, unsubscribes).
	PartSummary = "summary"
	// PartLinks: one row per link, with its readers, machines and clicks.
	PartLinks = "links"
	// PartEvents: every open and click with its class and reason.
	PartEvents = "events"
	// PartFeedback: every rating, comment and reason for leaving readers
	// gave after this campaign.
	PartFeedback = "feedback"
)

// Parts lists the export parts in the order pages offer them.
var Parts = []string{PartSummary, PartLinks, PartEvents, PartFeedback}

// ErrUnknownPart is returned for an export part that does not exist.
var ErrUnknownPart = errors.New("no such export: ask for summary, links, events or feedback")

// CheckPart returns ErrUnknownPart for a part that does not exist ("" is
// the summary), so a front door can refuse it before it starts a download.
func CheckPart(part string) error {
	if part == "" || slices.Contains(Parts, part) {
		return nil
	}
	return fmt.Errorf("%w (not %q)", ErrUnknownPart, part)
}

// FileName is a download's name for one part of a campaign's export.
func FileName(campaignID int64, part string) string {
	if part == "" {
		part = PartSummary
	}
	return fmt.Sprintf("campaign-%d-%s.csv", campaignID, part)
}

// Exporter is what an export reads: *store.Store.
type Exporter interface {
	CampaignProgress(ctx context.Context, id int64) (model.Progress, error)
	CampaignEventCounts(ctx context.Context, id int64) (store.EventCounts, error)
	TopLinks(ctx context.Context, id int64, limit int) ([]store.LinkCount, error)
	CampaignEvents(ctx context.Context, id int64, fn func(store.CampaignEvent) error) error
	FeedbackRows(ctx context.Context, id int64, fn func(store.FeedbackComment) error) error
}

// maxLinks bounds the links export; an edition has far fewer.
const maxLinks = 100000

// WriteCSV writes one part of a campaign's engagement as CSV. Cells a
// spreadsheet would run as a formula are defused (package csvsafe).
func WriteCSV(ctx context.Context, w io.Writer, src Exporter, campaignID int64, part string) error {
	cw := csvsafe.NewWriter(w)
	row := func(cells ...string) error { return cw.Write(cells) }
	// put writes a row whose error, should writing fail, sticks in cw and
	// is returned by cw.Error at the end.
	put := func(cells ...string) { _ = row(cells...) }
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	switch part {
	case PartSummary, "":
		p, err := src.CampaignProgress(ctx, campaignID)
		if err != nil {
			return err
		}
		c, err := src.CampaignEventCounts(ctx, campaignID)
		if err != nil {
			return err
		}
		put("figure", "class", "subscribers", "events")
		put("recipients", "", n(p.Total), "")
		put("delivered", "", n(p.Sent), "")
		put("failed", "", n(p.Failed), "")
		for _, k := range []model.EventKind{model.EventOpen, model.EventClick} {
			for _, class := range []model.EventClass{model.ClassHuman, model.ClassMachine, model.ClassPrivacy} {
				if k == model.EventClick && class == model.ClassPrivacy {
					continue
				}
				put(string(k)+"s", string(class), n(c.UniqueBy[class][k]), n(c.TotalBy[class][k]))
			}
		}
		for _, k := range []model.EventKind{model.EventBounce, model.EventComplaint, model.EventUnsubscribe} {
			put(string(k)+"s", "", n(c.Unique[k]), n(c.Total[k]))
		}
	case PartLinks:
		links, err := src.TopLinks(ctx, campaignID, maxLinks)
		if err != nil {
			return err
		}
		put("url", "readers", "machines", "clicks")
		for _, l := range links {
			put(l.URL, n(l.Human), n(l.Machine), n(l.Clicks))
		}
	case PartEvents:
		put("at", "kind", "email", "url", "class", "reason")
		err := src.CampaignEvents(ctx, campaignID, func(e store.CampaignEvent) error {
			return row(e.At.UTC().Format(time.RFC3339), string(e.Kind), e.Email, e.URL, string(e.Class), e.Reason)
		})
		if err != nil {
			return err
		}
	case PartFeedback:
		put("at", "kind", "email", "rating", "section_or_reason", "comment")
		err := src.FeedbackRows(ctx, campaignID, func(f store.FeedbackComment) error {
			rating := ""
			if f.Rating > 0 {
				rating = n(int64(f.Rating))
			}
			return row(f.At.UTC().Format(time.RFC3339), string(f.Kind), f.Email, rating, f.Reason, f.Comment)
		})
		if err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w (not %q)", ErrUnknownPart, part)
	}
	cw.Flush()
	return cw.Error()
}

// Download answers an HTTP request with one part of a campaign's export as
// a CSV file (importer.ServeCSV: an error before the first bytes is
// returned for the front door to answer its own way, one after them cuts
// the download short).
func Download(w http.ResponseWriter, r *http.Request, src Exporter, campaignID int64, part string) error {
	return importer.ServeCSV(w, FileName(campaignID, part), func(out io.Writer) error {
		return WriteCSV(r.Context(), out, src, campaignID, part)
	})
}
