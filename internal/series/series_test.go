package series_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/series"
	"github.com/herald-news/herald/internal/source"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
	"github.com/herald-news/herald/internal/unfurl"
)

type inbox struct {
	mu   sync.Mutex
	msgs []*mail.Message
	to   []string
}

func (in *inbox) Send(ctx context.Context, env mailer.Envelope, msg []byte) error {
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		return err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.msgs, in.to = append(in.msgs, m), append(in.to, env.To)
	return nil
}

func list(t *testing.T, s *store.Store) *model.List {
	t.Helper()
	l := &model.List{Slug: "evening", Name: "Evening"}
	if err := s.CreateList(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	return l
}

// TestSeriesDraftsOnTwoDays: with a fake clock in the newsroom's zone
// (Paris), a weekday series gets one draft a day from its template, a
// reminder when the slot nears and the draft is not ready, and its
// campaign at the slot once marked ready; a day not marked ready is not
// sent, and a weekend day gets no draft.
func TestSeriesDraftsOnTwoDays(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if err := s.PutSetting(ctx, series.ZoneSetting, "Europe/Paris"); err != nil {
			t.Fatal(err)
		}
		paris, _ := time.LoadLocation("Europe/Paris")
		l := list(t, s)
		sr := &model.Series{Name: "Evening briefing", SlotTime: "18:00", Slot: model.SlotEvening, ListIDs: []int64{l.ID}, Active: true,
			Weekdays:     []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
			RemindBefore: 45 * time.Minute, RemindTo: "Desk <desk@example.com>", From: "The Quay <news@example.com>",
			Template: model.Edition{Subject: "Evening briefing: {date}", Public: true, Sections: []model.Section{
				{Kind: model.KindLead, Title: "Tonight"},
				{Kind: model.KindPicks, Title: "Five things"},
				{Kind: model.KindText, Title: "Housekeeping", Text: &model.Text{Body: "Reply to this email to reach the desk."}},
			}}}
		if err := s.CreateSeries(ctx, sr); err != nil {
			t.Fatal(err)
		}
		var now time.Time
		box := &inbox{}
		sc := &series.Scheduler{Store: s, Now: func() time.Time { return now }, Check: delivery.SeriesCheck(s, "Herald <herald@example.com>"),
			Remind: delivery.Reminders(box, nil, "Herald <herald@example.com>", "https://news.example.com")}
		at := func(day, hh, mm int) {
			t.Helper()
			now = time.Date(2026, 3, day, hh, mm, 0, 0, paris)
			if err := sc.Tick(ctx); err != nil {
				t.Fatalf("tick at %s: %v", now, err)
			}
		}

		// Monday 2 March, morning: the day's draft, from the template.
		at(2, 7, 30)
		at(2, 7, 31)
		mon, err := s.SeriesRun(ctx, sr.ID, "2026-03-02")
		if err != nil || mon.Status != model.RunDraft {
			t.Fatalf("Monday's run = %+v, %v", mon, err)
		}
		if want := time.Date(2026, 3, 2, 18, 0, 0, 0, paris); !mon.SlotAt.Equal(want) {
			t.Errorf("slot = %s, want %s", mon.SlotAt, want)
		}
		e, err := s.GetEdition(ctx, mon.EditionID)
		if err != nil {
			t.Fatal(err)
		}
		if e.Subject != "Evening briefing: Monday 2 March 2026" || e.Date != "2026-03-02" || e.Slot != model.SlotEvening ||
			e.Slug != "2026-03-02-evening-briefing" || len(e.Sections) != 3 || e.Sections[0].Title != "Tonight" ||
			e.Sections[2].Text.Body != "Reply to this email to reach the desk." || !e.Public {
			t.Errorf("Monday's draft: %+v", e)
		}
		if eds, _ := s.ListEditions(ctx, store.EditionFilter{}); len(eds) != 1 {
			t.Errorf("%d editions after two ticks, want 1", len(eds))
		}

		// 17:10 is before the reminder window (45 minutes); 17:20 is in it.
		at(2, 17, 10)
		if len(box.msgs) != 0 {
			t.Fatalf("reminded at 17:10")
		}
		at(2, 17, 20)
		at(2, 17, 25)
		if len(box.msgs) != 1 || box.to[0] != "desk@example.com" {
			t.Fatalf("reminders: %d to %v, want one to the desk", len(box.msgs), box.to)
		}
		if subj := box.msgs[0].Header.Get("Subject"); subj != "Not ready yet: Evening briefing at 18:00" {
			t.Errorf("reminder subject %q", subj)
		}
		var body bytes.Buffer
		body.ReadFrom(box.msgs[0].Body)
		if !strings.Contains(body.String(), fmt.Sprintf("https://news.example.com/admin/editions/%d", e.ID)) ||
			!strings.Contains(body.String(), "Europe/Paris") {
			t.Errorf("reminder body:\n%s", body.String())
		}

		// The editor writes the lead and a pick and marks it ready.
		e.Sections[0].Lead = &model.Lead{Body: "The harbour board met late and agreed nothing.", Byline: model.Byline{Name: "Ada Vale"}}
		e.Sections[1].Picks = []model.Pick{{Title: "Why fog horns got quieter", Publication: "Coastline Weekly", URL: "https://other.example.net/fog"}}
		if err := s.UpdateEdition(ctx, e, "editor@example.com"); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkRunReady(ctx, mon.ID, true); err != nil {
			t.Fatal(err)
		}
		at(2, 17, 59)
		if r, _ := s.SeriesRun(ctx, sr.ID, "2026-03-02"); r.Status != model.RunReady {
			t.Fatalf("sent before the slot: %+v", r)
		}
		at(2, 18, 0)
		at(2, 18, 1)
		mon, _ = s.SeriesRun(ctx, sr.ID, "2026-03-02")
		if mon.Status != model.RunSent || mon.CampaignID == 0 {
			t.Fatalf("Monday after the slot: %+v", mon)
		}
		c, err := s.Campaign(ctx, mon.CampaignID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != model.CampaignScheduled || !c.SendAt.Equal(time.Date(2026, 3, 2, 18, 0, 0, 0, paris)) || c.EditionID != e.ID ||
			c.From != "The Quay <news@example.com>" || len(c.ListIDs) != 1 || c.ListIDs[0] != l.ID || !c.PublishOnStart {
			t.Errorf("Monday's campaign: %+v", c)
		}

		// Tuesday: a new draft; nobody marks it ready, so nothing goes.
		at(3, 6, 0)
		tue, err := s.SeriesRun(ctx, sr.ID, "2026-03-03")
		if err != nil || tue.Status != model.RunDraft || tue.EditionID == e.ID {
			t.Fatalf("Tuesday's run = %+v, %v", tue, err)
		}
		te, _ := s.GetEdition(ctx, tue.EditionID)
		if te.Subject != "Evening briefing: Tuesday 3 March 2026" || te.Sections[0].Lead != nil {
			t.Errorf("Tuesday's draft: %+v", te)
		}
		at(3, 18, 30)
		if r, _ := s.SeriesRun(ctx, sr.ID, "2026-03-03"); r.Status != model.RunDraft || r.CampaignID != 0 {
			t.Errorf("Tuesday sent without being ready: %+v", r)
		}
		if len(box.msgs) != 2 {
			t.Errorf("reminders after Tuesday: %d, want 2", len(box.msgs))
		}
		// Saturday: no draft.
		at(7, 9, 0)
		if _, err := s.SeriesRun(ctx, sr.ID, "2026-03-07"); err == nil {
			t.Errorf("a Saturday draft for a weekday series")
		}
		if cs, _ := s.Campaigns(ctx, 10); len(cs) != 1 {
			t.Errorf("%d campaigns, want only Monday's", len(cs))
		}
	})
}

