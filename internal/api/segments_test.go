package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/client"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestSegmentsThroughTheClient saves a segment, counts queries (a bad one
// answers 422 saying where), and sends a campaign to the segment alone.
func TestSegmentsThroughTheClient(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, true)
		ctx := context.Background()
		c := e.client(auth.Editor)
		l, err := c.CreateList(ctx, client.ListInput{Slug: "morning", Name: "Morning"})
		if err != nil {
			t.Fatal(err)
		}
		var csv strings.Builder
		csv.WriteString("email,city\n")
		for i := range 10 {
			fmt.Fprintf(&csv, "r%d@example.net,%s\n", i, []string{"Leeds", "York"}[i%2])
		}
		if _, err := c.Import(ctx, l.ID, strings.NewReader(csv.String()), client.ImportOptions{Status: "confirmed"}); err != nil {
			t.Fatal(err)
		}
		n, err := c.CountSegment(ctx, "LIST = morning and attr.city = York")
		if err != nil || n.Count != 5 || n.Query != `list = morning and attr.city = "York"` {
			t.Fatalf("CountSegment = %+v, %v", n, err)
		}
		if _, err := c.CountSegment(ctx, "list = morning and (attr.city = York"); apiCode(err) != "invalid" ||
			!strings.Contains(err.Error(), "at character 20: this ( is never closed") {
			t.Fatalf("bad query: %v", err)
		}
		sg, err := c.CreateSegment(ctx, client.SegmentInput{Name: "York", Query: "list = morning and attr.city = York"})
		if err != nil || sg.Count != 5 {
			t.Fatalf("CreateSegment = %+v, %v", sg, err)
		}
		if _, err := c.CreateSegment(ctx, client.SegmentInput{Name: "York", Query: "list = morning"}); apiCode(err) != "conflict" {
			t.Fatalf("same name: %v", err)
		}
		if _, err := c.CreateSegment(ctx, client.SegmentInput{Name: "Typo", Query: "list = mornin"}); apiCode(err) != "invalid" ||
			!strings.Contains(err.Error(), `there is no list "mornin"`) {
			t.Fatalf("unknown list: %v", err)
		}
		if sg, err = c.UpdateSegment(ctx, sg.ID, client.SegmentInput{Name: "York readers", Query: sg.Query}); err != nil || sg.Name != "York readers" {
			t.Fatalf("UpdateSegment = %+v, %v", sg, err)
		}
		all, err := c.Segments(ctx)
		if err != nil || len(all) != 1 || all[0].Count != 5 {
			t.Fatalf("Segments = %+v, %v", all, err)
		}
		ed, _ := sample.Edition()
		ed.Slug = "segment-send"
		created, err := c.CreateEdition(ctx, wireEdition(t, ed))
		if err != nil {
			t.Fatal(err)
		}
		camp, err := c.CreateCampaign(ctx, client.CampaignInput{Name: "York only", EditionID: created.ID, SegmentIDs: []int64{sg.ID}})
		if err != nil || len(camp.SegmentIDs) != 1 || len(camp.ListIDs) != 0 {
			t.Fatalf("CreateCampaign = %+v, %v", camp, err)
		}
		if camp, err = c.StartCampaign(ctx, camp.ID); err != nil || camp.Total != 5 {
			t.Fatalf("StartCampaign = %+v, %v", camp, err)
		}
		for deadline := time.Now().Add(30 * time.Second); e.sink.Count() < 5; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("sink got %d of 5", e.sink.Count())
			}
		}
		if err := c.DeleteSegment(ctx, sg.ID); apiCode(err) != "in_use" || !strings.Contains(err.Error(), `audience of campaign`) {
			t.Fatalf("deleting a campaign's audience: %v", err)
		}
		spare, err := c.CreateSegment(ctx, client.SegmentInput{Name: "Spare", Query: "list = morning"})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.DeleteSegment(ctx, spare.ID); err != nil {
			t.Fatalf("DeleteSegment: %v", err)
		}
		if _, err := c.Segment(ctx, spare.ID); apiCode(err) != "not_found" {
			t.Fatalf("deleted segment still read: %v", err)
		}
		if _, err := c.CreateSegment(ctx, client.SegmentInput{Name: "Deep", Query: strings.Repeat("not ", 900) + "list = morning"}); apiCode(err) != "invalid" ||
			!strings.Contains(err.Error(), "nest more than 16 deep") {
			t.Fatalf("deep query: %v", err)
		}
		for _, m := range e.sink.Messages() {
			if !strings.HasSuffix(m.To[0], "@example.net") || !strings.Contains(" r1 r3 r5 r7 r9 ", " "+strings.Split(m.To[0], "@")[0]+" ") {
				t.Errorf("sent to %v, not a York reader", m.To)
			}
		}
	})
}

// TestLocalTimeAndABTestInput: the API takes a local send time and an A/B
// test, reads them back, and refuses ones that cannot work with a reason.
func TestLocalTimeAndABTestInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.SQLite(t), false)
	ctx := context.Background()
	c := e.client(auth.Editor)
	l, err := c.CreateList(ctx, client.ListInput{Slug: "morning", Name: "Morning"})
	if err != nil {
		t.Fatal(err)
	}
	ed, _ := sample.Edition()
	created, err := c.CreateEdition(ctx, wireEdition(t, ed))
	if err != nil {
		t.Fatal(err)
	}
	in := client.CampaignInput{Name: "Seven", EditionID: created.ID, ListIDs: []int64{l.ID}, LocalTime: "7:00am"}
	if _, err := c.CreateCampaign(ctx, in); apiCode(err) != "invalid" || !strings.Contains(err.Error(), `"7:00am" is not a time of day written HH:MM`) {
		t.Fatalf("bad local time: %v", err)
	}
	in.LocalTime = "07:00"
	camp, err := c.CreateCampaign(ctx, in)
	if err != nil || camp.LocalTime != "07:00" {
		t.Fatalf("CreateCampaign = %+v, %v", camp, err)
	}
	ab := &client.ABTest{Variants: []client.ABVariant{{Subject: "One"}, {Subject: "Two", Preheader: "p"}}, SamplePercent: 20, WaitMinutes: 120, Metric: "clicks"}
	in = client.CampaignInput{Name: "AB", EditionID: created.ID, ListIDs: []int64{l.ID}, ABTest: ab}
	if camp, err = c.CreateCampaign(ctx, in); err != nil || camp.ABTest == nil || camp.ABTest.WaitMinutes != 120 || camp.ABTest.Variants[1].Preheader != "p" {
		t.Fatalf("CreateCampaign with a test = %+v, %v", camp, err)
	}
	ab.Metric = "replies"
	if _, err := c.CreateCampaign(ctx, in); apiCode(err) != "invalid" || !strings.Contains(err.Error(), `decided by opens or clicks (not "replies")`) {
		t.Fatalf("bad metric: %v", err)
	}
	ab.Metric, ab.SamplePercent = "opens", 95
	if _, err := c.CreateCampaign(ctx, in); apiCode(err) != "invalid" || !strings.Contains(err.Error(), "2% to 90%") {
		t.Fatalf("bad sample: %v", err)
	}
}
