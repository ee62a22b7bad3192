package delivery_test

import (
	"context"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/bounce"
	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/delivery/deliverytest"
	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store/storetest"
)

// With a bounce domain, each message's envelope sender is a VERP address
// whose token names its own reader and the campaign.
func TestEnvelopeSenderNamesReaderAndCampaign(t *testing.T) {
	s := storetest.SQLite(t)
	ctx := context.Background()
	verp := bounce.VERP{Signer: deliverytest.Signer(t), Domain: "bounces.example.com"}
	f := newFixture(t, s, 3, smtpsink.Faults{}, func(c *delivery.Config) { c.Bounce = verp })
	if _, err := f.engine.Start(ctx, f.camp.ID); err != nil {
		t.Fatal(err)
	}
	f.waitFor("the campaign to be sent", sent)
	msgs := f.sink.Messages()
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want 3", len(msgs))
	}
	seen := map[string]bool{}
	for _, m := range msgs {
		if !strings.HasPrefix(m.From, bounce.LocalPrefix) || !strings.HasSuffix(m.From, "@bounces.example.com") {
			t.Fatalf("envelope sender %q, want a VERP address", m.From)
		}
		subID, campID, err := verp.Claims(m.From)
		if err != nil || campID != f.camp.ID {
			t.Fatalf("Claims(%q) = %d, %d, %v", m.From, subID, campID, err)
		}
		sub, err := s.SubscriberByID(ctx, subID)
		if err != nil || sub.Email != m.To[0] {
			t.Fatalf("the token of %s's mail names subscriber %d (%v, %v)", m.To[0], subID, sub, err)
		}
		seen[m.From] = true
	}
	if len(seen) != 3 {
		t.Fatalf("%d distinct envelope senders for 3 readers", len(seen))
	}
}

// A transactional message's envelope sender names its reader too, with no
// campaign.
func TestDirectEnvelopeSenderNamesTheReader(t *testing.T) {
	s := storetest.SQLite(t)
	ctx := context.Background()
	sub := &model.Subscriber{Email: "ada@example.net", Name: "Ada"}
	if _, err := s.UpsertSubscriber(ctx, sub); err != nil {
		t.Fatal(err)
	}
	// Transactional mail goes only to readers confirmed on a list.
	l := &model.List{Slug: "news", Name: "News"}
	if err := s.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSubscription(ctx, sub.ID, l.ID, model.SubConfirmed, model.SourceAPI); err != nil {
		t.Fatal(err)
	}
	ob, err := mailer.NewOutbox(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	verp := bounce.VERP{Signer: deliverytest.Signer(t), Domain: "bounces.example.com"}
	d, err := delivery.NewDirect(delivery.DirectConfig{Store: s, Sender: ob, Signer: deliverytest.Signer(t), Bounce: verp,
		BaseURL: "https://news.example.com", From: "Courier <news@example.com>", Publication: sample.Publication()})
	if err != nil {
		t.Fatal(err)
	}
	tp, err := delivery.ParseTemplate("Welcome, {{.name}}", "Your account is ready, {{.name}}.", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Send(ctx, delivery.DirectMessage{To: "ada@example.net", Template: tp}); err != nil {
		t.Fatal(err)
	}
	items, err := ob.List(0, 10)
	if err != nil || len(items) != 1 {
		t.Fatalf("outbox: %+v, %v", items, err)
	}
	subID, campID, err := verp.Claims(items[0].Envelope.From)
	if err != nil || subID != sub.ID || campID != 0 {
		t.Fatalf("envelope sender %q: subscriber %d, campaign %d, %v", items[0].Envelope.From, subID, campID, err)
	}
}