const feedHead = `<?xml version="1.0"?><rss version="2.0"><channel><title>Quay</title><link>https://quay.example.org/</link>`

// TestRSSToEmail: an automatic series builds each slot's edition from the
// items its feed (served over HTTP, polled for real) gained since the last
// send; a day with nothing new sends nothing.
func TestRSSToEmail(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var mu sync.Mutex
		items := []string{}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprint(w, feedHead+strings.Join(items, "")+`</channel></rss>`)
		}))
		defer srv.Close()
		item := func(id, title, author string) {
			mu.Lock()
			defer mu.Unlock()
			items = append(items, fmt.Sprintf(`<item><title>%s</title><link>https://quay.example.org/%s</link><guid>%s</guid><author>%s</author></item>`, title, id, id, author))
		}
		src := &model.Feed{Name: "Quay site", URL: srv.URL, Own: true}
		if err := s.CreateSource(ctx, src); err != nil {
			t.Fatal(err)
		}
		poller := &source.Poller{Store: s, Client: unfurl.NewClient(unfurl.Options{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})}
		poll := func() {
			t.Helper()
			if err := s.PollSourceSoon(ctx, src.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := poller.PollDue(ctx); err != nil {
				t.Fatal(err)
			}
		}
		l := list(t, s)
		sr := &model.Series{Name: "Daily digest", SlotTime: "07:00", ListIDs: []int64{l.ID}, Active: true, Automatic: true, SourceID: src.ID,
			Weekdays: []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday},
			Template: model.Edition{Subject: "Digest for {date}", Sections: []model.Section{{Kind: model.KindCards, Title: "New on the site"},
				{Kind: model.KindPicks, Title: "Elsewhere"}}}}
		if err := s.CreateSeries(ctx, sr); err != nil {
			t.Fatal(err)
		}
		var now time.Time
		sc := &series.Scheduler{Store: s, Now: func() time.Time { return now }, Check: delivery.SeriesCheck(s, "Herald <herald@example.com>")}
		at := func(day, hh int) {
			t.Helper()
			now = time.Date(2026, 3, day, hh, 0, 0, 0, time.UTC)
			if err := sc.Tick(ctx); err != nil {
				t.Fatalf("tick at %s: %v", now, err)
			}
		}
		item("pier", "The pier reopens", "nadia@quay.example.org (Nadia Brook)")
		item("gulls", "Counting gulls", "")
		poll()

		at(2, 6) // before the slot: nothing yet
		if _, err := s.SeriesRun(ctx, sr.ID, "2026-03-02"); err == nil {
			t.Fatalf("an automatic run before its slot")
		}
		at(2, 7)
		at(2, 8)
		run, err := s.SeriesRun(ctx, sr.ID, "2026-03-02")
		if err != nil || run.Status != model.RunSent {
			t.Fatalf("day 1 run = %+v, %v", run, err)
		}
		e, _ := s.GetEdition(ctx, run.EditionID)
		if e.Subject != "Digest for Monday 2 March 2026" || len(e.Sections) != 1 || len(e.Sections[0].Cards) != 2 ||
			e.Sections[0].Cards[0].Headline != "The pier reopens" || e.Sections[0].Cards[1].URL != "https://quay.example.org/gulls" {
			t.Fatalf("day 1 edition: %+v", e)
		}

		// Day 2: the feed has nothing new.
		poll()
		at(3, 7)
		if run, err := s.SeriesRun(ctx, sr.ID, "2026-03-03"); err != nil || run.Status != model.RunEmpty || run.CampaignID != 0 {
			t.Fatalf("day 2 run = %+v, %v; want empty", run, err)
		}
		// Day 3: one new item, and only it goes.
		item("budget", "Budget vote delayed", "")
		poll()
		at(4, 9)
		run, err = s.SeriesRun(ctx, sr.ID, "2026-03-04")
		if err != nil || run.Status != model.RunSent {
			t.Fatalf("day 3 run = %+v, %v", run, err)
		}
		e, _ = s.GetEdition(ctx, run.EditionID)
		if len(e.Sections[0].Cards) != 1 || e.Sections[0].Cards[0].Headline != "Budget vote delayed" {
			t.Fatalf("day 3 edition: %+v", e.Sections)
		}
		if cs, _ := s.Campaigns(ctx, 10); len(cs) != 2 {
			t.Errorf("%d campaigns, want 2 (none for the empty day)", len(cs))
		}
	})
}

