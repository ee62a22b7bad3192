package delivery_test

import (
	"bytes"
	"context"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/delivery/deliverytest"
	"github.com/herald-news/herald/internal/message"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/series"
	"github.com/herald-news/herald/internal/settings"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestConfirmationIsSignedAndLabelled: a confirmation queued by a signup
// goes out through a real SMTP session built as campaign mail is: its DKIM
// signature verifies against the public key of the key generated in the
// admin, and it carries List-Id, one-click List-Unsubscribe and a
// transactional Feedback-ID. So does the welcome once confirmed.
func TestConfirmationIsSignedAndLabelled(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		pem, _, record := deliverytest.DKIMKey(t)
		if err := settings.SaveDKIM(ctx, s, pem, "h2026", "ledger.example"); err != nil {
			t.Fatal(err)
		}
		l := &model.List{Slug: "evening", Name: "Evening Ledger", OptIn: model.OptInDouble, Public: true}
		if err := s.CreateList(ctx, l); err != nil {
			t.Fatal(err)
		}
		sink, m, _ := deliverytest.Relay(t, smtpsink.Options{})
		q, err := delivery.NewMailQueue(delivery.MailQueueConfig{Store: s, Sender: m, Signer: deliverytest.Signer(t),
			BaseURL: "https://news.ledger.example", From: "The Ledger <news@ledger.example>", Poll: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		q.Start()
		defer q.Close(ctx)

		id, out, err := s.Signup(ctx, "reader@example.com", "Ada", l, model.SourceForm, true)
		if err != nil || out != store.SignupPending {
			t.Fatalf("signup: %v %v", out, err)
		}
		q.Wake()
		msgs := waitMessages(t, sink, 1)
		opts := &dkim.VerifyOptions{LookupTXT: func(name string) ([]string, error) {
			if name != message.DNSName("h2026", "ledger.example") {
				t.Errorf("lookup %q", name)
			}
			return []string{record}, nil
		}}
		check := func(raw []byte, subject string) {
			t.Helper()
			verifs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), opts)
			if err != nil || len(verifs) != 1 || verifs[0].Err != nil || verifs[0].Domain != "ledger.example" {
				t.Fatalf("%q does not verify: %v %+v", subject, err, verifs)
			}
			msg, err := mail.ReadMessage(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			h := msg.Header
			if got := h.Get("Subject"); got != subject {
				t.Errorf("Subject = %q, want %q", got, subject)
			}
			if got := h.Get("List-Id"); !strings.Contains(got, "<evening.ledger.example>") {
				t.Errorf("List-Id = %q", got)
			}
			if got := h.Get("List-Unsubscribe"); !strings.HasPrefix(got, "<https://news.ledger.example/unsubscribe/") {
				t.Errorf("List-Unsubscribe = %q", got)
			}
			if got := h.Get("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
				t.Errorf("List-Unsubscribe-Post = %q", got)
			}
			if got := h.Get("Feedback-ID"); got != "tx:evening:herald" {
				t.Errorf("Feedback-ID = %q", got)
			}
		}
		check(msgs[0].Raw, "Confirm your subscription to Evening Ledger")

		if _, err := s.ConfirmSubscription(ctx, id, l.ID, model.SourceForm, true); err != nil {
			t.Fatal(err)
		}
		q.Wake()
		msgs = waitMessages(t, sink, 2)
		check(msgs[1].Raw, "Welcome to Evening Ledger")
		// The relay has the message a moment before the queue counts it.
		for deadline := time.Now().Add(10 * time.Second); q.Stats().Sent < 2 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		if st := q.Stats(); st.Sent != 2 || st.Failed != 0 {
			t.Fatalf("stats %+v", st)
		}
	})
}

