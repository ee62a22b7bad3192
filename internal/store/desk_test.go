package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestSources: a new source is due at once; a claim leases it (a second
// claim gets nothing until the lease ends); a poll stores items once per
// GUID, keeps the validators, and a failed poll keeps items and says why.
func TestSources(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		s.SetClockForTest(func() time.Time { return now })
		src := &model.Feed{Name: "Own site", URL: "https://example.com/feed.xml", Own: true, Interval: 10 * time.Minute}
		if err := s.CreateSource(ctx, src); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateSource(ctx, &model.Feed{Name: "Again", URL: src.URL}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("same URL twice: %v, want ErrConflict", err)
		}
		got, err := s.ClaimSources(ctx, 10, time.Minute)
		if err != nil || len(got) != 1 || got[0].ID != src.ID {
			t.Fatalf("claim = %v, %v; want the new source", got, err)
		}
		if again, err := s.ClaimSources(ctx, 10, time.Minute); err != nil || len(again) != 0 {
			t.Fatalf("second claim under the lease = %v, %v; want none", again, err)
		}
		items := []model.FeedItem{
			{GUID: "a", URL: "https://example.com/a", Title: "Harbour tolls rise", Author: "Ann Reed"},
			{GUID: "b", URL: "https://example.com/b", Title: "Rail strike ends", PublishedAt: now.Add(-time.Hour)},
		}
		if n, err := s.RecordPoll(ctx, store.Poll{SourceID: src.ID, ETag: `"v1"`, LastModified: "Mon, 02 Mar 2026 08:00:00 GMT", Items: items}); err != nil || n != 2 {
			t.Fatalf("first poll added %d, %v; want 2", n, err)
		}
		items = append(items, model.FeedItem{GUID: "c", URL: "https://example.com/c", Title: "Budget vote delayed"})
		items[0].Title = "Changed title"
		if n, err := s.RecordPoll(ctx, store.Poll{SourceID: src.ID, ETag: `"v2"`, Items: items}); err != nil || n != 1 {
			t.Fatalf("second poll added %d, %v; want 1 (items dedupe by GUID)", n, err)
		}
		got1, _ := s.Source(ctx, src.ID)
		if got1.Status != model.SourceOK || got1.ETag != `"v2"` || !got1.NextPollAt.Equal(now.Add(10*time.Minute)) {
			t.Fatalf("after poll: %+v", got1)
		}
		if _, err := s.RecordPoll(ctx, store.Poll{SourceID: src.ID, NotModified: true}); err != nil {
			t.Fatal(err)
		}
		if got2, _ := s.Source(ctx, src.ID); got2.ETag != `"v2"` {
			t.Fatalf("304 lost the validator: %q", got2.ETag)
		}
		if _, err := s.RecordPoll(ctx, store.Poll{SourceID: src.ID, Problem: "the feed is not RSS, Atom or JSON Feed"}); err != nil {
			t.Fatal(err)
		}
		got3, _ := s.Source(ctx, src.ID)
		if got3.Status != model.SourceError || got3.LastError == "" {
			t.Fatalf("failed poll: %+v", got3)
		}
		all, err := s.SourceItems(ctx, store.ItemFilter{})
		if err != nil || len(all) != 3 || all[0].GUID != "c" || all[2].Title != "Harbour tolls rise" || !all[0].Own || all[0].SourceName != "Own site" {
			t.Fatalf("items = %+v, %v", all, err)
		}
		found, err := s.SourceItems(ctx, store.ItemFilter{Query: "ann HARBOUR"})
		if err != nil || len(found) != 1 || found[0].GUID != "a" {
			t.Fatalf("search = %+v, %v", found, err)
		}
		if none, _ := s.SourceItems(ctx, store.ItemFilter{Query: "100%"}); len(none) != 0 {
			t.Fatalf("wildcards in a search matched %d items", len(none))
		}
		// A pasted article as a search: 1,200 words, one of them a page
		// long, is bounded to its first words rather than refused by the
		// database (SQLite allows 999 parameters in older builds, and a
		// query this wide is slow anyway).
		long := "harbour " + strings.Repeat("x", 5000) + strings.Repeat(" tolls harbour rise", 400)
		if found, err := s.SourceItems(ctx, store.ItemFilter{Query: long}); err != nil || len(found) != 0 {
			t.Fatalf("a 1,200-word search = %d items, %v", len(found), err)
		}
		if found, err := s.SourceItems(ctx, store.ItemFilter{Query: strings.Repeat("harbour tolls ", 600)}); err != nil || len(found) != 1 {
			t.Fatalf("a repeated search = %d items, %v", len(found), err)
		}
		after, err := s.SourceItems(ctx, store.ItemFilter{SourceID: src.ID, AfterID: all[2].ID, Oldest: true})
		if err != nil || len(after) != 2 || after[0].GUID != "b" {
			t.Fatalf("items after the first = %+v, %v", after, err)
		}
		now = now.Add(11 * time.Minute)
		if due, err := s.ClaimSources(ctx, 10, time.Minute); err != nil || len(due) != 1 {
			t.Fatalf("claim after the interval = %v, %v", due, err)
		}
	})
}

