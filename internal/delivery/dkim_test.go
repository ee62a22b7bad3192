package delivery_test

import (
	"bytes"
	"context"
	"sync/atomic"
	"testing"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/message"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestDKIMKeyReadWhenACampaignStarts: with LoadDKIM the engine asks for the
// key as a campaign starts sending, so a key generated while Herald runs
// signs the next campaign, and every message verifies against its record.
func TestDKIMKeyReadWhenACampaignStarts(t *testing.T) {
	pem, err := message.GenerateKey("ed25519")
	if err != nil {
		t.Fatal(err)
	}
	key, err := message.ParseKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	record, err := message.DNSRecord(key)
	if err != nil {
		t.Fatal(err)
	}
	var current atomic.Pointer[message.DKIM]
	var asked atomic.Int64
	s := storetest.SQLite(t)
	f := newFixture(t, s, 5, smtpsink.Faults{}, func(c *delivery.Config) {
		c.LoadDKIM = func(context.Context) (*message.DKIM, error) {
			asked.Add(1)
			return current.Load(), nil
		}
	})
	// The key appears after the engine was built, before the campaign starts.
	current.Store(&message.DKIM{Domain: "ledger.example", Selector: "h2026", Key: key})
	if _, err := f.engine.Start(context.Background(), f.camp.ID); err != nil {
		t.Fatal(err)
	}
	f.waitFor("the campaign to finish", sent)
	if asked.Load() == 0 {
		t.Fatal("the engine never asked for the DKIM key")
	}
	msgs := f.sink.Messages()
	if len(msgs) != 5 {
		t.Fatalf("%d messages", len(msgs))
	}
	opts := &dkim.VerifyOptions{LookupTXT: func(name string) ([]string, error) {
		if name != message.DNSName("h2026", "ledger.example") {
			t.Errorf("lookup %q", name)
		}
		return []string{record}, nil
	}}
	for _, m := range msgs {
		verifs, err := dkim.VerifyWithOptions(bytes.NewReader(m.Raw), opts)
		if err != nil || len(verifs) != 1 || verifs[0].Err != nil || verifs[0].Domain != "ledger.example" {
			t.Fatalf("message to %v does not verify: %v %+v", m.To, err, verifs)
		}
	}
}