// TestAutomaticSeriesWithALeadLine: an automatic series whose template
// keeps an empty lead (as docs/desk.md's example does) sends its items;
// before, every tick logged "the lead has no text" and nothing went. A
// template that cannot make a sendable edition says why on the series
// (once, not at every tick), and the next good day clears it.
func TestAutomaticSeriesWithALeadLine(t *testing.T) {
	s := storetest.SQLite(t)
	ctx := context.Background()
	var mu sync.Mutex
	items := []string{`<item><title>The pier reopens</title><link>https://quay.example.org/pier</link><guid>pier</guid></item>`}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, feedHead+strings.Join(items, "")+`</channel></rss>`)
	}))
	defer srv.Close()
	src := &model.Feed{Name: "Quay site", URL: srv.URL, Own: true}
	if err := s.CreateSource(ctx, src); err != nil {
		t.Fatal(err)
	}
	l := list(t, s)
	every := []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday}
	sr := &model.Series{Name: "Quay digest", SlotTime: "07:00", ListIDs: []int64{l.ID}, Active: true, Automatic: true, SourceID: src.ID,
		Weekdays: every,
		Template: model.Edition{Subject: strings.Repeat("A subject far too long for any inbox ", 5) + "{date}", Sections: []model.Section{
			{Kind: model.KindLead, Lead: &model.Lead{}}, {Kind: model.KindCards, Title: "New on the site"}, {Kind: model.KindText, Text: &model.Text{}}}}}
	if err := s.CreateSeries(ctx, sr); err != nil {
		t.Fatal(err)
	}
	poller := &source.Poller{Store: s, Client: unfurl.NewClient(unfurl.Options{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})}
	if _, _, err := poller.PollNow(ctx, src.ID); err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	var now time.Time
	sc := &series.Scheduler{Store: s, Now: func() time.Time { return now }, Check: delivery.SeriesCheck(s, "Herald <herald@example.com>"),
		Log: slog.New(slog.NewTextHandler(&buf, nil))}
	at := func(day, hh, mm int) {
		t.Helper()
		now = time.Date(2026, 3, day, hh, mm, 0, 0, time.UTC)
		if err := sc.Tick(ctx); err != nil {
			t.Fatalf("tick at %s: %v", now, err)
		}
	}
	at(2, 7, 0)
	at(2, 7, 1)
	got, err := s.Series(ctx, sr.ID)
	if err != nil || !strings.Contains(got.Problem, "subject") {
		t.Fatalf("series problem = %q, %v; want the subject named", got.Problem, err)
	}
	if n := strings.Count(buf.String(), "automatic series cannot send"); n != 1 {
		t.Errorf("the problem was logged %d times, want once:\n%s", n, buf.String())
	}
	// The editor shortens the subject; the next tick sends, without the
	// empty lead and text, and the problem is gone.
	got.Template.Subject = "Quay digest, {date}"
	if err := s.UpdateSeries(ctx, got); err != nil {
		t.Fatal(err)
	}
	at(2, 7, 2)
	run, err := s.SeriesRun(ctx, sr.ID, "2026-03-02")
	if err != nil || run.Status != model.RunSent {
		t.Fatalf("run = %+v, %v", run, err)
	}
	e, _ := s.GetEdition(ctx, run.EditionID)
	if len(e.Sections) != 1 || e.Sections[0].Kind != model.KindCards || e.Sections[0].Cards[0].Headline != "The pier reopens" {
		t.Fatalf("edition sections: %+v", e.Sections)
	}
	if got, _ := s.Series(ctx, sr.ID); got.Problem != "" {
		t.Errorf("problem after a good day: %q", got.Problem)
	}
}

