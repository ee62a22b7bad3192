package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/herald-news/herald/client"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/store/storetest"
)

// A campaign created with publish_on_start publishes its draft edition
// when it starts, and says so.
func TestCampaignPublishOnStart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.SQLite(t), true)
	ctx := context.Background()
	c := e.client(auth.Editor)
	l, err := c.CreateList(ctx, client.ListInput{Slug: "evening", Name: "Evening Briefing"})
	if err != nil {
		t.Fatal(err)
	}
	ed, err := sample.Edition()
	if err != nil {
		t.Fatal(err)
	}
	ed.Public = true
	created, err := c.CreateEdition(ctx, wireEdition(t, ed))
	if err != nil {
		t.Fatal(err)
	}

	// On the wire the field is publish_on_start.
	body := `{"name": "Tonight", "edition_id": ` + jsonNum(created.ID) + `, "list_ids": [` + jsonNum(l.ID) + `], "publish_on_start": true}`
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/campaigns", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.tokens[auth.Editor])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	json.NewDecoder(resp.Body).Decode(&raw)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || raw["publish_on_start"] != true {
		t.Fatalf("POST /api/campaigns with publish_on_start = %d %v", resp.StatusCode, raw)
	}
	id := int64(raw["id"].(float64))
	if got, err := c.Edition(ctx, created.ID); err != nil || got.Status != client.EditionDraft {
		t.Fatalf("before the start the edition is %s (%v)", got.Status, err)
	}
	camp, err := c.StartCampaign(ctx, id)
	if err != nil || !camp.PublishOnStart {
		t.Fatalf("StartCampaign = %+v, %v", camp, err)
	}
	if got, err := c.Edition(ctx, created.ID); err != nil || got.Status != client.EditionPublished || got.PublishedAt.IsZero() {
		t.Fatalf("after the start the edition is %s, published at %v (%v)", got.Status, got.PublishedAt, err)
	}

	// Without it (the default), starting leaves the edition alone.
	ed.Slug = "another"
	other, err := c.CreateEdition(ctx, wireEdition(t, ed))
	if err != nil {
		t.Fatal(err)
	}
	camp, err = c.CreateCampaign(ctx, client.CampaignInput{Name: "Plain", EditionID: other.ID, ListIDs: []int64{l.ID}})
	if err != nil || camp.PublishOnStart {
		t.Fatalf("CreateCampaign = %+v, %v", camp, err)
	}
	if _, err := c.StartCampaign(ctx, camp.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Edition(ctx, other.ID); got.Status != client.EditionDraft {
		t.Fatalf("a campaign without publish_on_start published its edition")
	}
}

func jsonNum(n int64) string { b, _ := json.Marshal(n); return string(b) }
