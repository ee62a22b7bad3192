package web_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/smtpsink"
)

// TestConfirmationWaitsOutAFailingRelay: a relay answering 451 defers the
// confirmation (it stays queued, due later) instead of losing it.
func TestConfirmationWaitsOutAFailingRelay(t *testing.T) {
	t.Parallel()
	st := newSite(t, sqlite(t), nil)
	ctx := context.Background()
	st.sink.SetFaults(smtpsink.Faults{Rules: []*smtpsink.Rule{{Stage: smtpsink.AtRcpt, Code: 451, Enhanced: [3]int{4, 3, 0}, Text: "try again later"}}})
	c := st.client()
	tok := st.csrf(c, "/subscribe/daily")
	st.post(c, "/subscribe/daily", url.Values{"email": {"patient@example.com"}, "csrf": {tok}})

	waitUntil(t, "a retry to be recorded", func() bool { return st.queue.Stats().Retried > 0 })
	st.flush()
	if n, err := st.store.MailBacklog(ctx); err != nil || n != 1 {
		t.Fatalf("backlog = %d, %v; want the confirmation kept", n, err)
	}
	if due, _ := st.store.MailDue(ctx); due {
		t.Fatal("a deferred confirmation is due again at once")
	}
	if got := len(st.sink.Messages()); got != 0 {
		t.Fatalf("%d messages reached the sink", got)
	}
}

// TestConfirmationSurvivesARestart: a server shut down while its relay is
// stalled gives the confirmation back to the queue, and the next server on
// the same database sends it.
func TestConfirmationSurvivesARestart(t *testing.T) {
	t.Parallel()
	st := newSite(t, sqlite(t), nil)
	ctx := context.Background()
	st.sink.SetFaults(smtpsink.Faults{Delay: 10 * time.Second})
	c := st.client()
	tok := st.csrf(c, "/subscribe/daily")
	st.post(c, "/subscribe/daily", url.Values{"email": {"again@example.com"}, "csrf": {tok}})
	// The sender's claim leases it: no longer due.
	waitUntil(t, "the confirmation to be claimed", func() bool {
		due, err := st.store.MailDue(ctx)
		return err == nil && !due
	})
	sctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	err := st.queue.Close(sctx)
	cancel()
	if err == nil {
		t.Fatal("Close returned nil while a send was stalled")
	}
	if n, _ := st.store.MailBacklog(ctx); n != 1 {
		t.Fatalf("backlog after the shutdown = %d, want 1", n)
	}

	st.sink.SetFaults(smtpsink.Faults{})
	st.startQueue() // the next start
	msgs := st.waitMail(1)
	if msgs[0].To[0] != "again@example.com" {
		t.Fatalf("message to %v", msgs[0].To)
	}
	linkIn(t, msgs[0].Raw, "/confirm/")
	waitUntil(t, "the queue to empty", func() bool {
		n, err := st.store.MailBacklog(ctx)
		return err == nil && n == 0
	})
}

// waitUntil polls cond until it holds, failing the test after a generous
// minute.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
