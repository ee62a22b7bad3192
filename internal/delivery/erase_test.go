package delivery_test

import (
	"context"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestErasureClearsEveryNodesOutbox: on PostgreSQL, two nodes share the
// database, each with its own outbox folder. Erasing a subscriber on one
// removes their captured mail from the other's outbox too (NOTIFY), and a
// node that was not listening sweeps its outbox when it starts to.
func TestErasureClearsEveryNodesOutbox(t *testing.T) {
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	open := func() *store.Store {
		s, err := store.Open(ctx, store.Options{DatabaseURL: url})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(), open()
	for _, email := range []string{"ada@example.net", "bob@example.net", "cy@example.net"} {
		if _, err := a.UpsertSubscriber(ctx, &model.Subscriber{Email: email}); err != nil {
			t.Fatal(err)
		}
	}
	outbox := func() *mailer.Outbox {
		o, err := mailer.NewOutbox(t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, to := range []string{"ada@example.net", "bob@example.net", "cy@example.net"} {
			msg := "To: " + to + "\r\nSubject: Evening\r\n\r\nHello.\r\n"
			if err := o.Send(ctx, mailer.Envelope{From: "news@example.com", To: to}, []byte(msg)); err != nil {
				t.Fatal(err)
			}
		}
		return o
	}
	ob := outbox()
	lctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- delivery.KeepOutboxErased(lctx, b, ob, nil) }()
	t.Cleanup(func() { stop(); <-done })

	waitFor := func(o *mailer.Outbox, n int, what string) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if got, err := o.Count(); err == nil && got == n {
				return
			} else if time.Now().After(deadline) {
				t.Fatalf("%s: outbox holds %d messages, want %d (%v)", what, got, n, err)
			}
		}
	}
	// Node a erases Ada: node b's outbox loses her message, keeps the rest.
	if err := a.EraseSubscriber(ctx, "ada@example.net"); err != nil {
		t.Fatal(err)
	}
	waitFor(ob, 2, "after erasing ada on the other node")
	items, err := ob.List(0, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.Envelope.To == "ada@example.net" {
			t.Fatal("ada's message is still in the other node's outbox")
		}
	}
	// A node that starts listening later sweeps what it missed.
	if err := a.EraseSubscriber(ctx, "bob@example.net"); err != nil {
		t.Fatal(err)
	}
	late := outbox()
	lctx2, stop2 := context.WithCancel(ctx)
	done2 := make(chan error, 1)
	go func() { done2 <- delivery.KeepOutboxErased(lctx2, b, late, nil) }()
	t.Cleanup(func() { stop2(); <-done2 })
	waitFor(late, 1, "a late node's sweep")
}