// TestMarkReadyDropsEmptyPlaceholders: a day's draft keeps the template's
// empty card, brief and pick ahead of what the desk adds; marking it
// ready drops them instead of refusing ("card 1 has no headline").
func TestMarkReadyDropsEmptyPlaceholders(t *testing.T) {
	s := storetest.SQLite(t)
	ctx := context.Background()
	l := list(t, s)
	sr := &model.Series{Name: "Evening", SlotTime: "18:00", ListIDs: []int64{l.ID}, Active: true,
		Weekdays: []time.Weekday{time.Monday},
		Template: model.Edition{Subject: "Evening, {date}", Sections: []model.Section{
			{Kind: model.KindCards, Cards: []model.Card{{CTA: "Read here"}}},
			{Kind: model.KindBriefs, Briefs: []model.Brief{{}}},
			{Kind: model.KindPicks, Picks: []model.Pick{{}}}}}}
	if err := s.CreateSeries(ctx, sr); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	if err := (&series.Scheduler{Store: s, Now: func() time.Time { return now }, Check: delivery.SeriesCheck(s, "")}).Tick(ctx); err != nil {
		t.Fatal(err)
	}
	run, err := s.SeriesRun(ctx, sr.ID, "2026-03-02")
	if err != nil {
		t.Fatal(err)
	}
	e, err := s.GetEdition(ctx, run.EditionID)
	if err != nil {
		t.Fatal(err)
	}
	// The desk adds a card after the placeholder.
	e.Sections[0].Cards = append(e.Sections[0].Cards, model.Card{Author: "Nadia Brook", Headline: "The pier reopens", URL: "https://quay.example.org/pier", CTA: "Read here"})
	if err := s.UpdateEdition(ctx, e, "editor@example.com"); err != nil {
		t.Fatal(err)
	}
	got, err := series.MarkReady(ctx, s, e.ID, true, "editor@example.com")
	if err != nil || got.Status != model.RunReady {
		t.Fatalf("MarkReady = %+v, %v", got, err)
	}
	e, _ = s.GetEdition(ctx, e.ID)
	if len(e.Sections) != 1 || len(e.Sections[0].Cards) != 1 || e.Sections[0].Cards[0].Headline != "The pier reopens" {
		t.Fatalf("sections after marking ready: %+v", e.Sections)
	}
	// A draft with nothing real in it is still refused, saying why.
	if _, err := series.MarkReady(ctx, s, e.ID, false, "editor@example.com"); err != nil {
		t.Fatal(err)
	}
	e.Sections = nil
	if err := s.UpdateEdition(ctx, e, "editor@example.com"); err != nil {
		t.Fatal(err)
	}
	var notReady *series.NotReadyError
	if _, err := series.MarkReady(ctx, s, e.ID, true, "editor@example.com"); !errors.As(err, &notReady) {
		t.Fatalf("an empty draft marked ready: %v", err)
	}
}

