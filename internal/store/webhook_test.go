package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// hookNotice is a webhook body as a receiver reads it.
type hookNotice struct {
	ID   string             `json:"id"`
	Type model.WebhookEvent `json:"type"`
	Data struct {
		Subscriber *struct {
			ID    int64  `json:"id"`
			Email string `json:"email"`
			Name  string `json:"name"`
		} `json:"subscriber"`
		List *struct {
			Slug string `json:"slug"`
		} `json:"list"`
		Source   string `json:"source"`
		Email    string `json:"email"`
		Reason   string `json:"reason"`
		Campaign *struct {
			ID         int64  `json:"id"`
			Name       string `json:"name"`
			Recipients int64  `json:"recipients"`
			Sent       *int64 `json:"sent"`
		} `json:"campaign"`
	} `json:"data"`
}

// notices returns an endpoint's deliveries, oldest first, decoded.
func notices(t *testing.T, s *store.Store, endpointID int64) []hookNotice {
	t.Helper()
	ds, err := s.WebhookDeliveries(context.Background(), endpointID, 100)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]hookNotice, len(ds))
	for i, d := range ds {
		if err := json.Unmarshal(d.Payload, &out[len(ds)-1-i]); err != nil {
			t.Fatalf("payload %s: %v", d.Payload, err)
		}
		if d.Event != out[len(ds)-1-i].Type || d.Status != model.WebhookPending {
			t.Fatalf("delivery %+v", d)
		}
	}
	return out
}

func types(ns []hookNotice) []model.WebhookEvent {
	var out []model.WebhookEvent
	for _, n := range ns {
		out = append(out, n.Type)
	}
	return out
}

