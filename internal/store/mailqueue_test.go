package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestMailQueue: signups and confirmations queue their messages in the same
// transaction; a claim leases them, a lease that runs out lets them be
// claimed again (and the old claim's news is ignored), a retry waits for
// its time, done jobs leave, and erasing a subscriber takes their queued
// mail with them.
func TestMailQueue(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		double, single := publicLists(t, s)
		backlog := func(want int64) {
			t.Helper()
			if n, err := s.MailBacklog(ctx); err != nil || n != want {
				t.Fatalf("backlog = %d, %v; want %d", n, err, want)
			}
		}
		ada, _, err := s.Signup(ctx, "ada@example.com", "Ada", double, model.SourceForm, true)
		if err != nil {
			t.Fatal(err)
		}
		// Single opt-in without a welcome message queues nothing; with one,
		// the welcome.
		if _, _, err := s.Signup(ctx, "ben@example.com", "", single, model.SourceForm, false); err != nil {
			t.Fatal(err)
		}
		backlog(1)
		cy, _, err := s.Signup(ctx, "cy@example.com", "Cy", single, model.SourceForm, true)
		if err != nil {
			t.Fatal(err)
		}
		backlog(2)
		if due, err := s.MailDue(ctx); err != nil || !due {
			t.Fatalf("due = %v, %v", due, err)
		}

		jobs, err := s.ClaimMail(ctx, 10, time.Hour)
		if err != nil || len(jobs) != 2 {
			t.Fatalf("claim = %+v, %v", jobs, err)
		}
		want := []store.MailJob{
			{ID: jobs[0].ID, Kind: model.MailConfirm, SubscriberID: ada, ListID: double.ID, Attempts: 1},
			{ID: jobs[1].ID, Kind: model.MailWelcome, SubscriberID: cy, ListID: single.ID, Attempts: 1},
		}
		for i := range want {
			if jobs[i] != want[i] {
				t.Fatalf("job %d = %+v, want %+v", i, jobs[i], want[i])
			}
		}
		// Leased: nobody else gets them, and nothing is due.
		if again, err := s.ClaimMail(ctx, 10, time.Hour); err != nil || len(again) != 0 {
			t.Fatalf("second claim = %+v, %v", again, err)
		}
		if due, _ := s.MailDue(ctx); due {
			t.Fatal("leased jobs reported due")
		}

		rcpts, err := s.MailRecipients(ctx, jobs)
		if r := rcpts[jobs[0].ID]; err != nil || r.Email != "ada@example.com" || r.Name != "Ada" || r.Subscription != model.SubUnconfirmed || !r.Sendable {
			t.Fatalf("recipient = %+v, %v", r, err)
		}
		if r := rcpts[jobs[1].ID]; r.Email != "cy@example.com" || r.Subscription != model.SubConfirmed || !r.Sendable {
			t.Fatalf("second recipient = %+v", r)
		}
		if err := s.Suppress(ctx, "ada@example.com", model.SuppressManual, "test"); err != nil {
			t.Fatal(err)
		}
		if rcpts, _ := s.MailRecipients(ctx, jobs); rcpts[jobs[0].ID].Sendable {
			t.Fatal("a suppressed address is sendable")
		}

		// The welcome is sent; the confirmation is put back for later.
		if err := s.SettleMail(ctx, []store.MailResult{
			{Job: jobs[1]},
			{Job: jobs[0], RetryAt: time.Now().Add(time.Hour), Reason: "451 try later"},
		}); err != nil {
			t.Fatal(err)
		}
		backlog(1)
		if again, _ := s.ClaimMail(ctx, 10, time.Hour); len(again) != 0 {
			t.Fatalf("a job waiting for its retry was claimed: %+v", again)
		}

		// A lease that runs out: claimed again, and the first claim's late
		// news changes nothing.
		dan, _, _ := s.Signup(ctx, "dan@example.com", "", double, model.SourceForm, false)
		first, err := s.ClaimMail(ctx, 10, 0)
		if err != nil || len(first) != 1 || first[0].SubscriberID != dan {
			t.Fatalf("claim = %+v, %v", first, err)
		}
		time.Sleep(5 * time.Millisecond)
		second, err := s.ClaimMail(ctx, 10, time.Hour)
		if err != nil || len(second) != 1 || second[0].ID != first[0].ID || second[0].Attempts != 2 {
			t.Fatalf("claim after the lease = %+v, %v", second, err)
		}
		if err := s.SettleMail(ctx, []store.MailResult{{Job: first[0]}}); err != nil {
			t.Fatal(err)
		}
		backlog(2)
		if err := s.SettleMail(ctx, []store.MailResult{{Job: second[0]}}); err != nil {
			t.Fatal(err)
		}
		backlog(1)

		// Confirming queues the welcome when asked to.
		if _, err := s.ConfirmSubscription(ctx, ada, double.ID, model.SourceForm, true); err != nil {
			t.Fatal(err)
		}
		backlog(2)
		// Erasure takes the queued mail along.
		if err := s.EraseSubscriber(ctx, "ada@example.com"); err != nil {
			t.Fatal(err)
		}
		backlog(0)
	})
}

