package mailer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestOutboxRoundTrip(t *testing.T) {
	clock := NewFakeClock(time.Date(2026, 3, 4, 18, 0, 0, 0, time.UTC))
	dir := filepath.Join(t.TempDir(), "outbox")
	o, err := NewOutbox(dir, clock)
	if err != nil {
		t.Fatal(err)
	}
	var _ Sender = o
	ctx := context.Background()
	for i := range 5 {
		to := fmt.Sprintf("r%d@readers.example", i)
		msg := []byte("From: =?utf-8?q?Caf=C3=A9_Desk?= <desk@ledger.example>\r\nTo: " + to +
			"\r\nSubject: =?utf-8?q?Edition_=E2=84=96?= " + fmt.Sprint(i) + "\r\nMessage-ID: <m" + fmt.Sprint(i) +
			"@ledger.example>\r\nDate: Wed, 04 Mar 2026 18:30:00 +0000\r\n\r\nBody " + fmt.Sprint(i) + "\r\n")
		if err := o.Send(ctx, Envelope{From: "bounces@ledger.example", To: to}, msg); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
	}
	if n, err := o.Count(); err != nil || n != 5 {
		t.Fatalf("Count = %d, %v", n, err)
	}
	page, err := o.List(1, 2)
	if err != nil || len(page) != 2 {
		t.Fatalf("List = %v, %v", page, err)
	}
	// Newest first: offset 1 skips r4.
	if page[0].Envelope.To != "r3@readers.example" || page[1].Envelope.To != "r2@readers.example" {
		t.Errorf("order: %+v", page)
	}
	it := page[0]
	if it.From != "Café Desk <desk@ledger.example>" || it.Subject != "Edition № 3" || it.MessageID != "m3@ledger.example" ||
		it.Envelope.From != "bounces@ledger.example" || !it.Date.Equal(time.Date(2026, 3, 4, 18, 30, 0, 0, time.UTC)) || it.Size == 0 {
		t.Errorf("summary %+v", it)
	}
	got, raw, err := o.Get(it.ID)
	if err != nil || got.Subject != it.Subject || string(raw[len(raw)-8:]) != "Body 3\r\n" {
		t.Errorf("Get = %+v %q %v", got, raw, err)
	}
	for _, id := range []string{"../../etc/passwd", "", "nope"} {
		if _, _, err := o.Get(id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q) = %v", id, err)
		}
	}
	if items, _ := o.List(10, 5); len(items) != 0 {
		t.Errorf("past the end: %v", items)
	}
	if err := o.Clear(); err != nil {
		t.Fatal(err)
	}
	if n, _ := o.Count(); n != 0 {
		t.Errorf("after Clear: %d", n)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("files left: %v", entries)
	}
}

func TestOutboxConcurrentSends(t *testing.T) {
	o, err := NewOutbox(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 25 {
				to := fmt.Sprintf("g%d-%d@readers.example", g, i)
				if err := o.Send(context.Background(), Envelope{From: "b@ledger.example", To: to}, testMsg(to, to)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if n, _ := o.Count(); n != 100 {
		t.Errorf("Count = %d", n)
	}
}

func TestOutboxRemoveAddressedTo(t *testing.T) {
	o, err := NewOutbox(filepath.Join(t.TempDir(), "outbox"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, m := range []struct{ env, to string }{
		{"ada@readers.example", "Ada Quill <ada@readers.example>"},
		{"bounce-test@ledger.example", "=?utf-8?q?Ad=C3=A1?= <ADA@readers.example>, bo@readers.example"}, // a test copy
		{"bo@readers.example", "bo@readers.example"},
		{"adam@readers.example", "adam@readers.example"},
	} {
		msg := []byte("From: desk@ledger.example\r\nTo: " + m.to + "\r\nSubject: s\r\n\r\nBody\r\n")
		if err := o.Send(ctx, Envelope{From: "desk@ledger.example", To: m.env}, msg); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := o.RemoveAddressedTo("ada@readers.example"); err != nil || n != 2 {
		t.Fatalf("RemoveAddressedTo = %d, %v; want 2", n, err)
	}
	items, _ := o.List(0, 10)
	if len(items) != 2 || items[0].Envelope.To != "adam@readers.example" || items[1].Envelope.To != "bo@readers.example" {
		t.Fatalf("left: %+v", items)
	}
}