func sameEvents(a, b []model.WebhookEvent) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestWebhooksQueuedWithTheirEvents: each event writes one delivery per
// endpoint listening for it (an inactive endpoint and one listening for
// other events get none), with the event's data, in the transaction that
// makes it happen.
func TestWebhooksQueuedWithTheirEvents(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		all := &model.WebhookEndpoint{URL: "https://hooks.example.net/all", Secret: "s1", Events: model.WebhookEvents(), Active: true}
		leaving := &model.WebhookEndpoint{URL: "https://hooks.example.net/leaving", Secret: "s2", Events: []model.WebhookEvent{model.EventSubscriberUnsubscribed}, Active: true}
		off := &model.WebhookEndpoint{URL: "https://hooks.example.net/off", Secret: "s3", Events: model.WebhookEvents()}
		for _, e := range []*model.WebhookEndpoint{all, leaving, off} {
			if err := s.CreateWebhookEndpoint(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		double, single := publicLists(t, s)

		// A form signup to a single opt-in list: created, then confirmed.
		ada, _, err := s.Signup(ctx, "ada@example.com", "Ada", single, model.SourceForm, false)
		if err != nil {
			t.Fatal(err)
		}
		// To a double opt-in list: nothing until the confirmation.
		if _, _, err := s.Signup(ctx, "ada@example.com", "Someone Else", double, model.SourceForm, false); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ConfirmSubscription(ctx, ada, double.ID, model.SourceForm, false); err != nil {
			t.Fatal(err)
		}
		// Confirming twice is no news.
		if _, err := s.ConfirmSubscription(ctx, ada, double.ID, model.SourceForm, false); err != nil {
			t.Fatal(err)
		}
		// Leaving both lists: one notice per list.
		if _, err := s.Unsubscribe(ctx, ada, nil, model.SourceOneClick); err != nil {
			t.Fatal(err)
		}
		// A subscriber created by the API or the admin.
		ben := &model.Subscriber{Email: "ben@example.com", Name: "Ben"}
		if _, err := s.UpsertSubscriber(ctx, ben); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpsertSubscriber(ctx, ben); err != nil { // an update: no news
			t.Fatal(err)
		}
		// Bounces and complaints; a manual suppression is no news.
		if err := s.Suppress(ctx, "ben@example.com", model.SuppressHardBounce, "550 5.1.1 no such user"); err != nil {
			t.Fatal(err)
		}
		if err := s.Suppress(ctx, "stranger@example.com", model.SuppressComplaint, "abuse report"); err != nil {
			t.Fatal(err)
		}
		if err := s.Suppress(ctx, "manual@example.com", model.SuppressManual, ""); err != nil {
			t.Fatal(err)
		}

		got := notices(t, s, all.ID)
		want := []model.WebhookEvent{model.EventSubscriberCreated, model.EventSubscriberConfirmed, model.EventSubscriberConfirmed,
			model.EventSubscriberUnsubscribed, model.EventSubscriberUnsubscribed, model.EventSubscriberCreated,
			model.EventSubscriberBounced, model.EventSubscriberComplained}
		if !sameEvents(types(got), want) {
			t.Fatalf("events = %v, want %v", types(got), want)
		}
		created := got[0].Data
		if created.Subscriber.ID != ada || created.Subscriber.Email != "ada@example.com" || created.Subscriber.Name != "Ada" ||
			created.List.Slug != "weekly" || created.Source != "form" {
			t.Fatalf("created data = %+v", created)
		}
		// The confirmation names the subscriber as stored, not as a later form typed them.
		if c := got[2].Data; c.Subscriber.Name != "Ada" || c.List.Slug != "daily" {
			t.Fatalf("confirmed data = %+v %+v", c.Subscriber, c.List)
		}
		if u := got[3].Data; u.Source != "one-click" || u.Subscriber.Email != "ada@example.com" {
			t.Fatalf("unsubscribed data = %+v", u)
		}
		if b := got[6].Data; b.Email != "ben@example.com" || b.Subscriber == nil || b.Subscriber.ID != ben.ID || b.Reason != "hard_bounce" {
			t.Fatalf("bounced data = %+v", b)
		}
		if c := got[7].Data; c.Email != "stranger@example.com" || c.Subscriber != nil || c.Reason != "complaint" {
			t.Fatalf("complained data = %+v", c)
		}
		seen := map[string]bool{}
		for _, n := range got {
			if seen[n.ID] || len(n.ID) != 36 {
				t.Fatalf("event IDs not unique or malformed: %q", n.ID)
			}
			seen[n.ID] = true
		}
		if got := types(notices(t, s, leaving.ID)); !sameEvents(got, []model.WebhookEvent{model.EventSubscriberUnsubscribed, model.EventSubscriberUnsubscribed}) {
			t.Fatalf("unsubscribe-only endpoint got %v", got)
		}
		if got := notices(t, s, off.ID); len(got) != 0 {
			t.Fatalf("inactive endpoint got %v", types(got))
		}

		// A campaign's start and end, the end with its counts.
		l := audience(t, s, "c", 3)
		c := &model.Campaign{Name: "Friday", EditionID: 1, ListIDs: []int64{l.ID}, From: "News <news@example.com>"}
		if err := s.CreateCampaign(ctx, c); err != nil {
			t.Fatal(err)
		}
		if _, err := s.StartCampaign(ctx, c.ID, model.Frozen{Subject: "Hi", HTML: []byte("h"), Text: []byte("t")}); err != nil {
			t.Fatal(err)
		}
		rows, err := s.ClaimDeliveries(ctx, c.ID, 10, time.Minute)
		if err != nil || len(rows) != 3 {
			t.Fatalf("claim = %v, %v", rows, err)
		}
		var outs []store.Outcome
		for i, d := range rows {
			o := store.Outcome{ID: d.ID, Attempts: d.Attempts, Email: d.Email, Status: model.DeliverySent, Reply: "250 ok"}
			if i == 2 {
				o.Status, o.Reply, o.Suppress = model.DeliveryFailed, "550 5.1.1 unknown", model.SuppressHardBounce
			}
			outs = append(outs, o)
		}
		if err := s.RecordOutcomes(ctx, outs); err != nil {
			t.Fatal(err)
		}
		if done, err := s.FinishCampaign(ctx, c.ID); err != nil || !done {
			t.Fatalf("finish = %v, %v", done, err)
		}
		if done, _ := s.FinishCampaign(ctx, c.ID); done { // already sent: no second notice
			t.Fatal("finished twice")
		}
		got = notices(t, s, all.ID)[len(want):]
		if !sameEvents(types(got), []model.WebhookEvent{model.EventCampaignStarted, model.EventSubscriberBounced, model.EventCampaignSent}) {
			t.Fatalf("campaign events = %v", types(got))
		}
		if st := got[0].Data.Campaign; st == nil || st.ID != c.ID || st.Name != "Friday" || st.Recipients != 3 {
			t.Fatalf("started data = %+v", st)
		}
		if b := got[1].Data; b.Email != rows[2].Email || b.Reason != "hard_bounce" {
			t.Fatalf("bounce from a send = %+v", b)
		}
		if sent := got[2].Data.Campaign; sent == nil || sent.Recipients != 3 || sent.Sent == nil || *sent.Sent != 2 {
			t.Fatalf("sent data = %+v", sent)
		}
	})
}

