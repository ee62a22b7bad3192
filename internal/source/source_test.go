package source_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/source"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
	"github.com/herald-news/herald/internal/unfurl"
)

const rss = `<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
<title>Our site</title><link>https://example.org/</link>
<item><title>Tide tables and the &lt;i&gt;new&lt;/i&gt; pier</title><link>/2026/pier</link><guid>pier-1</guid>
<dc:creator>Nadia Brook</dc:creator><description>&lt;p&gt;What the pier costs, and who pays.&lt;/p&gt;</description>
<pubDate>Mon, 02 Mar 2026 07:00:00 GMT</pubDate></item>
<item><title>Council minutes, read so you need not</title><link>https://example.org/2026/minutes</link>
<enclosure url="https://cdn.example.org/minutes.jpg" type="image/jpeg" length="1"/></item>
<item><title></title><link>https://example.org/untitled</link></item>
</channel></rss>`

const atom = `<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>Other paper</title><id>urn:x</id><updated>2026-03-02T08:00:00Z</updated>
<entry><title>Why fog horns got quieter</title><id>urn:fog</id><link href="https://other.example.net/fog"/>
<author><name>Eli Strand</name></author><updated>2026-03-02T08:00:00Z</updated></entry>
</feed>`

const jsonFeed = `{"version":"https://jsonfeed.org/version/1.1","title":"Third",
"items":[{"id":"j1","url":"https://third.example.com/gulls","title":"The gull census","authors":[{"name":"Rae Lind"}],
"image":"https://third.example.com/gull.jpg","date_published":"2026-03-01T10:00:00Z"}]}`

// TestPoller: feeds in the three formats, served over real HTTP, are
// fetched, parsed and stored once per item; the second poll is a
// conditional GET answered 304; bad feeds get a clear status and do not
// stop the others; a feed on a refused address is not fetched.
func TestPoller(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		var mu sync.Mutex
		conditional := 0
		mux := http.NewServeMux()
		serve := func(path, ctype, body string) {
			mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("If-None-Match") == `"rss-1"` {
					mu.Lock()
					conditional++
					mu.Unlock()
					w.WriteHeader(http.StatusNotModified)
					return
				}
				if path == "/rss" {
					w.Header().Set("ETag", `"rss-1"`)
				}
				w.Header().Set("Last-Modified", "Mon, 02 Mar 2026 08:00:00 GMT")
				w.Header().Set("Content-Type", ctype)
				fmt.Fprint(w, body)
			})
		}
		serve("/rss", "application/rss+xml", rss)
		serve("/atom", "application/atom+xml", atom)
		serve("/json", "application/feed+json", jsonFeed)
		serve("/html", "text/html", "<html><body>Not a feed</body></html>")
		serve("/broken", "application/rss+xml", `<?xml version="1.0"?><rss><channel><item><title>cut`)
		mux.HandleFunc("/missing", http.NotFound)
		srv := httptest.NewServer(mux)
		defer srv.Close()

		ctx := context.Background()
		add := func(name, path string, own bool) *model.Feed {
			src := &model.Feed{Name: name, URL: srv.URL + path, Own: own, Interval: 15 * time.Minute}
			if strings.HasPrefix(path, "http") {
				src.URL = path
			}
			if err := s.CreateSource(ctx, src); err != nil {
				t.Fatal(err)
			}
			return src
		}
		own := add("Our site", "/rss", true)
		add("Other paper", "/atom", false)
		add("Third", "/json", false)
		bad := map[int64]string{
			add("A web page", "/html", false).ID:                            "not an RSS, Atom or JSON feed",
			add("Cut short", "/broken", false).ID:                           "not an RSS, Atom or JSON feed",
			add("Gone", "/missing", false).ID:                               "404 Not Found",
			add("Metadata", "http://169.254.169.254/latest/feed", false).ID: "link-local",
		}
		allow := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		p := &source.Poller{Store: s, Client: unfurl.NewClient(unfurl.Options{Allow: allow})}
		if n, err := p.PollDue(ctx); err != nil || n != 7 {
			t.Fatalf("first round polled %d, %v; want 7", n, err)
		}
		items, err := s.SourceItems(ctx, store.ItemFilter{Oldest: true})
		if err != nil {
			t.Fatal(err)
		}
		byTitle := map[string]model.FeedItem{}
		for _, it := range items {
			byTitle[it.Title] = it
		}
		if len(items) != 4 {
			t.Fatalf("stored %d items, want 4: %+v", len(items), items)
		}
		pier := byTitle["Tide tables and the new pier"]
		if pier.URL != srv.URL+"/2026/pier" || pier.Author != "Nadia Brook" || pier.Summary != "What the pier costs, and who pays." ||
			pier.GUID != "pier-1" || !pier.PublishedAt.Equal(time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)) || !pier.Own {
			t.Errorf("RSS item: %+v", pier)
		}
		if m := byTitle["Council minutes, read so you need not"]; m.ImageURL != "https://cdn.example.org/minutes.jpg" || m.GUID != m.URL {
			t.Errorf("RSS item without a GUID: %+v", m)
		}
		if f := byTitle["Why fog horns got quieter"]; f.Author != "Eli Strand" || f.URL != "https://other.example.net/fog" {
			t.Errorf("Atom item: %+v", f)
		}
		if g := byTitle["The gull census"]; g.Author != "Rae Lind" || g.ImageURL != "https://third.example.com/gull.jpg" {
			t.Errorf("JSON Feed item: %+v", g)
		}
		sources, _ := s.Sources(ctx)
		for _, src := range sources {
			want, isBad := bad[src.ID]
			switch {
			case isBad && (src.Status != model.SourceError || !strings.Contains(src.LastError, want)):
				t.Errorf("%s: status %s %q, want an error saying %q", src.Name, src.Status, src.LastError, want)
			case !isBad && src.Status != model.SourceOK:
				t.Errorf("%s: status %s %q, want ok", src.Name, src.Status, src.LastError)
			}
		}

		// Nothing is due until the interval passes (or an editor asks for a
		// poll); then the RSS feed is asked conditionally and nothing is
		// stored twice.
		if n, _ := p.PollDue(ctx); n != 0 {
			t.Fatalf("polled %d sources before they were due", n)
		}
		for _, src := range sources {
			if err := s.PollSourceSoon(ctx, src.ID); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := p.PollDue(ctx); err != nil || n != 7 {
			t.Fatalf("second round polled %d, %v", n, err)
		}
		if conditional != 1 {
			t.Errorf("conditional GETs answered 304: %d, want 1", conditional)
		}
		again, _ := s.SourceItems(ctx, store.ItemFilter{})
		if len(again) != 4 {
			t.Errorf("after the second poll: %d items, want 4", len(again))
		}
		if got, _ := s.Source(ctx, own.ID); got.Status != model.SourceOK || got.ETag != `"rss-1"` {
			t.Errorf("own source after 304: %+v", got)
		}

		// The desk marks items already used in recent editions.
		used := []*model.Edition{{Date: "2026-03-01", Sections: []model.Section{{Kind: model.KindCards, Cards: []model.Card{{URL: pier.URL}}}}}}
		source.MarkUsed(again, used)
		for _, it := range again {
			if (it.URL == pier.URL) != (len(it.UsedIn) == 1) {
				t.Errorf("%s used in %v", it.Title, it.UsedIn)
			}
		}
	})
}
