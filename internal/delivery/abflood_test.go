package delivery_test

import (
	"bytes"
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/delivery/deliverytest"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
	"github.com/herald-news/herald/internal/web"
)

var hrefRE = regexp.MustCompile(`href="([^"]+)"`)

// TestABWinnerIgnoresScannerFlood: an A/B test on clicks where a mail
// gateway clicks every link (the hidden one too, for half of them) in each
// copy of the second subject, while three readers of the first subject
// each click one story. The clicks go through the real public web; the
// winner is the readers' subject although the other drew far more clicks.
func TestABWinnerIgnoresScannerFlood(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f, clock, ed := abFixture(t, s)
		subjects := []string{"Harbour deal signed tonight", "The ferry strike is over"}
		ab := &model.ABTest{SamplePercent: 40, Wait: 2 * time.Hour, Metric: model.ABClicks, Variants: []model.Variant{{Subject: subjects[0]}, {Subject: subjects[1]}}}
		c := &model.Campaign{Name: "A/B", EditionID: ed.ID, ListIDs: f.camp.ListIDs, From: f.camp.From, Tracking: true, AB: ab}
		if err := s.CreateCampaign(ctx, c); err != nil {
			t.Fatal(err)
		}
		f.camp = c
		if _, err := f.engine.Start(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		f.waitFor("the sample to be sent", func(p model.Progress, _ *model.Campaign) bool { return p.Sent == 20 })

		opts := web.DefaultOptions()
		opts.TrustProxy = true
		opts.EventFlush = 10 * time.Millisecond
		site, err := web.NewServer(web.Deps{Store: s, Signer: deliverytest.Signer(t), BaseURL: "https://news.example.com", Options: opts})
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(site)
		defer ts.Close()
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		get := func(method, link, ua, addr string) {
			t.Helper()
			req, _ := http.NewRequest(method, strings.Replace(link, "https://news.example.com", ts.URL, 1), nil)
			req.Header.Set("User-Agent", ua)
			req.Header.Set("X-Forwarded-For", addr)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("%s %s: %d", method, link, resp.StatusCode)
			}
		}
		const chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
		readers, scanned := 0, 0
		for _, m := range f.sink.Messages() {
			msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
			if err != nil {
				t.Fatal(err)
			}
			var tracked, hidden []string
			for _, h := range hrefRE.FindAllStringSubmatch(htmlPart(t, m.Raw), -1) {
				u := html.UnescapeString(h[1])
				switch {
				case strings.Contains(u, "/c/"):
					tracked = append(tracked, u)
				case strings.Contains(u, "/l/"):
					hidden = append(hidden, u)
				}
			}
			if len(hidden) != 1 || len(tracked) < 6 {
				t.Fatalf("a copy has %d hidden and %d tracked links", len(hidden), len(tracked))
			}
			switch msg.Header.Get("Subject") {
			case subjects[0]:
				if readers < 3 { // a reader reads one story
					get(http.MethodGet, tracked[readers+1], chrome, "198.51.100.23")
					readers++
				}
			case subjects[1]:
				// The gateway: a browser's user agent from an address in no
				// table, a HEAD then a GET of every link, within a second.
				addr := "192.0.2.77"
				if scanned%2 == 0 {
					get(http.MethodGet, hidden[0], chrome, addr)
				}
				for _, u := range tracked {
					get(http.MethodHead, u, chrome, addr)
					get(http.MethodGet, u, chrome, addr)
				}
				scanned++
			}
		}
		if readers != 3 || scanned != 10 {
			t.Fatalf("%d readers and %d scanned copies", readers, scanned)
		}
		if err := site.Close(ctx); err != nil {
			t.Fatal(err)
		}
		n, err := s.CampaignEventCounts(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if n.Unique[model.EventClick] != 13 || n.Human(model.EventClick) != 3 || n.UniqueBy[model.ClassMachine][model.EventClick] != 10 {
			t.Fatalf("unique clicks %d, human %d, machine %d; want 13, 3, 10", n.Unique[model.EventClick], n.Human(model.EventClick), n.UniqueBy[model.ClassMachine][model.EventClick])
		}

		clock.Add(2*time.Hour + time.Second)
		f.waitFor("the campaign to finish", sent)
		got, err := s.Campaign(ctx, c.ID)
		if err != nil || got.ABWinner != 1 {
			t.Fatalf("winner %d, %v; want 1 (the readers' subject)", got.ABWinner, err)
		}
		results, _, err := s.ABResults(ctx, c.ID)
		if err != nil || len(results) != 2 || results[0].Clicks != 3 || results[1].Clicks != 0 {
			t.Fatalf("ABResults = %+v, %v", results, err)
		}
	})
}
