package delivery_test

import (
	"bytes"
	"context"
	"net/mail"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestNameWithALinkIsLeftOut: a name holding a link that reached the store
// without the name rule (an import) goes neither into the To header nor
// into the greeting; the reader is greeted as one without a name.
func TestNameWithALinkIsLeftOut(t *testing.T) {
	s := storetest.SQLite(t)
	ctx := context.Background()
	f := newFixture(t, s, 2, smtpsink.Faults{}, nil)
	if _, err := s.ImportBatch(ctx, []store.ImportRow{{Line: 2, Email: "reader0000@example.com", Name: "Claim your prize at bit.ly/win"}},
		store.ImportOptions{ListID: f.camp.ListIDs[0], Status: model.SubConfirmed, Mode: store.ImportUpsert}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.engine.Start(ctx, f.camp.ID); err != nil {
		t.Fatal(err)
	}
	f.waitFor("the campaign to finish", sent)
	var seen int
	for _, m := range f.sink.Messages() {
		if m.To[0] != "reader0000@example.com" {
			continue
		}
		seen++
		msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
		if err != nil {
			t.Fatal(err)
		}
		if to := msg.Header.Get("To"); to != "<reader0000@example.com>" && to != "reader0000@example.com" {
			t.Errorf("To = %q, want the address alone", to)
		}
		if bytes.Contains(m.Raw, []byte("bit.ly")) || !strings.Contains(string(m.Raw), ", reader.") {
			t.Errorf("the message carries the name's link or lacks the nameless greeting")
		}
	}
	if seen != 1 {
		t.Fatalf("reader0000 got %d messages", seen)
	}
}
