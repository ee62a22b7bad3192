package delivery_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/delivery/deliverytest"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
	"github.com/herald-news/herald/internal/validator"
)

// logLines is a log an engine or queue writes to, read by the test.
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// count is how many lines say msg.
func (l *logLines) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.buf.String(), "msg=\""+msg+"\"")
}

func (l *logLines) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

// guessed gives an engine a relay and a base URL guessed from the listen
// address, as `herald serve` has without base_url.
func guessed(log *logLines) func(*delivery.Config) {
	return func(c *delivery.Config) {
		c.BaseURL, c.BaseURLGuessed, c.Log = "http://127.0.0.1:8080", true, log.logger()
	}
}

// TestScheduleNeedsBaseURLForARelay: on a server that sends through a
// relay without base_url, scheduling a campaign is refused as starting it
// is (the validator error on base_url), and it stays a draft. A campaign
// scheduled anyway (by another node) that comes due is not started: the
// reason is its problem, shown on its page, and logged once, not on every
// tick of the scheduler.
func TestScheduleNeedsBaseURLForARelay(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var log logLines
		f := newFixture(t, s, 3, smtpsink.Faults{}, guessed(&log))
		_, err := delivery.ChangeStatus(ctx, s, f.engine, f.camp.ID, delivery.Schedule, time.Now().Add(time.Hour))
		if ve := validator.As(err); ve == nil || ve.Field != "base_url" || ve.Key != "admin.validator.base_url" {
			t.Fatalf("schedule without base_url: %v, want the refusal on base_url", err)
		}
		if c, err := s.Campaign(ctx, f.camp.ID); err != nil || c.Status != model.CampaignDraft {
			t.Fatalf("after the refusal: %+v, %v", c, err)
		}

		// Scheduled elsewhere, due now.
		if err := s.ScheduleCampaign(ctx, f.camp.ID, time.Now().Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		f.waitFor("the problem recorded", func(_ model.Progress, c *model.Campaign) bool { return c.Problem != "" })
		got, err := s.Campaign(ctx, f.camp.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != model.CampaignScheduled || !strings.Contains(got.Problem, "needs base_url") {
			t.Fatalf("campaign %s, problem %q", got.Status, got.Problem)
		}
		// Two more scheduler ticks try it again (it stays scheduled, so a
		// restart with base_url starts it), and say nothing more.
		time.Sleep(2500 * time.Millisecond)
		if n := log.count("start scheduled campaign"); n != 1 {
			t.Errorf("the refusal was logged %d times, want once", n)
		}
		if got, err := s.Campaign(ctx, f.camp.ID); err != nil || got.Status != model.CampaignScheduled {
			t.Fatalf("after more ticks: %+v, %v", got, err)
		}
		if len(f.sink.Messages()) != 0 {
			t.Fatalf("%d messages sent", len(f.sink.Messages()))
		}
	})
}

