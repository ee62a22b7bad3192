package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/token"
)

// TestDataDownloadKeysAreSnakeCase: every key of the reader's data
// download, at every depth (history and events included), is snake_case;
// none is a Go field name.
func TestDataDownloadKeysAreSnakeCase(t *testing.T) {
	st := newSite(t, sqlite(t), nil)
	id := st.subscriber("ada@example.com", st.daily)
	c := st.campaign(true, nil, st.daily)
	if err := st.store.RecordEvents(context.Background(), []model.Event{{Kind: model.EventClick, CampaignID: c.ID, SubscriberID: id,
		URL: "https://example.com/a", At: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	tok := st.signer.Sign(token.Claims{Purpose: token.Preferences, SubscriberID: id})
	resp, body := st.get(st.client(), "/preferences/"+tok+"/data.json")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("data = %d", resp.StatusCode)
	}
	var doc any
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	seen := map[string]bool{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				seen[k] = true
				if !snake.MatchString(k) {
					t.Errorf("key %s.%s is not snake_case", path, k)
				}
				walk(path+"."+k, e)
			}
		case []any:
			for _, e := range x {
				walk(path+"[]", e)
			}
		}
	}
	walk("", doc)
	var keys []string
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, want := range []string{"history", "events", "list", "at", "kind", "campaign_id", "source", "status"} {
		if !seen[want] {
			t.Errorf("the document has no %q key (keys: %v)", want, keys)
		}
	}
}
