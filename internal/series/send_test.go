package series_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/delivery/deliverytest"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/series"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/source"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
	"github.com/herald-news/herald/internal/unfurl"
)

// TestSeriesMailReachesReaders: the campaign an automatic series schedules
// at its slot is started by the delivery engine's leader and its mail
// reaches the list's readers through a real SMTP server.
func TestSeriesMailReachesReaders(t *testing.T) {
	s := storetest.SQLite(t)
	ctx := context.Background()
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, feedHead+`<item><title>The pier reopens on Friday</title><link>https://quay.example.org/pier</link><guid>pier</guid></item></channel></rss>`)
	}))
	defer feed.Close()
	l := list(t, s)
	rows := []store.ImportRow{{Line: 2, Email: "ada@example.net"}, {Line: 3, Email: "ben@example.net"}}
	if _, err := s.ImportBatch(ctx, rows, store.ImportOptions{ListID: l.ID, Status: model.SubConfirmed, Mode: store.ImportUpsert}); err != nil {
		t.Fatal(err)
	}
	src := &model.Feed{Name: "Quay", URL: feed.URL, Own: true}
	if err := s.CreateSource(ctx, src); err != nil {
		t.Fatal(err)
	}
	sr := &model.Series{Name: "Morning digest", SlotTime: "07:00", ListIDs: []int64{l.ID}, Active: true, Automatic: true, SourceID: src.ID,
		From:     "The Quay <news@example.com>",
		Weekdays: []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday},
		Template: model.Edition{Subject: "Quay digest, {date}", Sections: []model.Section{{Kind: model.KindCards, Title: "New"}}}}
	if err := s.CreateSeries(ctx, sr); err != nil {
		t.Fatal(err)
	}
	p := &source.Poller{Store: s, Client: unfurl.NewClient(unfurl.Options{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})}
	if _, err := p.PollDue(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	if err := (&series.Scheduler{Store: s, Now: func() time.Time { return now }, Check: delivery.SeriesCheck(s, "")}).Tick(ctx); err != nil {
		t.Fatal(err)
	}

	sink, m, _ := deliverytest.Relay(t, smtpsink.Options{})
	eng, err := delivery.New(s, delivery.Config{Sender: m, Signer: deliverytest.Signer(t), BaseURL: "https://news.example.com",
		FlushAfter: 20 * time.Millisecond, Poll: 50 * time.Millisecond,
		Freeze: delivery.EditionFreezer(s, model.DefaultPublication("https://quay.example.org"), render.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	deliverytest.Run(t, eng)
	run, err := s.SeriesRun(ctx, sr.ID, "2026-03-02")
	if err != nil || run.CampaignID == 0 {
		t.Fatalf("run = %+v, %v", run, err)
	}
	// A guard, not a timing claim: fail instead of hanging.
	for give := time.Now().Add(time.Minute); ; {
		c, err := s.Campaign(ctx, run.CampaignID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status == model.CampaignSent {
			break
		}
		if c.Status.Final() || time.Now().After(give) {
			t.Fatalf("campaign is %s (%s), want sent", c.Status, c.Problem)
		}
		time.Sleep(50 * time.Millisecond)
	}
	msgs := sink.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages reached the relay, want 2", len(msgs))
	}
	raw := string(msgs[0].Raw)
	if !strings.Contains(raw, "Subject: Quay digest, Monday 2 March 2026") || !strings.Contains(raw, "The pier reopens on Friday") {
		t.Errorf("the message lacks the digest's subject or item:\n%.600s", raw)
	}
	if e, _ := s.GetEdition(ctx, run.EditionID); e.Status != model.EditionPublished {
		t.Errorf("the edition was not published as it went out: %s", e.Status)
	}
}
