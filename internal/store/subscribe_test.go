package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

func TestSignupConfirmUnsubscribe(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		double, single := publicLists(t, s)
		id, out, err := s.Signup(ctx, "ada@example.com", "Ada", double, model.SourceForm, false)
		if err != nil || out != store.SignupPending {
			t.Fatalf("first signup = %v, %v", out, err)
		}
		// Again at once before confirming: same subscriber, and no second
		// confirmation so soon (a form must not flood an inbox).
		id2, out, err := s.Signup(ctx, "ada@example.com", "Mallory", double, model.SourceForm, false)
		if err != nil || out != store.SignupRecent || id2 != id {
			t.Fatalf("repeat signup = %d %v, %v", id2, out, err)
		}
		sub, _ := s.SubscriberByID(ctx, id)
		if sub.Name != "Ada" {
			t.Fatalf("a stranger's form renamed the subscriber to %q", sub.Name)
		}
		if changed, err := s.ConfirmSubscription(ctx, id, double.ID, model.SourceForm, false); err != nil || !changed {
			t.Fatalf("confirm = %v, %v", changed, err)
		}
		if changed, err := s.ConfirmSubscription(ctx, id, double.ID, model.SourceForm, false); err != nil || changed {
			t.Fatalf("second confirm = %v, %v", changed, err)
		}
		if _, out, _ := s.Signup(ctx, "ada@example.com", "", double, model.SourceForm, false); out != store.SignupAlready {
			t.Fatalf("signup when confirmed = %v", out)
		}
		if _, out, _ := s.Signup(ctx, "ada@example.com", "", single, model.SourceForm, false); out != store.SignupJoined {
			t.Fatalf("single opt-in signup = %v", out)
		}
		if _, err := s.ConfirmSubscription(ctx, 9999, double.ID, model.SourceForm, false); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("confirm unknown = %v", err)
		}

		left, err := s.Unsubscribe(ctx, id, []int64{single.ID}, model.SourceOneClick)
		if err != nil || len(left) != 1 || left[0] != single.ID {
			t.Fatalf("unsubscribe one = %v, %v", left, err)
		}
		left, err = s.Unsubscribe(ctx, id, nil, model.SourceForm)
		if err != nil || len(left) != 1 || left[0] != double.ID {
			t.Fatalf("unsubscribe all = %v, %v", left, err)
		}
		// A confirm link clicked after leaving does not bring the subscription back.
		if changed, _ := s.ConfirmSubscription(ctx, id, double.ID, model.SourceForm, false); changed {
			t.Fatal("confirm after unsubscribe resubscribed")
		}
		hist, _ := s.SubscriptionHistory(ctx, id)
		if len(hist) != 5 {
			t.Fatalf("history has %d entries, want 5: %+v", len(hist), hist)
		}

		if err := s.Suppress(ctx, "eve@example.com", model.SuppressComplaint, ""); err != nil {
			t.Fatal(err)
		}
		if _, out, _ := s.Signup(ctx, "eve@example.com", "", single, model.SourceForm, false); out != store.SignupRefused {
			t.Fatalf("suppressed signup = %v", out)
		}
		if _, err := s.SubscriberByEmail(ctx, "eve@example.com"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("suppressed signup created a subscriber: %v", err)
		}
		if err := s.SetSubscriberName(ctx, id, "Ada L."); err != nil {
			t.Fatal(err)
		}
	})
}

func TestUnsubscribeSkipsPendingDeliveries(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		l := &model.List{Slug: "daily", Name: "Daily"}
		if err := s.CreateList(ctx, l); err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, e := range []string{"a@example.com", "b@example.com"} {
			id, _, err := s.Signup(ctx, e, "", l, model.SourceForm, false)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		c := &model.Campaign{Name: "c", EditionID: 1, ListIDs: []int64{l.ID}, From: "N <n@example.com>"}
		if err := s.CreateCampaign(ctx, c); err != nil {
			t.Fatal(err)
		}
		if _, err := s.StartCampaign(ctx, c.ID, model.Frozen{Subject: "s", Prefix: "x", HTML: []byte("h"), Text: []byte("t")}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Unsubscribe(ctx, ids[0], nil, model.SourceOneClick); err != nil {
			t.Fatal(err)
		}
		p, _ := s.CampaignProgress(ctx, c.ID)
		if p.Skipped != 1 || p.Pending != 1 {
			t.Fatalf("progress after unsubscribe = %+v", p)
		}
	})
}

func TestSoftBounceThreshold(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for i := 1; i <= 3; i++ {
			n, suppressed, err := s.SoftBounce(ctx, "full@example.com", "mailbox full", 3, 24*time.Hour)
			if err != nil || n != i || suppressed != (i == 3) {
				t.Fatalf("bounce %d = %d %v %v", i, n, suppressed, err)
			}
		}
		sp, err := s.Suppression(ctx, "full@example.com")
		if err != nil || sp.Reason != model.SuppressHardBounce {
			t.Fatalf("suppression = %+v, %v", sp, err)
		}
		if n, _ := s.SoftBounceCount(ctx, "full@example.com"); n != 0 {
			t.Fatalf("count after suppression = %d", n)
		}
	})
}