// TestSeriesRuns: one draft run per series and day; ready runs send once,
// in the same transaction as their campaign; automatic runs record an
// empty day or an edition, campaign and cursor together; leases keep two
// claimers apart.
func TestSeriesRuns(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		s.SetClockForTest(func() time.Time { return now })
		l := audience(t, s, "evening", 2)
		sr := &model.Series{Name: "Evening briefing", Weekdays: []time.Weekday{time.Monday, time.Friday}, SlotTime: "18:00",
			ListIDs: []int64{l.ID}, Active: true, RemindBefore: 30 * time.Minute,
			Template: model.Edition{Subject: "Evening {date}", Sections: []model.Section{{Kind: model.KindBriefs, Title: "Also"}}}}
		if err := s.CreateSeries(ctx, sr); err != nil {
			t.Fatal(err)
		}
		back, err := s.Series(ctx, sr.ID)
		if err != nil || len(back.Weekdays) != 2 || back.Weekdays[1] != time.Friday || back.RemindBefore != 30*time.Minute ||
			back.Template.Sections[0].Title != "Also" || back.ListIDs[0] != l.ID {
			t.Fatalf("series read back = %+v, %v", back, err)
		}
		claimed, err := s.ClaimSeries(ctx, time.Minute)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claim = %v, %v", claimed, err)
		}
		if again, _ := s.ClaimSeries(ctx, time.Minute); len(again) != 0 {
			t.Fatalf("claimed twice under a lease")
		}
		if err := s.ReleaseSeries(ctx, sr.ID); err != nil {
			t.Fatal(err)
		}
		if again, _ := s.ClaimSeries(ctx, time.Minute); len(again) != 1 {
			t.Fatalf("released series not claimable")
		}

		run := &model.SeriesRun{SeriesID: sr.ID, Date: "2026-03-02", SlotAt: now.Add(9 * time.Hour)}
		e := &model.Edition{Slug: "evening-2026-03-02", Date: "2026-03-02", Subject: "Evening"}
		if err := s.CreateDraftRun(ctx, run, e); err != nil {
			t.Fatal(err)
		}
		dup := &model.SeriesRun{SeriesID: sr.ID, Date: "2026-03-02", SlotAt: run.SlotAt}
		if err := s.CreateDraftRun(ctx, dup, &model.Edition{Slug: "evening-2026-03-02-b", Date: "2026-03-02"}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("second draft for the day: %v, want ErrConflict", err)
		}
		if _, err := s.EditionBySlug(ctx, "evening-2026-03-02-b"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("refused run left its edition behind: %v", err)
		}
		c := &model.Campaign{Name: "x", EditionID: e.ID, ListIDs: []int64{l.ID}, From: "a@example.com", SendAt: run.SlotAt}
		if err := s.SendRun(ctx, run.ID, c); !errors.Is(err, store.ErrBadTransition) {
			t.Fatalf("sending a draft: %v, want ErrBadTransition", err)
		}
		if err := s.MarkRunReady(ctx, run.ID, true); err != nil {
			t.Fatal(err)
		}
		if err := s.SendRun(ctx, run.ID, c); err != nil {
			t.Fatal(err)
		}
		if err := s.SendRun(ctx, run.ID, &model.Campaign{Name: "y", EditionID: e.ID, ListIDs: []int64{l.ID}, From: "a@example.com", SendAt: run.SlotAt}); !errors.Is(err, store.ErrBadTransition) {
			t.Fatalf("sending twice: %v", err)
		}
		if err := s.MarkRunReady(ctx, run.ID, false); !errors.Is(err, store.ErrBadTransition) {
			t.Fatalf("unready after sending: %v", err)
		}
		got, err := s.RunOfEdition(ctx, e.ID)
		if err != nil || got.Status != model.RunSent || got.CampaignID != c.ID {
			t.Fatalf("run = %+v, %v", got, err)
		}
		if camp, _ := s.Campaign(ctx, c.ID); camp.Status != model.CampaignScheduled {
			t.Fatalf("campaign status %s", camp.Status)
		}

		empty := &model.SeriesRun{SeriesID: sr.ID, Date: "2026-03-06", SlotAt: now}
		if err := s.SendAutomaticRun(ctx, empty, nil, nil, 0); err != nil || empty.Status != model.RunEmpty {
			t.Fatalf("empty run: %v %+v", err, empty)
		}
		full := &model.SeriesRun{SeriesID: sr.ID, Date: "2026-03-09", SlotAt: now}
		ae := &model.Edition{Slug: "evening-2026-03-09", Date: "2026-03-09", Subject: "Evening"}
		ac := &model.Campaign{Name: "auto", ListIDs: []int64{l.ID}, From: "a@example.com", SendAt: now}
		if err := s.SendAutomaticRun(ctx, full, ae, ac, 42); err != nil {
			t.Fatal(err)
		}
		if back, _ := s.Series(ctx, sr.ID); back.ItemCursor != 42 {
			t.Fatalf("cursor = %d", back.ItemCursor)
		}
		runs, err := s.SeriesRuns(ctx, sr.ID, 10)
		if err != nil || len(runs) != 3 || runs[0].Date != "2026-03-09" || runs[0].CampaignID != ac.ID || ac.EditionID != ae.ID {
			t.Fatalf("runs = %+v, %v", runs, err)
		}
	})
}
