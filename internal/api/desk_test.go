package api_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/client"
	"github.com/herald-news/herald/internal/api"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/series"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
	"github.com/herald-news/herald/internal/unfurl"
)

// TestDeskThroughTheClient: sources, desk items, unfurling and series,
// driven through the Go client as API users will; bad input gets a clear
// message, and links to private addresses are refused.
func TestDeskThroughTheClient(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		var base string
		mux := http.NewServeMux()
		mux.HandleFunc("/feed", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/feed+json")
			fmt.Fprintf(w, `{"version":"https://jsonfeed.org/version/1.1","title":"Courier","items":[
{"id":"1","url":"%[1]s/a/pier","title":"The pier reopens","authors":[{"name":"Nadia Brook"}]},
{"id":"2","url":"%[1]s/a/gulls","title":"Counting gulls"}]}`, base)
		})
		mux.HandleFunc("/a/pier", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `<html><head><meta property="og:title" content="The pier reopens"><meta property="og:site_name" content="Courier"><meta name="author" content="Nadia Brook"></head></html>`)
		})
		srv := httptest.NewServer(mux)
		defer srv.Close()
		base = srv.URL
		allow := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		e := newEnv(t, st, false, func(d *api.Deps) { d.Unfurl = unfurl.New(unfurl.Options{Allow: allow}) })
		ctx := context.Background()
		c := e.client(auth.Editor)

		var ae *client.Error
		if _, err := c.CreateSource(ctx, client.SourceInput{Name: "Bad", URL: "file:///etc/passwd"}); !errors.As(err, &ae) || ae.Status != 422 || !strings.Contains(ae.Message, "web address") {
			t.Errorf("file URL source: %v", err)
		}
		if _, err := c.CreateSource(ctx, client.SourceInput{Name: "Fast", URL: srv.URL + "/feed", Interval: 1}); !errors.As(err, &ae) || ae.Status != 422 {
			t.Errorf("a 1-minute interval: %v", err)
		}
		src, err := c.CreateSource(ctx, client.SourceInput{Name: "Courier", URL: srv.URL + "/feed", Own: true})
		if err != nil || src.ID == 0 || src.IntervalMinutes != 15 {
			t.Fatalf("create source = %+v, %v", src, err)
		}
		if all, err := c.Sources(ctx); err != nil || len(all) != 1 || all[0].IntervalMinutes != 15 || all[0].Status != client.SourceNew {
			t.Errorf("sources = %+v, %v", all, err)
		}
		if _, err := e.client(auth.Author).CreateSource(ctx, client.SourceInput{Name: "X", URL: "https://x.example/feed"}); !errors.As(err, &ae) || ae.Status != 403 {
			t.Errorf("an author adding a source: %v", err)
		}
		// "Read now" reads now and says what it found.
		if res, err := c.PollSource(ctx, src.ID); err != nil || res.NewItems == 0 || res.Problem != "" {
			t.Fatalf("PollSource = %+v, %v", res, err)
		}
		if res, err := c.PollSource(ctx, src.ID); err != nil || res.NewItems != 0 || res.Problem != "" {
			t.Fatalf("PollSource again = %+v, %v", res, err)
		}
		// A feed on a non-public address is refused when added, not saved
		// to fail at every poll.
		strict := newEnv(t, storetest.SQLite(t), false).client(auth.Editor)
		for raw, want := range map[string]string{
			"http://127.0.0.1:9/feed":          "loopback address",
			"http://169.254.169.254/latest":    "link-local address",
			"http://[64:ff9b::a00:1]/feed.xml": "reserved address",
		} {
			if _, err := strict.CreateSource(ctx, client.SourceInput{Name: "Inside " + raw, URL: raw}); !errors.As(err, &ae) || ae.Status != 422 || !strings.Contains(ae.Message, want) {
				t.Errorf("source %s: %v, want a refusal naming a %s", raw, err, want)
			}
		}
		items, err := c.DeskItems(ctx, "pier")
		if err != nil || len(items) != 1 || items[0].Author != "Nadia Brook" || !items[0].Own {
			t.Fatalf("desk items = %+v, %v", items, err)
		}
		page, err := c.Unfurl(ctx, srv.URL+"/a/pier")
		if err != nil || page.Title != "The pier reopens" || page.Publication != "Courier" || page.Author != "Nadia Brook" {
			t.Errorf("unfurl = %+v, %v", page, err)
		}
		if _, err := c.Unfurl(ctx, "http://192.168.1.1/router"); !errors.As(err, &ae) || ae.Status != 422 || !strings.Contains(ae.Message, "private address") {
			t.Errorf("unfurl of a private address: %v", err)
		}

		l, err := c.CreateList(ctx, client.ListInput{Slug: "evening", Name: "Evening"})
		if err != nil {
			t.Fatal(err)
		}
		bad := client.Series{Name: "Evening briefing", Weekdays: []int{1}, SlotTime: "6pm", ListIDs: []int64{l.ID}}
		if _, err := c.CreateSeries(ctx, bad); !errors.As(err, &ae) || ae.Status != 422 || !strings.Contains(ae.Message, "24-hour clock") {
			t.Errorf("series at 6pm: %v", err)
		}
		in := client.Series{Name: "Evening briefing", Weekdays: []int{0, 1, 2, 3, 4, 5, 6}, SlotTime: "23:59", ListIDs: []int64{l.ID}, Active: true,
			Template: client.Edition{Subject: "Evening {date}", Sections: []client.Section{{Kind: client.KindCards, Title: "Ours"}}}}
		sr, err := c.CreateSeries(ctx, in)
		if err != nil || sr.ID == 0 || sr.NextSlot.IsZero() || len(sr.Weekdays) != 7 {
			t.Fatalf("create series = %+v, %v", sr, err)
		}
		// The scheduler makes today's draft; the editor fills it through
		// the API and marks it ready.
		now := time.Now().UTC().Truncate(24 * time.Hour).Add(time.Hour)
		if err := (&series.Scheduler{Store: st, Now: func() time.Time { return now }, Check: delivery.SeriesCheck(st, "")}).Tick(ctx); err != nil {
			t.Fatal(err)
		}
		runs, err := c.SeriesRuns(ctx, sr.ID)
		if err != nil || len(runs) != 1 || runs[0].Status != client.RunDraft {
			t.Fatalf("runs = %+v, %v", runs, err)
		}
		if _, err := c.MarkReady(ctx, runs[0].EditionID, true); !errors.As(err, &ae) || ae.Status != 422 || !strings.Contains(ae.Message, "no cards") {
			t.Errorf("marking an empty draft ready: %v", err)
		}
		ed, err := c.Edition(ctx, runs[0].EditionID)
		if err != nil {
			t.Fatal(err)
		}
		ed.Sections[0].Cards = []client.Card{{Headline: items[0].Title, URL: items[0].URL}}
		if _, err := c.UpdateEdition(ctx, ed.ID, ed); err != nil {
			t.Fatal(err)
		}
		run, err := c.MarkReady(ctx, ed.ID, true)
		if err != nil || run.Status != client.RunReady {
			t.Fatalf("mark ready = %+v, %v", run, err)
		}
		again, err := c.DeskItems(ctx, "pier")
		if err != nil || len(again) != 1 || len(again[0].UsedIn) != 1 {
			t.Errorf("the used item is not marked: %+v, %v", again, err)
		}
	})
}
