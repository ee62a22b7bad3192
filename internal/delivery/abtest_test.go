package delivery_test

import (
	"bytes"
	"context"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// fakeClock is a time that moves only when the test moves it.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestABTestEndToEnd runs an A/B subject test through the in-process SMTP
// server with a fake clock: three subject lines go to a 30% sample, five
// readers each; readers open; when the test's two hours have passed on the
// clock the scheduler leader chooses the variant with the most unique
// opens, and the other 35 readers get that subject, each reader one copy.
// abFixture is 50 readers, the sample edition stored and frozen as it is,
// and a fake clock for the test's wait.
func abFixture(t *testing.T, s *store.Store) (*fixture, *fakeClock, *model.Edition) {
	t.Helper()
	ctx := context.Background()
	clock := &fakeClock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	s.SetClockForTest(clock.Now)
	pub := sample.Publication()
	pub.LogoURL = ""
	if err := s.SavePublication(ctx, pub); err != nil {
		t.Fatal(err)
	}
	ed, err := sample.Edition()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateEdition(ctx, ed, ""); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, s, 50, smtpsink.Faults{}, func(c *delivery.Config) {
		c.Freeze = delivery.EditionFreezer(s, pub, render.Options{})
		c.Now = clock.Now
	})
	return f, clock, ed
}

func TestABTestEndToEnd(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f, clock, ed := abFixture(t, s)
		subjects := []string{"Harbour deal signed tonight", "The ferry strike is over", "What the harbour deal means for you"}
		ab := &model.ABTest{SamplePercent: 30, Wait: 2 * time.Hour, Metric: model.ABOpens, Variants: []model.Variant{
			{Subject: subjects[0]}, {Subject: subjects[1], Preheader: "Nine days, one handshake"}, {Subject: subjects[2]}}}
		c := &model.Campaign{Name: "A/B", EditionID: ed.ID, ListIDs: f.camp.ListIDs, From: f.camp.From, Tracking: true, AB: ab}
		if err := s.CreateCampaign(ctx, c); err != nil {
			t.Fatal(err)
		}
		f.camp = c
		if n, err := f.engine.Start(ctx, c.ID); err != nil || n != 50 {
			t.Fatalf("Start = %d, %v", n, err)
		}
		f.waitFor("the sample to be sent", func(p model.Progress, _ *model.Campaign) bool { return p.Sent == 15 })
		bySubject := func() map[string][]string {
			out := map[string][]string{}
			for _, m := range f.sink.Messages() {
				msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
				if err != nil {
					t.Fatal(err)
				}
				subj := msg.Header.Get("Subject")
				out[subj] = append(out[subj], m.To[0])
				if subj == subjects[1] && !strings.Contains(htmlPart(t, m.Raw), "Nine days, one handshake") {
					t.Errorf("variant B's copy lacks its preheader")
				}
			}
			return out
		}
		sample := bySubject()
		for _, subj := range subjects {
			if len(sample[subj]) != 5 {
				t.Fatalf("the sample by subject: %v; want five readers per subject", sample)
			}
		}
		if p, _ := s.CampaignProgress(ctx, c.ID); p.Pending != 35 {
			t.Fatalf("before the decision: %+v; want 35 held", p)
		}
		// Readers open: three of the third subject's (one twice), two of
		// the first's, none of the second's.
		var events []model.Event
		open := func(email string) {
			sub, err := s.SubscriberByEmail(ctx, email)
			if err != nil {
				t.Fatal(err)
			}
			events = append(events, model.Event{Kind: model.EventOpen, CampaignID: c.ID, SubscriberID: sub.ID, At: clock.Now()})
		}
		for _, e := range []string{sample[subjects[2]][0], sample[subjects[2]][1], sample[subjects[2]][2], sample[subjects[2]][0], sample[subjects[0]][0], sample[subjects[0]][1]} {
			open(e)
		}
		if err := s.RecordEvents(ctx, events); err != nil {
			t.Fatal(err)
		}
		clock.Add(2*time.Hour + time.Second)
		f.waitFor("the campaign to finish", sent)
		got, err := s.Campaign(ctx, c.ID)
		if err != nil || got.ABWinner != 3 {
			t.Fatalf("winner %d, %v; want 3", got.ABWinner, err)
		}
		all := bySubject()
		if len(all[subjects[2]]) != 40 || len(all[subjects[0]]) != 5 || len(all[subjects[1]]) != 5 {
			t.Errorf("sent by subject: %d/%d/%d; want 5/5/40", len(all[subjects[0]]), len(all[subjects[1]]), len(all[subjects[2]]))
		}
		for to, n := range byRecipient(t, f.sink.Messages()) {
			if n != 1 {
				t.Errorf("%s got %d copies", to, n)
			}
		}
		if f.sink.Count() != 50 {
			t.Errorf("sink got %d messages, want 50", f.sink.Count())
		}
		results, rest, err := s.ABResults(ctx, c.ID)
		if err != nil || rest != 35 || len(results) != 3 || results[2].Opens != 3 || results[0].Opens != 2 || results[1].Opens != 0 || results[2].Sent != 5 {
			t.Fatalf("ABResults = %+v, %d, %v", results, rest, err)
		}
	})
}

// TestSunsetPolicyRunsDaily: with a sunset policy configured, the
// scheduler leader applies it once a day; readers who joined seven months
// ago (on the fake clock) and did not open the campaign sent to them since
// are suppressed at the next day's run.
func TestSunsetPolicyRunsDaily(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock := &fakeClock{now: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}
		s.SetClockForTest(clock.Now)
		f := newFixture(t, s, 3, smtpsink.Faults{}, func(c *delivery.Config) {
			c.Now = clock.Now
			c.Sunset = &store.SunsetPolicy{Months: 6, Action: store.SunsetSuppress}
		})
		// The policy ran at the start, when nobody had been sent mail.
		clock.Add(7 * 30 * 24 * time.Hour)
		if n, _ := s.CountSuppressions(ctx); n != 0 {
			t.Fatalf("%d suppressed before any mail was sent", n)
		}
		// Seven months after they joined, a campaign they do not open;
		// the day after, the policy runs again.
		if _, err := f.engine.Start(ctx, f.camp.ID); err != nil {
			t.Fatal(err)
		}
		f.waitFor("the campaign to finish", sent)
		clock.Add(25 * time.Hour)
		deadline := time.Now().Add(30 * time.Second)
		for {
			n, err := s.CountSuppressions(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 3 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of 3 suppressed", n)
			}
			time.Sleep(20 * time.Millisecond)
		}
		sp, err := s.Suppression(ctx, "reader0001@example.com")
		if err != nil || !strings.Contains(sp.Detail, "no open or click in 6 months") {
			t.Fatalf("suppression = %+v, %v", sp, err)
		}
	})
}