func TestStrangersCannotChangeOrReturnSomeone(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		open := &model.List{Slug: "open", Name: "Open", OptIn: model.OptInSingle, Public: true}
		s.CreateList(ctx, open)
		id, out, err := s.Signup(ctx, "ben@example.com", "", open, model.SourceForm, false)
		if err != nil || out != store.SignupJoined {
			t.Fatalf("first signup: %v, %v", out, err)
		}
		// Someone else types Ben's address with a name of their choosing.
		s.Signup(ctx, "ben@example.com", "Click this link", open, model.SourceForm, false)
		if sub, _ := s.SubscriberByID(ctx, id); sub.Name != "" {
			t.Fatalf("an anonymous form renamed an existing subscriber to %q", sub.Name)
		}
		// Ben leaves; a form cannot bring him back without his confirmation.
		if err := s.SetSubscription(ctx, id, open.ID, model.SubUnsubscribed, model.SourceOneClick); err != nil {
			t.Fatal(err)
		}
		_, out, err = s.Signup(ctx, "ben@example.com", "", open, model.SourceForm, false)
		if err != nil || out != store.SignupPending {
			t.Fatalf("signup after leaving a single opt-in list: %v, %v; want pending (confirmation)", out, err)
		}
		subs, _ := s.Subscriptions(ctx, id)
		if subs[0].Status == model.SubConfirmed {
			t.Fatal("re-subscribed without confirmation")
		}
	})
}

// TestSignupsShareATransaction: signups written together in one
// transaction come out as they would one by one (the same address twice
// is one subscriber, one confirmation), each with its confirmation
// queued; one that fails costs the others nothing.
func TestSignupsShareATransaction(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		double, single := publicLists(t, s)
		outs, errs := s.SignupsTogetherForTest(ctx,
			store.SignupForTest{Email: "ada@example.com", List: double},
			store.SignupForTest{Email: "bob@example.com", List: double},
			store.SignupForTest{Email: "ada@example.com", List: double},
			store.SignupForTest{Email: "ada@example.com", List: single})
		want := []store.SignupOutcome{store.SignupPending, store.SignupPending, store.SignupRecent, store.SignupJoined}
		for i := range want {
			if errs[i] != nil || outs[i] != want[i] {
				t.Fatalf("signup %d = %v, %v; want %v", i, outs[i], errs[i], want[i])
			}
		}
		if n, err := s.MailBacklog(ctx); err != nil || n != 2 {
			t.Fatalf("%d messages queued (%v), want the 2 confirmations", n, err)
		}

		// A list that does not exist fails its signup; the batch is
		// written again one by one, and the others are kept.
		gone := &model.List{ID: double.ID + single.ID + 1000, Slug: "gone", OptIn: model.OptInDouble}
		outs, errs = s.SignupsTogetherForTest(ctx,
			store.SignupForTest{Email: "cy@example.com", List: double},
			store.SignupForTest{Email: "dee@example.com", List: gone},
			store.SignupForTest{Email: "eve@example.com", List: double})
		if errs[1] == nil {
			t.Fatal("a signup to a list that does not exist succeeded")
		}
		if errs[0] != nil || errs[2] != nil || outs[0] != store.SignupPending || outs[2] != store.SignupPending {
			t.Fatalf("the others: %v %v, %v %v", outs[0], errs[0], outs[2], errs[2])
		}
		if n, err := s.MailBacklog(ctx); err != nil || n != 4 {
			t.Fatalf("%d messages queued (%v), want 4", n, err)
		}
		if _, err := s.SubscriberByEmail(ctx, "dee@example.com"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the failed signup left its subscriber: %v", err)
		}
		if n, err := s.CountSubscribers(ctx, store.SubscriberFilter{ListID: double.ID, Status: model.SubUnconfirmed}); err != nil || n != 4 {
			t.Fatalf("%d unconfirmed on the list (%v), want 4", n, err)
		}
	})
}

// TestConcurrentSignups: many signups at once, some for the same
// address, take turns writing batches; every caller gets its outcome and
// every new subscription exactly one confirmation.
func TestConcurrentSignups(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		double, _ := publicLists(t, s)
		const n, distinct = 300, 120
		outs := make([]store.SignupOutcome, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, outs[i], errs[i] = s.Signup(ctx, fmt.Sprintf("r%d@example.com", i%distinct), "", double, model.SourceForm, false)
			})
		}
		wg.Wait()
		pending := 0
		for i := range n {
			switch {
			case errs[i] != nil:
				t.Fatalf("signup %d: %v", i, errs[i])
			case outs[i] == store.SignupPending:
				pending++
			case outs[i] != store.SignupRecent:
				t.Fatalf("signup %d = %v", i, outs[i])
			}
		}
		if pending != distinct {
			t.Fatalf("%d signups pending, want one for each of the %d addresses", pending, distinct)
		}
		if q, err := s.MailBacklog(ctx); err != nil || q != distinct {
			t.Fatalf("%d confirmations queued (%v), want %d", q, err, distinct)
		}
	})
}

// TestSignupPanicLeavesNoOneWaiting: a signup whose writing panics (here:
// no list) panics in its own caller only; the signups after it are
// written, not left waiting for a writer that is gone, and the writer's
// connection is free again.
func TestSignupPanicLeavesNoOneWaiting(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		double, _ := publicLists(t, s)
		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("a signup without a list did not panic")
				}
			}()
			s.Signup(ctx, "nolist@example.com", "", nil, model.SourceForm, false)
		}()
		done := make(chan error, 1)
		go func() {
			_, _, err := s.Signup(ctx, "after@example.com", "", double, model.SourceForm, false)
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("the signup after the panic: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the signup after the panic is still waiting")
		}
	})
}