// TestWebhookClaims: a claim leases due deliveries; a lease that runs out
// lets another sender take them over, and the first claim's late news then
// changes nothing; retries wait for their time; a sender that stops gives
// its jobs back without using up a try; inactive endpoints' deliveries
// wait; finished deliveries are pruned.
func TestWebhookClaims(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		e := &model.WebhookEndpoint{URL: "https://hooks.example.net/in", Secret: "topsecret", Events: []model.WebhookEvent{model.EventSubscriberCreated}, Active: true}
		if err := s.CreateWebhookEndpoint(ctx, e); err != nil {
			t.Fatal(err)
		}
		if _, err := s.QueueWebhookTest(ctx, e.ID+100); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("test for a missing endpoint: %v", err)
		}
		id, err := s.QueueWebhookTest(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if due, err := s.WebhooksDue(ctx); err != nil || !due {
			t.Fatalf("due = %v, %v", due, err)
		}
		// Sender A claims with a lease that runs out at once.
		a, err := s.ClaimWebhooks(ctx, 10, 0)
		if err != nil || len(a) != 1 {
			t.Fatalf("claim A = %+v, %v", a, err)
		}
		if j := a[0]; j.ID != id || j.URL != e.URL || j.Secret != "topsecret" || j.Event != model.EventWebhookTest || j.Attempts != 1 || j.Claim != 1 {
			t.Fatalf("job = %+v", j)
		}
		time.Sleep(5 * time.Millisecond)
		// Sender B takes it over.
		b, err := s.ClaimWebhooks(ctx, 10, time.Hour)
		if err != nil || len(b) != 1 || b[0].ID != id || b[0].Attempts != 2 || b[0].Claim != 2 {
			t.Fatalf("claim B = %+v, %v", b, err)
		}
		if again, err := s.ClaimWebhooks(ctx, 10, time.Hour); err != nil || len(again) != 0 {
			t.Fatalf("a leased delivery was claimed: %+v, %v", again, err)
		}
		// A's late answer is ignored; B's retry waits for its time.
		if err := s.SettleWebhooks(ctx, []store.WebhookResult{{Job: a[0], Status: model.WebhookDelivered, Code: 200}}); err != nil {
			t.Fatal(err)
		}
		if err := s.SettleWebhooks(ctx, []store.WebhookResult{{Job: b[0], Status: model.WebhookPending, RetryAt: time.Now().Add(time.Hour), Code: 500, Error: "answered 500"}}); err != nil {
			t.Fatal(err)
		}
		ds, _ := s.WebhookDeliveries(ctx, e.ID, 10)
		if d := ds[0]; d.Status != model.WebhookPending || d.LastCode != 500 || d.Attempts != 2 || d.LastError != "answered 500" || !d.NextAttempt.After(time.Now()) {
			t.Fatalf("after a 500 = %+v", d)
		}
		if due, _ := s.WebhooksDue(ctx); due {
			t.Fatal("a delivery waiting for its retry is due")
		}
		if n, _ := s.WebhookBacklog(ctx); n != 1 {
			t.Fatalf("backlog = %d", n)
		}

		// A second delivery, claimed and given back at shutdown: due
		// again, its attempt not counted.
		id2, _ := s.QueueWebhookTest(ctx, e.ID)
		c, _ := s.ClaimWebhooks(ctx, 10, time.Hour)
		if len(c) != 1 || c[0].ID != id2 {
			t.Fatalf("claim = %+v", c)
		}
		if err := s.SettleWebhooks(ctx, []store.WebhookResult{{Job: c[0], GiveBack: true}}); err != nil {
			t.Fatal(err)
		}
		c, _ = s.ClaimWebhooks(ctx, 10, time.Hour)
		if len(c) != 1 || c[0].ID != id2 || c[0].Attempts != 1 {
			t.Fatalf("claim after give-back = %+v", c)
		}
		if err := s.SettleWebhooks(ctx, []store.WebhookResult{{Job: c[0], Status: model.WebhookFailed, Code: 404, Error: "answered 404"}}); err != nil {
			t.Fatal(err)
		}

		// An inactive endpoint's deliveries wait.
		e.Active, e.Secret = false, ""
		if err := s.UpdateWebhookEndpoint(ctx, e); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.WebhookEndpoint(ctx, e.ID); got.Secret != "topsecret" || got.Active {
			t.Fatalf("endpoint after update = %+v", got)
		}
		s.QueueWebhookTest(ctx, e.ID)
		if due, _ := s.WebhooksDue(ctx); due {
			t.Fatal("an inactive endpoint's delivery is due")
		}
		if got, _ := s.ClaimWebhooks(ctx, 10, time.Hour); len(got) != 0 {
			t.Fatalf("an inactive endpoint's delivery was claimed: %+v", got)
		}
		eps, err := s.WebhookEndpoints(ctx)
		if err != nil || len(eps) != 1 || eps[0].Pending != 2 || eps[0].Failed != 1 || eps[0].Delivered != 0 {
			t.Fatalf("endpoints = %+v, %v", eps, err)
		}

		// Finished deliveries are pruned; pending ones stay.
		if n, err := s.PruneWebhookDeliveries(ctx, time.Now().Add(time.Minute)); err != nil || n != 1 {
			t.Fatalf("pruned %d, %v", n, err)
		}
		if err := s.DeleteWebhookEndpoint(ctx, e.ID); err != nil {
			t.Fatal(err)
		}
		if n, _ := s.WebhookBacklog(ctx); n != 0 {
			t.Fatalf("deleting an endpoint left %d deliveries", n)
		}
		if err := s.DeleteWebhookEndpoint(ctx, e.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
	})
}
