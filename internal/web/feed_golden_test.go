package web

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestFeedGolden locks the three feed documents for two fixed entries:
// one with a byline and a picture uploaded to Herald (its size known),
// one with neither a byline nor a picture whose size is known. Refresh
// with go test ./internal/web/ -run TestFeedGolden -update and review the
// diff.
func TestFeedGolden(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	base := "https://news.northgate-courier.example"
	pub := model.Publication{Name: "Northgate Courier", SiteURL: "https://northgate-courier.example"}
	items := []feedItem{
		{FeedEntry: render.FeedEntry{
			ID: base + "/archive/2025-03-14-evening", Link: base + "/archive/2025-03-14-evening", Title: "Storm barrier holds on its first big night",
			Summary: "The harbour stayed dry; what comes next for the sea wall.", ContentHTML: "<p>The new barrier closed at 19:40 & held.</p>",
			ImageURL: base + "/media/0123456789abcdef0123456789abcdef.jpg", Author: "Mara Quint",
			Published: at("2025-03-14T18:05:00Z"), Updated: at("2025-03-15T08:30:00Z"),
		}, ImageSize: 48213, ImageType: "image/jpeg"},
		{FeedEntry: render.FeedEntry{
			ID: base + "/archive/2025-03-13-evening", Link: base + "/archive/2025-03-13-evening", Title: "Gull Point opens its research station",
			ContentHTML: "<p>Sensors along twelve kilometres of coast.</p>", ImageURL: "https://images.example/gull-point.jpg",
			Published: at("2025-03-13T00:00:00Z"), Updated: at("2025-03-13T00:00:00Z"),
		}},
	}
	for kind, file := range map[string]string{"rss": "feed.rss", "atom": "feed.atom", "json": "feed.json"} {
		got, _, err := writeFeed(kind, base+"/archive", base, pub, items, at("2025-03-20T10:00:00Z"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gofeed.NewParser().Parse(bytes.NewReader(got)); err != nil {
			t.Errorf("%s does not parse back: %v", file, err)
		}
		path := filepath.Join("testdata", file)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./internal/web/ -run TestFeedGolden -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the golden file; review with -update and git diff:\n%s", file, got)
		}
	}
}
