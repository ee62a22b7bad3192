package delivery_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/delivery/deliverytest"
	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestDirectIntoTheOutbox: with no relay configured, a transactional
// message lands in the built-in outbox, as campaign mail does, and says so.
func TestDirectIntoTheOutbox(t *testing.T) {
	s := storetest.SQLite(t)
	ctx := context.Background()
	sub := &model.Subscriber{Email: "ada@example.net", Name: "Ada"}
	if _, err := s.UpsertSubscriber(ctx, sub); err != nil {
		t.Fatal(err)
	}
	l := &model.List{Slug: "newsletter", Name: "Newsletter"}
	if err := s.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSubscription(ctx, sub.ID, l.ID, model.SubConfirmed, model.SourceAPI); err != nil {
		t.Fatal(err)
	}
	d, ob := outboxDirect(t, s)
	tp, err := delivery.ParseTemplate("Welcome, {{.name}}", "Your account is ready, {{.name}}.", "")
	if err != nil {
		t.Fatal(err)
	}
	sent, err := d.Send(ctx, delivery.DirectMessage{To: "ada@example.net", Template: tp})
	if err != nil {
		t.Fatal(err)
	}
	items, err := ob.List(0, 10)
	if err != nil || len(items) != 1 || sent.Transport != mailer.TransportOutbox || items[0].MessageID != sent.MessageID || items[0].Subject != "Welcome, Ada" {
		t.Fatalf("sent %+v; outbox %+v, %v", sent, items, err)
	}
	_, raw, err := ob.Get(items[0].ID)
	if err != nil || !strings.Contains(strings.ToLower(string(raw)), "feedback-id: tx:newsletter:herald") || !strings.Contains(string(raw), "List-Unsubscribe: <https://news.example.com/unsubscribe/") {
		t.Errorf("stored message lacks the list headers: %v\n%.800s", err, raw)
	}
}

// outboxDirect is a Direct sender into a new outbox.
func outboxDirect(t *testing.T, s *store.Store) (*delivery.Direct, *mailer.Outbox) {
	t.Helper()
	ob, err := mailer.NewOutbox(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := delivery.NewDirect(delivery.DirectConfig{Store: s, Sender: ob, Signer: deliverytest.Signer(t),
		BaseURL: "https://news.example.com", From: "Courier <news@example.com>", Publication: sample.Publication()})
	if err != nil {
		t.Fatal(err)
	}
	return d, ob
}

// TestDirectSendsOnlyWhatIsPublic: the transactional path mails published
// editions only, to readers confirmed on the named list (or on some list),
// from the addresses Herald is configured with; every reader it will not
// mail gets the same refusal, so a refusal tells nobody who subscribes.
func TestDirectSendsOnlyWhatIsPublic(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		evening := &model.List{Slug: "evening", Name: "Evening"}
		other := &model.List{Slug: "other", Name: "Other"}
		for _, l := range []*model.List{evening, other} {
			if err := s.CreateList(ctx, l); err != nil {
				t.Fatal(err)
			}
		}
		for _, r := range []struct {
			email  string
			list   *model.List
			status model.SubscriptionStatus
		}{{"ada@example.net", evening, model.SubConfirmed}, {"pending@example.net", evening, model.SubUnconfirmed},
			{"left@example.net", evening, model.SubUnsubscribed}, {"elsewhere@example.net", other, model.SubConfirmed},
			{"gone@example.net", evening, model.SubConfirmed}, {"nolist@example.net", nil, ""}} {
			sub := &model.Subscriber{Email: r.email}
			if _, err := s.UpsertSubscriber(ctx, sub); err != nil {
				t.Fatal(err)
			}
			if r.list != nil {
				if err := s.SetSubscription(ctx, sub.ID, r.list.ID, r.status, model.SourceAPI); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := s.Suppress(ctx, "gone@example.net", model.SuppressComplaint, "spam"); err != nil {
			t.Fatal(err)
		}
		ed, err := sample.Edition()
		if err != nil {
			t.Fatal(err)
		}
		ed.Slug = "embargoed"
		if err := s.CreateEdition(ctx, ed, ""); err != nil {
			t.Fatal(err)
		}
		d, ob := outboxDirect(t, s)
		tp, err := delivery.ParseTemplate("Hello", "Hi.", "")
		if err != nil {
			t.Fatal(err)
		}
		refusal := func(m delivery.DirectMessage) *delivery.Refusal {
			t.Helper()
			_, err := d.Send(ctx, m)
			var ref *delivery.Refusal
			if err != nil && !errors.As(err, &ref) {
				t.Fatalf("send %+v: %v", m, err)
			}
			return ref
		}
		// Nobody may be told apart: one code, one text.
		var texts []string
		for _, m := range []delivery.DirectMessage{
			{To: "pending@example.net", List: "evening"}, {To: "left@example.net", List: "evening"},
			{To: "elsewhere@example.net", List: "evening"}, {To: "gone@example.net", List: "evening"},
			{To: "stranger@example.net", List: "evening"}, {To: "nolist@example.net"}, {To: "pending@example.net"},
		} {
			m.Template = tp
			ref := refusal(m)
			if ref == nil || ref.Code != delivery.RefusalCannotSend {
				t.Fatalf("%s on %q: refusal %+v, want %s", m.To, m.List, ref, delivery.RefusalCannotSend)
			}
			texts = append(texts, ref.Message)
		}
		for _, txt := range texts {
			if txt != texts[0] || strings.Contains(txt, "@") {
				t.Fatalf("refusal texts differ or name the address: %q", texts)
			}
		}
		// A draft edition is not mailed, by slug or by ID.
		if ref := refusal(delivery.DirectMessage{To: "ada@example.net", List: "evening", Edition: "embargoed"}); ref == nil || ref.Code != "invalid" {
			t.Fatalf("draft edition by slug: %+v", ref)
		}
		if ref := refusal(delivery.DirectMessage{To: "ada@example.net", List: "evening", EditionID: ed.ID}); ref == nil || ref.Code != "invalid" {
			t.Fatalf("draft edition by ID: %+v", ref)
		}
		// Another From than Herald's is refused; Herald's address under
		// another name is the desk's to choose.
		if ref := refusal(delivery.DirectMessage{To: "ada@example.net", List: "evening", Template: tp, From: "Bank <security@bank.example>"}); ref == nil || ref.Code != "invalid" {
			t.Fatalf("foreign From: %+v", ref)
		}
		if ref := refusal(delivery.DirectMessage{To: "ada@example.net", List: "evening", Template: tp, Name: "Win at https://evil.example"}); ref == nil || ref.Code != "invalid" {
			t.Fatalf("a name with a link: %+v", ref)
		}
		if n, err := ob.Count(); err != nil || n != 0 {
			t.Fatalf("refused requests reached the outbox")
		}
		if ref := refusal(delivery.DirectMessage{To: "ada@example.net", List: "evening", Template: tp, From: "The Desk <news@example.com>"}); ref != nil {
			t.Fatalf("Herald's own address: %+v", ref)
		}
		if err := s.SetEditionStatus(ctx, ed.ID, model.EditionPublished); err != nil {
			t.Fatal(err)
		}
		if ref := refusal(delivery.DirectMessage{To: "ada@example.net", Edition: "embargoed"}); ref != nil {
			t.Fatalf("published edition to a confirmed reader: %+v", ref)
		}
	})
}
