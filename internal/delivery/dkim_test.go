package delivery_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/delivery/deliverytest"
	"github.com/herald-news/herald/internal/message"
	"github.com/herald-news/herald/internal/settings"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestDKIMKeyReadWhenACampaignStarts: with Settings the engine reads the
// key as a campaign starts sending, so a key generated while Herald runs
// signs the next campaign, and every message verifies against its record.
func TestDKIMKeyReadWhenACampaignStarts(t *testing.T) {
	pem, _, record := deliverytest.DKIMKey(t)
	s := storetest.SQLite(t)
	f := newFixture(t, s, 5, smtpsink.Faults{}, func(c *delivery.Config) {
		c.Settings = settings.New(s, "https://news.example.com")
	})
	// The key appears after the engine was built, before the campaign starts.
	if err := settings.SaveDKIM(context.Background(), s, pem, "h2026", "ledger.example"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.engine.Start(context.Background(), f.camp.ID); err != nil {
		t.Fatal(err)
	}
	f.waitFor("the campaign to finish", sent)
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
