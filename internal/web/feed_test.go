package web_test

import (
	"context"
	"net/mail"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed/atom"
	jsonfeed "github.com/mmcdole/gofeed/json"
	"github.com/mmcdole/gofeed/rss"

	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

// TestFeedsReadBack publishes today two editions dated in March 2025, one
// with a hero picture uploaded to Herald and one with a picture on
// another server, and reads every feed back with gofeed's parser for its
// format.
func TestFeedsReadBack(t *testing.T) {
	t.Parallel()
	st := newSite(t, sqlite(t), nil)
	ctx := context.Background()
	picture := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 3000)...)
	if err := st.store.SaveMedia(ctx, &store.Media{Name: "0123456789abcdef0123456789abcdef.png", ContentType: "image/png", Data: picture}); err != nil {
		t.Fatal(err)
	}
	uploaded := st.ts.URL + "/media/0123456789abcdef0123456789abcdef.png"
	elsewhere := "https://images.example/2025/03/harbour.jpg"
	for _, ed := range []struct{ slug, date, hero string }{{"tide", "2025-03-13", uploaded}, {"storm", "2025-03-14", elsewhere}} {
		e, err := sample.Edition()
		if err != nil {
			t.Fatal(err)
		}
		e.Slug, e.Date, e.Subject = ed.slug, ed.date, "Edition "+ed.slug
		e.Hero.URL = ed.hero
		e.Public = true
		if err := st.store.CreateEdition(ctx, e, ""); err != nil {
			t.Fatal(err)
		}
		// Published as the admin and the API do: now, long after its date.
		if err := st.store.SetEditionStatus(ctx, e.ID, model.EditionPublished); err != nil {
			t.Fatal(err)
		}
	}
	day := func(tm *time.Time) string {
		if tm == nil {
			return "none"
		}
		return tm.UTC().Format(time.DateOnly)
	}
	wantDay := map[string]string{"Edition tide": "2025-03-13", "Edition storm": "2025-03-14"}
	c := st.client()

	_, body := st.get(c, "/feed.rss")
	rf, err := (&rss.Parser{}).Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("RSS does not parse: %v\n%s", err, body)
	}
	if len(rf.Items) != 2 {
		t.Fatalf("RSS items = %d\n%s", len(rf.Items), body)
	}
	for _, it := range rf.Items {
		if got := day(it.PubDateParsed); got != wantDay[it.Title] {
			t.Errorf("RSS %q pubDate %q, want the edition's date %s", it.Title, it.PubDate, wantDay[it.Title])
		}
		// RSS 2.0: <author> is an address, optionally with "(Name)".
		if it.Author != "" {
			addr, _, _ := strings.Cut(it.Author, " (")
			if _, err := mail.ParseAddress(addr); err != nil {
				t.Errorf("RSS %q author %q is not an email address", it.Title, it.Author)
			}
		}
		if it.DublinCoreExt == nil || len(it.DublinCoreExt.Creator) != 1 || it.DublinCoreExt.Creator[0] != "Mara Quint" {
			t.Errorf("RSS %q: the byline is not its dc:creator: %+v", it.Title, it.DublinCoreExt)
		}
		switch it.Title {
		case "Edition tide":
			if it.Enclosure == nil || it.Enclosure.URL != uploaded || it.Enclosure.Length != strconv.Itoa(len(picture)) || it.Enclosure.Type != "image/png" {
				t.Errorf("RSS enclosure of the uploaded picture = %+v, want its real length %d", it.Enclosure, len(picture))
			}
		case "Edition storm":
			if it.Enclosure != nil {
				t.Errorf("RSS enclosure of a picture of unknown size = %+v, want none", it.Enclosure)
			}
		}
	}

	_, body = st.get(c, "/feed.atom")
	af, err := (&atom.Parser{}).Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("Atom does not parse: %v\n%s", err, body)
	}
	if len(af.Authors) == 0 || af.Authors[0].Name != "Northgate Courier" {
		t.Errorf("Atom feed author = %+v, want the publication (entries without a byline need one)", af.Authors)
	}
	for _, e := range af.Entries {
		if day(e.PublishedParsed) != wantDay[e.Title] || day(e.UpdatedParsed) != wantDay[e.Title] {
			t.Errorf("Atom %q published %q updated %q, want the edition's date %s", e.Title, e.Published, e.Updated, wantDay[e.Title])
		}
		if len(e.Authors) != 1 || e.Authors[0].Name != "Mara Quint" {
			t.Errorf("Atom %q authors %+v", e.Title, e.Authors)
		}
		var enc []string
		for _, l := range e.Links {
			if l.Rel == "enclosure" {
				enc = append(enc, l.Href+" "+l.Length+" "+l.Type)
			}
		}
		want := []string{}
		if e.Title == "Edition tide" {
			want = []string{uploaded + " " + strconv.Itoa(len(picture)) + " image/png"}
		}
		if strings.Join(enc, "|") != strings.Join(want, "|") {
			t.Errorf("Atom %q enclosures %q, want %q", e.Title, enc, want)
		}
	}

	_, body = st.get(c, "/feed.json")
	jf, err := (&jsonfeed.Parser{}).Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("JSON Feed does not parse: %v\n%s", err, body)
	}
	for _, it := range jf.Items {
		if !strings.HasPrefix(it.DatePublished, wantDay[it.Title]) {
			t.Errorf("JSON Feed %q date_published %q, want the edition's date %s", it.Title, it.DatePublished, wantDay[it.Title])
		}
		if want := map[string]string{"Edition tide": uploaded, "Edition storm": elsewhere}[it.Title]; it.Image != want {
			t.Errorf("JSON Feed %q image %q, want %q", it.Title, it.Image, want)
		}
	}
	if strings.Contains(body, `"length"`) {
		t.Errorf("JSON Feed has a made-up length:\n%s", body)
	}
}

// TestPublishingShowsInTheFeedsAtOnce: a feed read before anything was
// published, then an edition published, reads the new edition at once
// (the cache held the empty feed for its lifetime before).
func TestPublishingShowsInTheFeedsAtOnce(t *testing.T) {
	t.Parallel()
	st := newSite(t, sqlite(t), nil)
	ctx := context.Background()
	c := st.client()
	e, err := sample.Edition()
	if err != nil {
		t.Fatal(err)
	}
	e.Slug, e.Subject, e.Public = "fresh", "Edition fresh", true
	if err := st.store.CreateEdition(ctx, e, ""); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/feed.rss", "/feed.atom", "/feed.json"} {
		if _, body := st.get(c, path); strings.Contains(body, "Edition fresh") {
			t.Fatalf("%s shows a draft:\n%s", path, body)
		}
	}
	if err := st.store.SetEditionStatus(ctx, e.ID, model.EditionPublished); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/feed.rss", "/feed.atom", "/feed.json"} {
		if _, body := st.get(c, path); !strings.Contains(body, "Edition fresh") {
			t.Errorf("%s does not show the edition just published:\n%s", path, body)
		}
	}
}