// waitMessages waits (a generous minute at most) until the sink holds n
// messages.
func waitMessages(t *testing.T, sink *smtpsink.Sink, n int) []smtpsink.Message {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		msgs := sink.Messages()
		if len(msgs) >= n {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages after a minute, want %d", len(msgs), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestReminderIsSigned: a series reminder goes to the newsroom through a
// real SMTP session, DKIM-signed with the admin's key and labelled with
// its Feedback-ID, and without list headers: it is not list mail.
func TestReminderIsSigned(t *testing.T) {
	ctx := context.Background()
	s := storetest.SQLite(t)
	pem, _, record := deliverytest.DKIMKey(t)
	if err := settings.SaveDKIM(ctx, s, pem, "h2026", "ledger.example"); err != nil {
		t.Fatal(err)
	}
	sink, m, _ := deliverytest.Relay(t, smtpsink.Options{})
	remind := delivery.Reminders(m, settings.New(s, "https://news.ledger.example"), "Herald <herald@ledger.example>", "https://news.ledger.example")
	r := series.Reminder{Series: model.Series{ID: 3, Name: "Evening briefing", RemindTo: "Desk <desk@ledger.example>"},
		Run: model.SeriesRun{SlotAt: time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC), EditionID: 9}, Zone: time.UTC}
	if err := remind(ctx, r); err != nil {
		t.Fatal(err)
	}
	msgs := waitMessages(t, sink, 1)
	verifs, err := dkim.VerifyWithOptions(bytes.NewReader(msgs[0].Raw), &dkim.VerifyOptions{LookupTXT: func(string) ([]string, error) {
		return []string{record}, nil
	}})
	if err != nil || len(verifs) != 1 || verifs[0].Err != nil {
		t.Fatalf("the reminder does not verify: %v %+v", err, verifs)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(msgs[0].Raw))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	if h.Get("Subject") != "Not ready yet: Evening briefing at 18:00" || h.Get("Feedback-ID") != "reminder:s3:herald" ||
		h.Get("List-Unsubscribe") != "" || h.Get("List-Id") != "" {
		t.Fatalf("reminder headers: %v", h)
	}
	if msgs[0].To[0] != "desk@ledger.example" {
		t.Fatalf("reminder to %v", msgs[0].To)
	}
}

// TestBatchOutOfTimeGivesItsMailBack: a confirmation stuck at a relay that
// does not answer is given back when its batch runs out of time (before
// its lease could end and another node take it), claimed again on a new
// connection, and sent once the relay answers: once, and the queue is
// empty.
func TestBatchOutOfTimeGivesItsMailBack(t *testing.T) {
	ctx := context.Background()
	s := storetest.SQLite(t)
	l := &model.List{Slug: "stuck", Name: "Stuck", OptIn: model.OptInDouble, Public: true}
	if err := s.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	hold := make(chan struct{})
	sink, m, _ := deliverytest.Relay(t, smtpsink.Options{Faults: smtpsink.Faults{Hold: hold}})
	q, err := delivery.NewMailQueue(delivery.MailQueueConfig{Store: s, Sender: m, Signer: deliverytest.Signer(t),
		BaseURL: "https://news.example", From: "News <news@news.example>", Workers: 1, Poll: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	delivery.SetBatchTimeForTest(q, 300*time.Millisecond)
	q.Start()
	defer q.Close(ctx)
	if _, out, err := s.Signup(ctx, "held@example.com", "", l, model.SourceForm, false); err != nil || out != store.SignupPending {
		t.Fatalf("signup: %v %v", out, err)
	}
	q.Wake()
	deadline := time.Now().Add(30 * time.Second)
	for sink.Connections() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the message held at the relay was not given back and tried again (%d connections)", sink.Connections())
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(hold)
	waitMessages(t, sink, 1)
	for {
		n, err := s.MailBacklog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages still queued", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // a second copy would arrive now
	if got := len(sink.Messages()); got != 1 {
		t.Fatalf("%d copies sent, want 1", got)
	}
}

// TestBatchTimeCountsFromHandOff: a batch claimed while a slow one is sent
// gets its whole time once handed to the senders, not what is left of it
// counted from its claim. Ada's confirmation is stuck at the relay for the
// whole of its batch's time; Ben's, claimed meanwhile, then goes out on
// its first try through a relay that answers slowly, before Ada's, which
// was given back and comes next.
func TestBatchTimeCountsFromHandOff(t *testing.T) {
	ctx := context.Background()
	s := storetest.SQLite(t)
	l := &model.List{Slug: "slow", Name: "Slow", OptIn: model.OptInDouble, Public: true}
	if err := s.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	hold := make(chan struct{})
	defer close(hold)
	sink, m, _ := deliverytest.Relay(t, smtpsink.Options{Faults: smtpsink.Faults{Hold: hold}})
	q, err := delivery.NewMailQueue(delivery.MailQueueConfig{Store: s, Sender: m, Signer: deliverytest.Signer(t),
		BaseURL: "https://news.example", From: "News <news@news.example>", Workers: 1, Poll: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	const batchTime = 2 * time.Second
	delivery.SetBatchTimeForTest(q, batchTime)
	q.Start()
	defer q.Close(ctx)
	signup := func(email string) {
		t.Helper()
		if _, out, err := s.Signup(ctx, email, "", l, model.SourceForm, false); err != nil || out != store.SignupPending {
			t.Fatalf("signup: %v %v", out, err)
		}
		q.Wake()
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("gave up waiting for %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	t0 := time.Now()
	signup("ada@example.com")
	waitFor("Ada's confirmation at the relay", func() bool { return sink.Held() == 1 })
	signup("ben@example.com")
	waitFor("Ben's confirmation claimed", func() bool { due, err := s.MailDue(ctx); return err == nil && !due })
	// Each message now takes 3*400ms at the relay: more than what is left
	// of Ben's time counted from his claim, less than a batch's time.
	const slow = 400 * time.Millisecond
	if gap := time.Since(t0); gap >= 3*slow {
		t.Skipf("the machine is too slow for this test: Ben was claimed %v after Ada", gap)
	}
	sink.SetFaults(smtpsink.Faults{Delay: slow})
	msgs := waitMessages(t, sink, 2)
	if got := []string{msgs[0].To[0], msgs[1].To[0]}; got[0] != "ben@example.com" || got[1] != "ada@example.com" {
		t.Fatalf("sent in the order %v; want Ben's on his first try, then Ada's", got)
	}
}
