package delivery_test

import (
	"bytes"
	"context"
	"net/mail"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/delivery/deliverytest"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/settings"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
	"github.com/herald-news/herald/internal/validator"
)

// TestConfirmationFromThePublicationsSender: with a sender saved in the
// publication's settings, a confirmation goes out From it with its
// Reply-To, over the configured From; a list's brand still comes first.
func TestConfirmationFromThePublicationsSender(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		pub := model.DefaultPublication("https://news.ledger.example")
		pub.Name, pub.From, pub.ReplyTo = "The Ledger", "The Ledger Desk <desk@ledger.example>", "letters@ledger.example"
		if err := settings.SavePublication(ctx, s, pub); err != nil {
			t.Fatal(err)
		}
		plain := &model.List{Slug: "evening", Name: "Evening Ledger", OptIn: model.OptInDouble, Public: true}
		branded := &model.List{Slug: "soir", Name: "Le Soir", OptIn: model.OptInDouble, Public: true,
			Brand: &model.Brand{From: "Le Soir <soir@ledger.example>"}}
		for _, l := range []*model.List{plain, branded} {
			if err := s.CreateList(ctx, l); err != nil {
				t.Fatal(err)
			}
		}
		sink, m, _ := deliverytest.Relay(t, smtpsink.Options{})
		q, err := delivery.NewMailQueue(delivery.MailQueueConfig{Store: s, Sender: m, Signer: deliverytest.Signer(t),
			BaseURL: "https://news.ledger.example", From: "Configured <configured@ledger.example>", Poll: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		q.Start()
		defer q.Close(ctx)
		for _, l := range []*model.List{plain, branded} {
			if _, _, err := s.Signup(ctx, "reader@example.com", "Ada", l, model.SourceForm, true); err != nil {
				t.Fatal(err)
			}
			q.Wake()
		}
		msgs := waitMessages(t, sink, 2)
		got := map[string][2]string{}
		for _, raw := range msgs {
			msg, err := mail.ReadMessage(bytes.NewReader(raw.Raw))
			if err != nil {
				t.Fatal(err)
			}
			from, _ := mail.ParseAddress(msg.Header.Get("From"))
			got[from.Address] = [2]string{from.Name, msg.Header.Get("Reply-To")}
		}
		if g := got["desk@ledger.example"]; g[0] != "The Ledger Desk" || g[1] != "<letters@ledger.example>" {
			t.Errorf("the plain list's confirmation: %v (all: %v)", g, got)
		}
		if g, ok := got["soir@ledger.example"]; !ok || g[1] != "<letters@ledger.example>" {
			t.Errorf("the branded list's confirmation: %v (all: %v)", g, got)
		}
	})
}

// TestCheckLinks: mail to readers through a relay needs a base_url that
// was set; the outbox takes it anyway, and an explicit loopback base_url
// (tests) is respected. The refusal names the field base_url.
func TestCheckLinks(t *testing.T) {
	_, m, _ := deliverytest.Relay(t, smtpsink.Options{})
	ob, err := mailer.NewOutbox(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what    string
		sender  mailer.Sender
		base    string
		guessed bool
		refused bool
	}{
		{"relay, no base_url", m, "http://127.0.0.1:8080", true, true},
		{"relay, empty base URL", m, "", false, true},
		{"relay, explicit loopback", m, "http://127.0.0.1:8080", false, false},
		{"relay, public", m, "https://news.example.com", false, false},
		{"outbox, no base_url", ob, "http://127.0.0.1:8080", true, false},
	} {
		err := delivery.CheckLinks(tc.sender, tc.base, tc.guessed)
		ve := validator.As(err)
		switch {
		case tc.refused && (ve == nil || ve.Field != "base_url" || ve.Key != "admin.validator.base_url"):
			t.Errorf("%s: %v, want a refusal on base_url", tc.what, err)
		case !tc.refused && err != nil:
			t.Errorf("%s: refused: %v", tc.what, err)
		}
	}
}
