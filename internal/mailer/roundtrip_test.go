package mailer

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/herald-news/herald/internal/message"
	"github.com/herald-news/herald/internal/smtpsink"
)

// TestSignedMessageSurvivesTheRelay builds a DKIM-signed message, sends it
// over a real SMTP session and verifies the copy the server received.
func TestSignedMessageSurvivesTheRelay(t *testing.T) {
	pemKey, err := message.GenerateKey("ed25519")
	if err != nil {
		t.Fatal(err)
	}
	key, err := message.ParseKey(pemKey)
	if err != nil {
		t.Fatal(err)
	}
	record, _ := message.DNSRecord(key)
	tpl, err := message.New(message.Config{
		From:       message.Address{Name: "Evening Ledger", Email: "briefing@ledger.example"},
		Subject:    "Harbour vote — delayed",
		ListID:     "evening.ledger.example",
		FeedbackID: "c1:evening:herald",
		DKIM:       &message.DKIM{Domain: "ledger.example", Selector: "s1", Key: key},
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := tpl.Append(nil, &message.Message{
		To:             message.Address{Name: "Ana", Email: "ana@readers.example"},
		MessageID:      message.ID(1, 7, "ledger.example"),
		Date:           time.Date(2026, 3, 4, 18, 30, 0, 0, time.UTC),
		UnsubscribeURL: "https://ledger.example/u/1/7?t=x",
		Text:           []byte("Good evening.\n.\n.leading dot line\n"),
		HTML:           []byte("<p>Good evening.</p>\n"),
	})
	if err != nil {
		t.Fatal(err)
	}
	sink := startSink(t, smtpsink.Options{})
	m := newMailer(t, Config{Relays: []RelayConfig{relayFor(t, sink.URL())}})
	if err := m.Send(context.Background(), Envelope{From: "bounces@ledger.example", To: "ana@readers.example"}, raw); err != nil {
		t.Fatal(err)
	}
	got := sink.Messages()
	if len(got) != 1 || got[0].MessageID != "herald.c1.s7@ledger.example" || !bytes.Equal(got[0].Raw, raw) {
		t.Fatalf("received %d messages; bytes equal: %v", len(got), len(got) == 1 && bytes.Equal(got[0].Raw, raw))
	}
	verifs, err := dkim.VerifyWithOptions(bytes.NewReader(got[0].Raw), &dkim.VerifyOptions{
		LookupTXT: func(string) ([]string, error) { return []string{record}, nil },
	})
	if err != nil || len(verifs) != 1 || verifs[0].Err != nil {
		t.Fatalf("received copy does not verify: %v %v", verifs, err)
	}
}
