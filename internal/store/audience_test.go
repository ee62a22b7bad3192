package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

var frozenCopy = model.Frozen{Subject: "s", HTML: []byte("<p>h</p>"), Text: []byte("t")}

// zonedAudience makes a list whose subscribers live in the given zones
// ("" for none), one subscriber per entry.
func zonedAudience(t *testing.T, s *store.Store, zones ...string) *model.List {
	t.Helper()
	ctx := context.Background()
	l := &model.List{Slug: "morning", Name: "Morning"}
	if err := s.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	for i, z := range zones {
		sub := &model.Subscriber{Email: fmt.Sprintf("r%d@example.com", i)}
		if z != "" {
			sub.Attributes = map[string]any{"tz": z}
		}
		if _, err := s.UpsertSubscriber(ctx, sub); err != nil {
			t.Fatal(err)
		}
		if err := s.SetSubscription(ctx, sub.ID, l.ID, model.SubConfirmed, model.SourceAdmin); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

func TestLocalTimeDelivery(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		// 05:30 UTC on 2 March 2026: 05:30 in London, 06:30 in Berlin,
		// 00:30 in New York, 16:30 in Sydney (summer time there).
		now := time.Date(2026, 3, 2, 5, 30, 0, 0, time.UTC)
		s.SetClockForTest(func() time.Time { return now })
		if _, err := s.UpsertSubscriber(ctx, &model.Subscriber{Email: "x@example.com", Attributes: map[string]any{"tz": "Mars/Olympus"}}); err == nil ||
			!strings.Contains(err.Error(), `attribute tz: "Mars/Olympus" is not a time zone name`) {
			t.Fatalf("a bad zone was saved: %v", err)
		}
		l := zonedAudience(t, s, "Europe/London", "Europe/Berlin", "America/New_York", "Australia/Sydney", "", "Europe/London")
		pub := model.DefaultPublication("https://example.com")
		pub.TimeZone = "Europe/Berlin"
		if err := s.SavePublication(ctx, pub); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateCampaign(ctx, &model.Campaign{Name: "bad", EditionID: 1, ListIDs: []int64{l.ID}, From: "a@example.com", LocalTime: "7am"}); err == nil ||
			!strings.Contains(err.Error(), `"7am" is not a time of day written HH:MM`) {
			t.Fatalf("a bad local time: %v", err)
		}
		c := &model.Campaign{Name: "seven", EditionID: 1, ListIDs: []int64{l.ID}, From: "a@example.com", LocalTime: "07:00"}
		if err := s.CreateCampaign(ctx, c); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Campaign(ctx, c.ID); got.LocalTime != "07:00" {
			t.Fatalf("LocalTime read back as %q", got.LocalTime)
		}
		if n, err := s.StartCampaign(ctx, c.ID, frozenCopy); err != nil || n != 6 {
			t.Fatalf("StartCampaign = %d, %v", n, err)
		}
		waiting, err := s.WaitingByHour(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		// Berlin 07:00 = 06:00 UTC (Berlin and the zoneless one); London
		// 07:00 = 07:00 UTC (two); New York 07:00 = 12:00 UTC; Sydney
		// has passed 07:00: tomorrow's, 20:00 UTC today.
		want := "06:00=2 07:00=2 12:00=1 20:00=1"
		var got []string
		for _, h := range waiting {
			got = append(got, fmt.Sprintf("%s=%d", h.Hour.Format("15:04"), h.Rows))
		}
		if strings.Join(got, " ") != want {
			t.Fatalf("waiting by hour %v, want %s", got, want)
		}
		claim := func(at time.Time) []string {
			t.Helper()
			now = at
			rows, err := s.ClaimDeliveries(ctx, c.ID, 10, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, d := range rows {
				out = append(out, d.Email)
			}
			slices.Sort(out)
			return out
		}
		if got := claim(now.Add(29 * time.Minute)); len(got) != 0 {
			t.Fatalf("claimed %v before anyone's 07:00", got)
		}
		if got := claim(time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)); strings.Join(got, " ") != "r1@example.com r4@example.com" {
			t.Fatalf("at 06:00 UTC claimed %v, want Berlin's and the zoneless one", got)
		}
		if got := claim(time.Date(2026, 3, 2, 11, 59, 0, 0, time.UTC)); len(got) != 2 {
			t.Fatalf("at 11:59 UTC claimed %v, want London's two", got)
		}
		if got := claim(time.Date(2026, 3, 2, 20, 0, 0, 0, time.UTC)); strings.Join(got, " ") != "r2@example.com r3@example.com" {
			t.Fatalf("at 20:00 UTC claimed %v, want New York's and Sydney's", got)
		}
		if waiting, _ := s.WaitingByHour(ctx, c.ID); len(waiting) != 0 {
			t.Fatalf("still waiting: %v", waiting)
		}
	})
}

func TestABTestLedger(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		s.SetClockForTest(func() time.Time { return now })
		zones := make([]string, 40)
		l := zonedAudience(t, s, zones...)
		ab := &model.ABTest{Variants: []model.Variant{{Subject: "A"}, {Subject: "B", Preheader: "pb"}}, SamplePercent: 20, Wait: time.Hour, Metric: model.ABClicks}
		bad := *ab
		bad.Variants = bad.Variants[:1]
		if err := s.CreateCampaign(ctx, &model.Campaign{Name: "x", EditionID: 1, ListIDs: []int64{l.ID}, From: "a@example.com", AB: &bad}); err == nil ||
			!strings.Contains(err.Error(), "2 to 4 subject lines") {
			t.Fatalf("one variant: %v", err)
		}
		c := &model.Campaign{Name: "ab", EditionID: 1, ListIDs: []int64{l.ID}, From: "a@example.com", AB: ab}
		if err := s.CreateCampaign(ctx, c); err != nil {
			t.Fatal(err)
		}
		frozen := frozenCopy
		frozen.Variants = []model.VariantCopy{{Subject: "A", HTML: []byte("a"), Text: []byte("a")}, {Subject: "B", Preheader: "pb", HTML: []byte("b"), Text: []byte("b")}}
		if n, err := s.StartCampaign(ctx, c.ID, frozen); err != nil || n != 40 {
			t.Fatalf("StartCampaign = %d, %v", n, err)
		}
		f, err := s.FrozenContent(ctx, c.ID)
		if err != nil || len(f.Variants) != 2 || string(f.Variants[1].HTML) != "b" || f.Variants[1].Preheader != "pb" {
			t.Fatalf("FrozenContent = %+v, %v", f, err)
		}
		// 20% of 40: four rows per variant, the other 32 held.
		rows, err := s.ClaimDeliveries(ctx, c.ID, 100, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		per := map[int][]model.Delivery{}
		for _, d := range rows {
			per[d.Variant] = append(per[d.Variant], d)
		}
		if len(rows) != 8 || len(per[1]) != 4 || len(per[2]) != 4 {
			t.Fatalf("claimed %d rows, by variant %d/%d/%d; want 4 per variant", len(rows), len(per[0]), len(per[1]), len(per[2]))
		}
		var outs []store.Outcome
		for _, d := range rows {
			outs = append(outs, store.Outcome{ID: d.ID, Attempts: d.Attempts, Status: model.DeliverySent, Reply: "250 ok"})
		}
		if err := s.RecordOutcomes(ctx, outs); err != nil {
			t.Fatal(err)
		}
		// Variant A has more opens, B more clicks (unique: a reader's
		// second click counts once); clicks decide.
		ev := func(kind model.EventKind, d model.Delivery) model.Event {
			return model.Event{Kind: kind, CampaignID: c.ID, SubscriberID: d.SubscriberID, At: now}
		}
		if err := s.RecordEvents(ctx, []model.Event{
			ev(model.EventOpen, per[1][0]), ev(model.EventOpen, per[1][1]), ev(model.EventOpen, per[1][2]), ev(model.EventClick, per[1][0]),
			ev(model.EventOpen, per[2][0]), ev(model.EventClick, per[2][0]), ev(model.EventClick, per[2][1]), ev(model.EventClick, per[2][1]),
			{Kind: model.EventClick, CampaignID: c.ID, At: now}, // anonymous: no variant
		}); err != nil {
			t.Fatal(err)
		}
		if ids, err := s.ABTestsToDecide(ctx, now.Add(59*time.Minute)); err != nil || len(ids) != 0 {
			t.Fatalf("to decide before the hour: %v, %v", ids, err)
		}
		if w, err := s.DecideABTest(ctx, c.ID, now.Add(59*time.Minute)); err != nil || w != 0 {
			t.Fatalf("decided early: %d, %v", w, err)
		}
		if rows, _ := s.ClaimDeliveries(ctx, c.ID, 100, time.Minute); len(rows) != 0 {
			t.Fatalf("claimed %d held rows before the decision", len(rows))
		}
		if ids, err := s.ABTestsToDecide(ctx, now.Add(time.Hour)); err != nil || len(ids) != 1 {
			t.Fatalf("to decide after the hour: %v, %v", ids, err)
		}
		if w, err := s.DecideABTest(ctx, c.ID, now.Add(time.Hour)); err != nil || w != 2 {
			t.Fatalf("DecideABTest = %d, %v; want 2 (more unique clicks)", w, err)
		}
		if w, err := s.DecideABTest(ctx, c.ID, now.Add(2*time.Hour)); err != nil || w != 0 {
			t.Fatalf("decided twice: %d, %v", w, err)
		}
		got, _ := s.Campaign(ctx, c.ID)
		if got.ABWinner != 2 || !got.ABDecidedAt.Equal(now.Add(time.Hour)) {
			t.Fatalf("campaign after the decision: winner %d at %v", got.ABWinner, got.ABDecidedAt)
		}
		results, rest, err := s.ABResults(ctx, c.ID)
		if err != nil || len(results) != 2 || rest != 32 {
			t.Fatalf("ABResults = %+v, %d, %v", results, rest, err)
		}
		if r := results[0]; r.Subject != "A" || r.Recipients != 4 || r.Sent != 4 || r.Opens != 3 || r.Clicks != 1 {
			t.Errorf("variant A: %+v", r)
		}
		if r := results[1]; r.Subject != "B" || r.Recipients != 4 || r.Opens != 1 || r.Clicks != 2 {
			t.Errorf("variant B: %+v", r)
		}
		rows, err = s.ClaimDeliveries(ctx, c.ID, 100, time.Minute)
		if err != nil || len(rows) != 32 || rows[0].Variant != 0 {
			t.Fatalf("after the decision claimed %d rows (%v)", len(rows), err)
		}
	})
}

// TestLocalTimeFallsBackToTheNewsroomZone: with no zone of the
// publication's own, a local-time campaign reaches zoneless readers at the
// newsroom's hour (the zone the desk's series use), not at UTC's.
func TestLocalTimeFallsBackToTheNewsroomZone(t *testing.T) {
	s := storetest.SQLite(t)
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 5, 30, 0, 0, time.UTC)
	s.SetClockForTest(func() time.Time { return now })
	l := zonedAudience(t, s, "")
	if err := s.PutSetting(ctx, store.NewsroomZoneSetting, "America/New_York"); err != nil {
		t.Fatal(err)
	}
	c := &model.Campaign{Name: "seven", EditionID: 1, ListIDs: []int64{l.ID}, From: "a@example.com", LocalTime: "07:00"}
	if err := s.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartCampaign(ctx, c.ID, frozenCopy); err != nil {
		t.Fatal(err)
	}
	waiting, err := s.WaitingByHour(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	// 07:00 in New York on 2 March 2026 is 12:00 UTC.
	if len(waiting) != 1 || waiting[0].Hour.UTC().Format("15:04") != "12:00" {
		t.Fatalf("waiting by hour %+v, want one row at 12:00 UTC", waiting)
	}
}