// TestMailQueueHoldsMailWithoutBaseURL: through a relay without base_url,
// confirmations wait in the queue, logged once, neither sent nor failed
// nor counted as tried; the built-in outbox would take them, and an
// explicit loopback base_url sends them.
func TestMailQueueHoldsMailWithoutBaseURL(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		l := &model.List{Slug: "held", Name: "Held", OptIn: model.OptInDouble, Public: true}
		if err := s.CreateList(ctx, l); err != nil {
			t.Fatal(err)
		}
		if _, out, err := s.Signup(ctx, "wait@example.com", "", l, model.SourceForm, false); err != nil || out != store.SignupPending {
			t.Fatalf("signup: %v %v", out, err)
		}
		sink, m, _ := deliverytest.Relay(t, smtpsink.Options{})
		var log logLines
		q, err := delivery.NewMailQueue(delivery.MailQueueConfig{Store: s, Sender: m, Signer: deliverytest.Signer(t),
			BaseURL: "http://127.0.0.1:8080", BaseURLGuessed: true, From: "News <news@news.example>", Poll: 10 * time.Millisecond,
			Log: log.logger()})
		if err != nil {
			t.Fatal(err)
		}
		q.Start()
		q.Wake()
		time.Sleep(300 * time.Millisecond) // a send would arrive now
		if err := q.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(sink.Messages()); n != 0 {
			t.Fatalf("%d confirmations went out with links to the guessed address", n)
		}
		if st := q.Stats(); st.Failed != 0 || st.Sent != 0 {
			t.Fatalf("stats %+v", st)
		}
		if n := log.count("confirmation and welcome messages wait in the queue"); n != 1 {
			t.Errorf("logged %d times, want once", n)
		}
		jobs, err := s.ClaimMail(ctx, 10, time.Millisecond)
		if err != nil || len(jobs) != 1 || jobs[0].Attempts != 1 {
			t.Fatalf("the held confirmation: %+v, %v (want it queued, never tried)", jobs, err)
		}

		// The same server with base_url set, even a loopback one, sends it.
		time.Sleep(5 * time.Millisecond) // the test claim's lease ends
		q2, err := delivery.NewMailQueue(delivery.MailQueueConfig{Store: s, Sender: m, Signer: deliverytest.Signer(t),
			BaseURL: "http://127.0.0.1:8080", From: "News <news@news.example>", Poll: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		q2.Start()
		defer q2.Close(ctx)
		q2.Wake()
		waitMessages(t, sink, 1)
	})
}

// TestDirectNeedsBaseURLForARelay: a transactional message through a
// relay without base_url is refused with the validator error on base_url
// (the API's 422) and nothing goes out; into the outbox it goes.
func TestDirectNeedsBaseURLForARelay(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		sub := &model.Subscriber{Email: "ada@example.net", Name: "Ada"}
		if _, err := s.UpsertSubscriber(ctx, sub); err != nil {
			t.Fatal(err)
		}
		l := &model.List{Slug: "newsletter", Name: "Newsletter"}
		if err := s.CreateList(ctx, l); err != nil {
			t.Fatal(err)
		}
		if err := s.SetSubscription(ctx, sub.ID, l.ID, model.SubConfirmed, model.SourceAPI); err != nil {
			t.Fatal(err)
		}
		tp, err := delivery.ParseTemplate("Welcome, {{.name}}", "Your account is ready, {{.name}}.", "")
		if err != nil {
			t.Fatal(err)
		}
		sink, m, _ := deliverytest.Relay(t, smtpsink.Options{})
		for _, tc := range []struct {
			guessed bool
			refused bool
		}{{true, true}, {false, false}} {
			d, err := delivery.NewDirect(delivery.DirectConfig{Store: s, Sender: m, Signer: deliverytest.Signer(t),
				BaseURL: "http://127.0.0.1:8080", BaseURLGuessed: tc.guessed, From: "Courier <news@example.com>"})
			if err != nil {
				t.Fatal(err)
			}
			before := len(sink.Messages())
			_, err = d.Send(ctx, delivery.DirectMessage{To: "ada@example.net", Template: tp})
			ve := validator.As(err)
			switch {
			case tc.refused && (ve == nil || ve.Field != "base_url"):
				t.Fatalf("guessed base URL: %v, want the refusal on base_url", err)
			case tc.refused && len(sink.Messages()) != before:
				t.Fatal("refused, yet the message went out")
			case !tc.refused && err != nil:
				t.Fatalf("explicit loopback base_url: %v", err)
			}
		}
		if n := len(sink.Messages()); n != 1 {
			t.Fatalf("%d messages reached the relay, want 1", n)
		}
		ob, err := mailer.NewOutbox(t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		d, err := delivery.NewDirect(delivery.DirectConfig{Store: s, Sender: ob, Signer: deliverytest.Signer(t),
			BaseURL: "http://127.0.0.1:8080", BaseURLGuessed: true, From: "Courier <news@example.com>"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Send(ctx, delivery.DirectMessage{To: "ada@example.net", Template: tp}); err != nil {
			t.Fatalf("into the outbox: %v", err)
		}
	})
}