// TestSeriesDayPassesTheCampaignCheck: a series day's campaign passes the
// check every campaign passes (delivery.CheckCampaignOf). Its list deleted
// after the draft was marked ready, the slot sends nothing and the series
// says why, once; pointed at a list again, the next tick sends and the
// problem is gone.
func TestSeriesDayPassesTheCampaignCheck(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		gone := list(t, s)
		sr := &model.Series{Name: "Noon", SlotTime: "12:00", ListIDs: []int64{gone.ID}, Active: true,
			Weekdays: []time.Weekday{time.Monday},
			Template: model.Edition{Subject: "Noon {date}", Sections: []model.Section{{Kind: model.KindLead, Title: "Lead"}}}}
		if err := s.CreateSeries(ctx, sr); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
		sc := &series.Scheduler{Store: s, Now: func() time.Time { return now }, Check: delivery.SeriesCheck(s, "Herald <herald@example.com>")}
		tick := func() {
			t.Helper()
			if err := sc.Tick(ctx); err != nil {
				t.Fatalf("tick at %s: %v", now, err)
			}
		}
		tick()
		run, err := s.SeriesRun(ctx, sr.ID, "2026-03-02")
		if err != nil {
			t.Fatal(err)
		}
		e, err := s.GetEdition(ctx, run.EditionID)
		if err != nil {
			t.Fatal(err)
		}
		e.Sections[0].Lead = &model.Lead{Body: "The ferry timetable changes on Monday."}
		if err := s.UpdateEdition(ctx, e, "editor@example.com"); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkRunReady(ctx, run.ID, true); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteList(ctx, gone.ID); err != nil {
			t.Fatal(err)
		}

		now = time.Date(2026, 3, 2, 12, 1, 0, 0, time.UTC)
		tick()
		tick()
		if r, _ := s.SeriesRun(ctx, sr.ID, "2026-03-02"); r.Status != model.RunReady || r.CampaignID != 0 {
			t.Fatalf("sent to a deleted list: %+v", r)
		}
		got, err := s.Series(ctx, sr.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("List %d does not exist.", gone.ID); !strings.Contains(got.Problem, want) {
			t.Errorf("series problem %q, want it to say %q", got.Problem, want)
		}
		if cs, _ := s.Campaigns(ctx, 10); len(cs) != 0 {
			t.Errorf("%d campaigns made, want none", len(cs))
		}

		l := &model.List{Slug: "noon", Name: "Noon"}
		if err := s.CreateList(ctx, l); err != nil {
			t.Fatal(err)
		}
		got.ListIDs = []int64{l.ID}
		if err := s.UpdateSeries(ctx, got); err != nil {
			t.Fatal(err)
		}
		tick()
		r, _ := s.SeriesRun(ctx, sr.ID, "2026-03-02")
		if r.Status != model.RunSent || r.CampaignID == 0 {
			t.Fatalf("not sent once the list was set again: %+v", r)
		}
		if got, _ := s.Series(ctx, sr.ID); got.Problem != "" {
			t.Errorf("problem kept after the day was sent: %q", got.Problem)
		}
		c, err := s.Campaign(ctx, r.CampaignID)
		if err != nil {
			t.Fatal(err)
		}
		if c.From != "Herald <herald@example.com>" || len(c.ListIDs) != 1 || c.ListIDs[0] != l.ID {
			t.Errorf("campaign %+v", c)
		}
	})
}
