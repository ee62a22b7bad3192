package api

import (
	"github.com/herald-news/herald/client"
	"github.com/herald-news/herald/internal/model"
)

// The published client has wire types of its own (an outside program
// cannot import internal/model); these convert between them and the
// model, field by field. TestWireTypesKeepTheJSON holds the JSON of both
// identical.

func editionOut(e *model.Edition) client.Edition {
	out := client.Edition{ID: e.ID, Slug: e.Slug, Date: e.Date, Slot: client.Slot(e.Slot), Subject: e.Subject, Preheader: e.Preheader,
		Status: client.EditionStatus(e.Status), Public: e.Public, Revision: e.Revision,
		CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt, PublishedAt: e.PublishedAt}
	if e.Hero != nil {
		h := client.Image(*e.Hero)
		out.Hero = &h
	}
	if e.Sections != nil {
		out.Sections = make([]client.Section, len(e.Sections))
	}
	for i, s := range e.Sections {
		cs := client.Section{Kind: client.SectionKind(s.Kind), Title: s.Title, NoTitle: s.NoTitle,
			Cards:  convert(s.Cards, func(c model.Card) client.Card { return client.Card(c) }),
			Briefs: convert(s.Briefs, func(b model.Brief) client.Brief { return client.Brief(b) }),
			Picks:  convert(s.Picks, func(p model.Pick) client.Pick { return client.Pick(p) })}
		if s.Lead != nil {
			cs.Lead = &client.Lead{Headline: s.Lead.Headline, Body: s.Lead.Body, Byline: client.Byline(s.Lead.Byline)}
		}
		if s.Text != nil {
			t := client.Text(*s.Text)
			cs.Text = &t
		}
		out.Sections[i] = cs
	}
	return out
}

func editionIn(in *client.Edition) *model.Edition {
	e := &model.Edition{ID: in.ID, Slug: in.Slug, Date: in.Date, Slot: model.Slot(in.Slot), Subject: in.Subject, Preheader: in.Preheader,
		Status: model.EditionStatus(in.Status), Public: in.Public, Revision: in.Revision,
		CreatedAt: in.CreatedAt, UpdatedAt: in.UpdatedAt, PublishedAt: in.PublishedAt}
	if in.Hero != nil {
		h := model.Image(*in.Hero)
		e.Hero = &h
	}
	if in.Sections != nil {
		e.Sections = make([]model.Section, len(in.Sections))
	}
	for i, s := range in.Sections {
		ms := model.Section{Kind: model.SectionKind(s.Kind), Title: s.Title, NoTitle: s.NoTitle,
			Cards:  convert(s.Cards, func(c client.Card) model.Card { return model.Card(c) }),
			Briefs: convert(s.Briefs, func(b client.Brief) model.Brief { return model.Brief(b) }),
			Picks:  convert(s.Picks, func(p client.Pick) model.Pick { return model.Pick(p) })}
		if s.Lead != nil {
			ms.Lead = &model.Lead{Headline: s.Lead.Headline, Body: s.Lead.Body, Byline: model.Byline(s.Lead.Byline)}
		}
		if s.Text != nil {
			t := model.Text(*s.Text)
			ms.Text = &t
		}
		e.Sections[i] = ms
	}
	return e
}

func revisionOut(r model.EditionRevision) client.EditionRevision {
	return client.EditionRevision{EditionID: r.EditionID, Revision: r.Revision, Edition: editionOut(&r.Edition), Author: r.Author, CreatedAt: r.CreatedAt}
}

func sourceOut(f model.Feed) client.Source {
	return client.Source{ID: f.ID, Name: f.Name, URL: f.URL, Own: f.Own, Publication: f.Publication, IntervalMinutes: f.IntervalMinutes,
		Status: client.SourceStatus(f.Status), LastError: f.LastError, PolledAt: f.PolledAt, NextPollAt: f.NextPollAt, CreatedAt: f.CreatedAt}
}

func itemOut(i model.FeedItem) client.Item {
	return client.Item{ID: i.ID, SourceID: i.SourceID, GUID: i.GUID, URL: i.URL, Title: i.Title, Author: i.Author, Summary: i.Summary,
		ImageURL: i.ImageURL, PublishedAt: i.PublishedAt, FetchedAt: i.FetchedAt, SourceName: i.SourceName, Publication: i.Publication,
		Own: i.Own, UsedIn: i.UsedIn}
}

func runOut(r model.SeriesRun) client.SeriesRun {
	return client.SeriesRun{ID: r.ID, SeriesID: r.SeriesID, Date: r.Date, SlotAt: r.SlotAt, EditionID: r.EditionID,
		Status: client.RunStatus(r.Status), RemindedAt: r.RemindedAt, CampaignID: r.CampaignID, CreatedAt: r.CreatedAt}
}

// convert maps a slice, keeping nil as nil (omitempty then omits it).
func convert[S, T any](in []S, f func(S) T) []T {
	if in == nil {
		return nil
	}
	out := make([]T, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}