// publicLists creates two public lists, one double and one single opt-in.
func publicLists(t *testing.T, s *store.Store) (double, single *model.List) {
	t.Helper()
	double = &model.List{Slug: "daily", Name: "Daily", OptIn: model.OptInDouble, Public: true}
	single = &model.List{Slug: "weekly", Name: "Weekly", OptIn: model.OptInSingle, Public: true}
	for _, l := range []*model.List{double, single} {
		if err := s.CreateList(context.Background(), l); err != nil {
			t.Fatal(err)
		}
	}
	return double, single
}

// TestTimesInAnyZone: a time passed in a zone other than UTC compares as
// the instant it is. SQLite keeps times as text; a retry set a minute
// ahead in New York's time was due at once, and one in Tokyo's nine hours
// late.
func TestTimesInAnyZone(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		double, _ := publicLists(t, s)
		for _, zone := range []string{"America/New_York", "Asia/Tokyo"} {
			loc, err := time.LoadLocation(zone)
			if err != nil {
				t.Skipf("no time zone data: %v", err)
			}
			if _, _, err := s.Signup(ctx, "zone-"+zone[:4]+"@example.com", "", double, model.SourceForm, false); err != nil {
				t.Fatal(err)
			}
			jobs, err := s.ClaimMail(ctx, 10, time.Hour)
			if err != nil || len(jobs) != 1 {
				t.Fatalf("%s: claim = %v, %v", zone, jobs, err)
			}
			in := func(d time.Duration) time.Time { return time.Now().Add(d).In(loc) }
			if err := s.SettleMail(ctx, []store.MailResult{{Job: jobs[0], RetryAt: in(time.Minute), Reason: "451"}}); err != nil {
				t.Fatal(err)
			}
			if due, _ := s.MailDue(ctx); due {
				t.Fatalf("%s: a retry a minute ahead is due now", zone)
			}
			if err := s.SettleMail(ctx, []store.MailResult{{Job: jobs[0]}}); err != nil { // done: out of the way
				t.Fatal(err)
			}
		}
	})
}

// TestMailGivenBackUnsent: a job given back before it was tried keeps its
// attempts (a tried one counts), and a renewed claim holds its jobs past
// the first lease while a claim since taken over renews nothing.
func TestMailGivenBackUnsent(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		double, _ := publicLists(t, s)
		if _, _, err := s.Signup(ctx, "ada@example.com", "Ada", double, model.SourceForm, true); err != nil {
			t.Fatal(err)
		}
		claim := func(want int) store.MailJob {
			t.Helper()
			jobs, err := s.ClaimMail(ctx, 10, time.Hour)
			if err != nil || len(jobs) != 1 || jobs[0].Attempts != want {
				t.Fatalf("claim = %+v, %v; want one job at attempt %d", jobs, err, want)
			}
			return jobs[0]
		}
		j := claim(1)
		for range 3 {
			if err := s.SettleMail(ctx, []store.MailResult{{Job: j, RetryAt: time.Now().Add(-time.Second), Reason: "batch out of time", Unsent: true}}); err != nil {
				t.Fatal(err)
			}
			j = claim(1)
		}
		// Tried and deferred: that counts.
		if err := s.SettleMail(ctx, []store.MailResult{{Job: j, RetryAt: time.Now().Add(-time.Second), Reason: "451"}}); err != nil {
			t.Fatal(err)
		}
		j = claim(2)

		held, err := s.RenewMail(ctx, []store.MailJob{j}, 2*time.Hour)
		if err != nil || len(held) != 1 || held[0] != j {
			t.Fatalf("renew = %+v, %v", held, err)
		}
		stale := j
		stale.Attempts--
		if held, err := s.RenewMail(ctx, []store.MailJob{stale}, 2*time.Hour); err != nil || len(held) != 0 {
			t.Fatalf("renewing an old claim = %+v, %v; want nothing", held, err)
		}
	})
}
