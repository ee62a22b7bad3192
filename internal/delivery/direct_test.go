package delivery_test

import (
	"context"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/delivery/deliverytest"
	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/model"
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
	ob, err := mailer.NewOutbox(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := delivery.NewDirect(delivery.DirectConfig{Store: s, Sender: ob, Signer: deliverytest.Signer(t),
		BaseURL: "https://news.example.com", From: "Courier <news@example.com>", Publication: sample.Publication()})
	if err != nil {
		t.Fatal(err)
	}
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
