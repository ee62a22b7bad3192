package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestEngagementStatsAndExport: the stats endpoint gives unique human,
// machine and privacy-protected opens and human and machine clicks under
// the names scripts rely on, with the totals their sum; export.csv gives
// the figures, the links and every event, and refuses an unknown part.
func TestEngagementStatsAndExport(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, false)
		ctx := context.Background()
		l := &model.List{Slug: "daily", Name: "Daily"}
		if err := st.CreateList(ctx, l); err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, email := range []string{"ann@example.com", "bob@example.com", "=cmd@example.com"} {
			sub := &model.Subscriber{Email: email}
			if _, err := st.UpsertSubscriber(ctx, sub); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, sub.ID)
		}
		c := &model.Campaign{Name: "Evening", EditionID: 1, ListIDs: []int64{l.ID}, From: "Courier <news@example.com>", Tracking: true}
		if err := st.CreateCampaign(ctx, c); err != nil {
			t.Fatal(err)
		}
		if _, err := st.StartCampaign(ctx, c.ID, model.Frozen{Subject: "s", HTML: []byte("h"), Text: []byte("t"), Links: []string{"https://example.org/a"}}); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)
		ev := func(kind model.EventKind, who int, class model.EventClass, reason string) model.Event {
			e := model.Event{Kind: kind, CampaignID: c.ID, SubscriberID: ids[who], At: at, Class: class, Reason: reason}
			if kind == model.EventClick {
				e.URL = "https://example.org/a"
			}
			return e
		}
		err := st.RecordEvents(ctx, []model.Event{
			ev(model.EventOpen, 0, model.ClassHuman, ""), ev(model.EventOpen, 0, model.ClassHuman, ""),
			ev(model.EventOpen, 1, model.ClassPrivacy, "ua:apple-mpp"),
			ev(model.EventOpen, 2, model.ClassMachine, "ip:barracuda"),
			ev(model.EventClick, 0, model.ClassHuman, ""),
			ev(model.EventClick, 2, model.ClassMachine, "ip:barracuda"), ev(model.EventClick, 2, model.ClassMachine, "method:HEAD"),
		})
		if err != nil {
			t.Fatal(err)
		}
		// The wire names, as a script reads them.
		req, _ := http.NewRequest("GET", e.srv.URL+"/api/campaigns/"+strconv.FormatInt(c.ID, 10)+"/stats", nil)
		req.Header.Set("Authorization", "Bearer "+e.tokens[auth.Viewer])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var wire map[string]any
		json.NewDecoder(resp.Body).Decode(&wire)
		resp.Body.Close()
		for name, want := range map[string]float64{"human_opens": 1, "machine_opens": 1, "privacy_opens": 1, "human_clicks": 1, "machine_clicks": 1,
			"opens": 4, "clicks": 3, "unique_opens": 3, "unique_clicks": 2} {
			if got, ok := wire[name].(float64); !ok || got != want {
				t.Errorf("stats %s = %v, want %v", name, wire[name], want)
			}
		}
		stats, err := e.client(auth.Viewer).CampaignStats(ctx, c.ID)
		if err != nil || stats.HumanOpens != 1 || stats.PrivacyOpens != 1 || len(stats.TopLinks) != 1 || stats.TopLinks[0].Human != 1 || stats.TopLinks[0].Machine != 1 {
			t.Fatalf("client stats %+v, %v", stats, err)
		}

		read := func(part string) [][]string {
			t.Helper()
			var b bytes.Buffer
			if err := e.client(auth.Viewer).CampaignExport(ctx, c.ID, part, &b); err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(&b).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			return rows
		}
		summary := map[string]string{}
		for _, r := range read("") {
			summary[r[0]+" "+r[1]] = r[2] + "/" + r[3]
		}
		if summary["opens human"] != "1/2" || summary["opens privacy"] != "1/1" || summary["clicks machine"] != "1/2" || summary["recipients "] != "0/" {
			t.Errorf("summary export: %v", summary)
		}
		if links := read("links"); len(links) != 2 || strings.Join(links[1], ",") != "https://example.org/a,1,1,3" {
			t.Errorf("links export: %v", links)
		}
		events := read("events")
		if len(events) != 8 || strings.Join(events[0], ",") != "at,kind,email,url,class,reason" {
			t.Fatalf("events export: %v", events)
		}
		var defused bool
		for _, r := range events {
			if r[2] == "'=cmd@example.com" && r[4] == "machine" {
				defused = true
			}
		}
		if !defused {
			t.Errorf("an address a spreadsheet would run is not defused: %v", events)
		}
		if err := st.SaveFeedback(ctx, model.Feedback{Kind: model.FeedbackBriefing, CampaignID: c.ID, SubscriberID: ids[1], Rating: 3,
			Comment: "=HYPERLINK(\"x\") and a fine read"}); err != nil {
			t.Fatal(err)
		}
		if fb := read("feedback"); len(fb) != 2 || fb[1][1] != "briefing" || fb[1][2] != "bob@example.com" || fb[1][3] != "3" || fb[1][5] != "'=HYPERLINK(\"x\") and a fine read" {
			t.Errorf("feedback export: %v", fb)
		}
		var b bytes.Buffer
		if err := e.client(auth.Viewer).CampaignExport(ctx, c.ID, "everything", &b); apiCode(err) != "invalid" {
			t.Errorf("unknown part: %v", err)
		}
	})
}
