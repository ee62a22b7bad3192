package mailer

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/smtpsink"
)

// recorder is an Observer that remembers what it heard.
type recorder struct {
	mu        sync.Mutex
	messages  []string // "relay class"
	txs       map[string]int
	rotations []RotationEvent
}

func (r *recorder) Message(relay string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	class := "sent"
	if err != nil {
		class = Classify(err).String()
	}
	r.messages = append(r.messages, relay+" "+class)
}

func (r *recorder) Transaction(relay string, took time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.txs == nil {
		r.txs = map[string]int{}
	}
	if took > 0 {
		r.txs[relay]++
	}
}

func (r *recorder) Rotation(e RotationEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rotations = append(r.rotations, e)
}

// TestObserverHearsMessagesTransactionsAndRotation: every Send is reported
// with the relay that handled it and its outcome, every SMTP transaction
// with its time, and a relay's leaving and rejoining the rotation once
// each (a failed trial while out is no news).
func TestObserverHearsMessagesTransactionsAndRotation(t *testing.T) {
	clock := NewFakeClock(time.Date(2026, 3, 4, 18, 0, 0, 0, time.UTC))
	primaryAddr := freePort(t)
	backup := startSink(t, smtpsink.Options{Faults: smtpsink.Faults{Rules: []*smtpsink.Rule{
		{Recipient: "gone@readers.example", Stage: smtpsink.AtRcpt, Code: 550, Enhanced: [3]int{5, 1, 1}, Text: "no such user"},
		{Recipient: "later@readers.example", Stage: smtpsink.AtRcpt, Code: 451, Text: "try later"},
	}}})
	rec := &recorder{}
	m := newMailer(t, Config{
		Clock: clock, BreakerFailures: 2, BreakerCooldown: time.Minute, Observer: rec,
		Relays: []RelayConfig{
			relayFor(t, "smtp://"+primaryAddr+"?tls=none&name=primary"),
			relayFor(t, backup.URL()+"&name=backup&priority=1"),
		},
	})
	for _, to := range []string{"a@readers.example", "b@readers.example", "gone@readers.example", "later@readers.example"} {
		send(t, m, to)
	}
	clock.Advance(time.Minute)
	send(t, m, "c@readers.example") // the trial fails: still out
	back := startSink(t, smtpsink.Options{Addr: primaryAddr})
	clock.Advance(time.Minute)
	send(t, m, "d@readers.example") // the trial succeeds: back in
	only, err := m.Only("backup")
	if err != nil {
		t.Fatal(err)
	}
	send(t, only, "e@readers.example")

	rec.mu.Lock()
	defer rec.mu.Unlock()
	want := "backup sent,backup sent,backup hard bounce,backup temporary,backup sent,primary sent,backup sent"
	if got := strings.Join(rec.messages, ","); got != want {
		t.Errorf("messages:\n got %s\nwant %s", got, want)
	}
	if rec.txs["backup"] != 6 || rec.txs["primary"] != 1 || back.Count() != 1 {
		t.Errorf("transactions = %v, primary sink %d", rec.txs, back.Count())
	}
	if len(rec.rotations) != 2 {
		t.Fatalf("rotations = %+v", rec.rotations)
	}
	out, in := rec.rotations[0], rec.rotations[1]
	if out.Relay != "primary" || out.In || !strings.Contains(out.Reason, "connect") || !out.At.Equal(time.Date(2026, 3, 4, 18, 0, 0, 0, time.UTC)) {
		t.Errorf("out of rotation: %+v", out)
	}
	if in.Relay != "primary" || !in.In || in.Reason != "" || !in.At.Equal(time.Date(2026, 3, 4, 18, 2, 0, 0, time.UTC)) {
		t.Errorf("back in rotation: %+v", in)
	}
}
