package delivery_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"html"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/delivery/deliverytest"
	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/settings"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
	"github.com/herald-news/herald/internal/token"
)

// fixture is a store with a list of n confirmed subscribers, a campaign to
// them, an in-process SMTP server and an engine sending to it.
type fixture struct {
	t      *testing.T
	s      *store.Store
	sink   *smtpsink.Sink
	engine *delivery.Engine
	camp   *model.Campaign
	stop   func()
}

func newFixture(t *testing.T, s *store.Store, n int, faults smtpsink.Faults, tweak func(*delivery.Config)) *fixture {
	t.Helper()
	ctx := context.Background()
	l := &model.List{Slug: "daily", Name: "Daily"}
	if err := s.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	rows := make([]store.ImportRow, n)
	for i := range rows {
		rows[i] = store.ImportRow{Line: i + 2, Email: fmt.Sprintf("reader%04d@example.com", i), Name: fmt.Sprintf("Reader %d", i)}
	}
	if _, err := s.ImportBatch(ctx, rows, store.ImportOptions{ListID: l.ID, Status: model.SubConfirmed, Mode: store.ImportUpsert}); err != nil {
		t.Fatal(err)
	}
	sink, m, _ := deliverytest.Relay(t, smtpsink.Options{Faults: faults})
	signer := deliverytest.Signer(t)
	cfg := delivery.Config{
		Sender:     m,
		Signer:     signer,
		BaseURL:    "https://news.example.com",
		Freeze:     sampleFreeze(t),
		RetryBase:  5 * time.Millisecond,
		FlushAfter: 20 * time.Millisecond,
		Poll:       50 * time.Millisecond,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	engine, err := delivery.New(s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	camp := &model.Campaign{Name: "Evening", EditionID: 1, ListIDs: []int64{l.ID}, From: "The Ledger <news@example.com>"}
	if err := s.CreateCampaign(ctx, camp); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, s: s, sink: sink, engine: engine, camp: camp}
	f.run()
	return f
}

// sampleFreeze renders the sample edition for every campaign.
func sampleFreeze(t *testing.T) func(ctx context.Context, c *model.Campaign) (model.Frozen, error) {
	t.Helper()
	ed, err := sample.Edition()
	if err != nil {
		t.Fatal(err)
	}
	r, err := render.New(sample.Publication(), render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return func(ctx context.Context, c *model.Campaign) (model.Frozen, error) {
		em, err := r.Email(ed)
		if err != nil {
			return model.Frozen{}, err
		}
		return em.Freeze(), nil
	}
}

// run starts the engine in the background; stop ends it and waits.
func (f *fixture) run() {
	f.stop = deliverytest.Run(f.t, f.engine)
}

// waitFor polls the ledger until cond holds (the campaign is asynchronous;
// this waits for an outcome, it asserts no duration).
func (f *fixture) waitFor(what string, cond func(model.Progress, *model.Campaign) bool) model.Progress {
	f.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		// The campaign before its counts: it is marked sent only after
		// its last outcome, so counts read after seeing "sent" are final.
		c, err := f.s.Campaign(context.Background(), f.camp.ID)
		if err != nil {
			f.t.Fatal(err)
		}
		p, err := f.s.CampaignProgress(context.Background(), f.camp.ID)
		if err != nil {
			f.t.Fatal(err)
		}
		if cond(p, c) {
			return p
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("gave up waiting for %s: progress %+v, campaign %s", what, p, c.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func sent(p model.Progress, c *model.Campaign) bool { return c.Status == model.CampaignSent }

// byRecipient counts received messages per recipient and checks that each
// recipient's copies share one Message-ID.
func byRecipient(t *testing.T, msgs []smtpsink.Message) map[string]int {
	t.Helper()
	count := map[string]int{}
	ids := map[string]string{}
	for _, m := range msgs {
		to := m.To[0]
		count[to]++
		if prev, ok := ids[to]; ok && prev != m.MessageID {
			t.Errorf("%s got two Message-IDs: %s and %s", to, prev, m.MessageID)
		}
		ids[to] = m.MessageID
	}
	return count
}

func TestCampaignReachesEveryRecipientOnce(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		faults := smtpsink.Faults{Rules: []*smtpsink.Rule{
			{Recipient: "reader0003@example.com", Stage: smtpsink.AtRcpt, Code: 550, Enhanced: [3]int{5, 1, 1}, Text: "no such mailbox"},
			{Recipient: "reader0004@example.com", Stage: smtpsink.AtRcpt, Code: 451, Enhanced: [3]int{4, 3, 0}, Text: "try again"},
			{Recipient: "reader0005@example.com", Stage: smtpsink.AtData, Code: 554, Enhanced: [3]int{5, 7, 1}, Text: "content refused"},
		}}
		f := newFixture(t, s, 120, faults, func(c *delivery.Config) { c.MaxAttempts = 3 })
		ctx := context.Background()
		n, err := f.engine.Start(ctx, f.camp.ID)
		if err != nil || n != 120 {
			t.Fatalf("Start = %d, %v", n, err)
		}
		p := f.waitFor("the campaign to finish", sent)
		if p.Sent != 117 || p.Failed != 3 || p.Total != 120 {
			t.Fatalf("progress = %+v, want 117 sent and 3 failed", p)
		}
		got := byRecipient(t, f.sink.Messages())
		if len(got) != 117 {
			t.Fatalf("%d recipients received mail, want 117", len(got))
		}
		for to, k := range got {
			if k != 1 {
				t.Errorf("%s received %d copies", to, k)
			}
		}
		if sp, err := s.Suppression(ctx, "reader0003@example.com"); err != nil || sp.Reason != model.SuppressHardBounce {
			t.Errorf("550 5.1.1 did not suppress the address: %+v, %v", sp, err)
		}
		if _, err := s.Suppression(ctx, "reader0005@example.com"); err == nil {
			t.Error("a content refusal (5.7.1) suppressed the address; only recipient errors should")
		}
		fails, _ := s.DeliveryFailures(ctx, f.camp.ID, 10)
		replies := map[string]string{}
		for _, o := range fails {
			replies[o.Email] = o.Reply
		}
		if !strings.Contains(replies["reader0004@example.com"], "gave up after 3 attempts") ||
			!strings.Contains(replies["reader0004@example.com"], "451") {
			t.Errorf("4xx row reply = %q", replies["reader0004@example.com"])
		}
		if !strings.Contains(replies["reader0003@example.com"], "550") {
			t.Errorf("5xx row reply = %q", replies["reader0003@example.com"])
		}

		// Every message is multipart/alternative with the list headers.
		msg, err := mail.ReadMessage(bytes.NewReader(f.sink.Messages()[0].Raw))
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range []string{"List-Unsubscribe", "List-Unsubscribe-Post", "List-Id", "Feedback-Id", "Message-Id", "Date"} {
			if msg.Header.Get(h) == "" {
				t.Errorf("message lacks %s", h)
			}
		}
		if !strings.HasPrefix(msg.Header.Get("Content-Type"), "multipart/alternative") {
			t.Errorf("Content-Type = %q", msg.Header.Get("Content-Type"))
		}
		if !strings.Contains(msg.Header.Get("List-Unsubscribe"), "https://news.example.com/unsubscribe/") {
			t.Errorf("List-Unsubscribe = %q", msg.Header.Get("List-Unsubscribe"))
		}

		// A second campaign to the same list leaves the suppressed address out.
		c2 := &model.Campaign{Name: "Next", EditionID: 1, ListIDs: f.camp.ListIDs, From: f.camp.From}
		s.CreateCampaign(ctx, c2)
		if n, _ := f.engine.Start(ctx, c2.ID); n != 119 {
			t.Errorf("second campaign has %d recipients, want 119 (hard bounce suppressed)", n)
		}
	})
}

// TestListIDIsTheListsAcrossCampaigns: List-Id names the list (RFC 2919),
// the same for every campaign to it; Feedback-ID tells campaigns apart; and
// Postmark's metadata header carries the Message-ID back in its reports.
func TestListIDIsTheListsAcrossCampaigns(t *testing.T) {
	s := storetest.SQLite(t)
	ctx := context.Background()
	f := newFixture(t, s, 2, smtpsink.Faults{}, nil)
	c2 := &model.Campaign{Name: "Another evening", EditionID: 1, ListIDs: f.camp.ListIDs, From: f.camp.From}
	if err := s.CreateCampaign(ctx, c2); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{f.camp.ID, c2.ID} {
		if _, err := f.engine.Start(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(60 * time.Second); f.sink.Count() < 4; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of 4 messages received", f.sink.Count())
		}
	}
	feedback := map[string]bool{}
	for _, m := range f.sink.Messages() {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
		if err != nil {
			t.Fatal(err)
		}
		if got := msg.Header.Get("List-Id"); got != `"Daily" <daily.example.com>` {
			t.Errorf("List-Id = %q, want the list's, whatever the campaign", got)
		}
		feedback[msg.Header.Get("Feedback-Id")] = true
		if got := msg.Header.Get(delivery.PostmarkMetadata); "<"+got+">" != msg.Header.Get("Message-Id") {
			t.Errorf("%s = %q, Message-ID %q", delivery.PostmarkMetadata, got, msg.Header.Get("Message-Id"))
		}
	}
	want := map[string]bool{fmt.Sprintf("c%d:daily:herald", f.camp.ID): true, fmt.Sprintf("c%d:daily:herald", c2.ID): true}
	if !maps.Equal(feedback, want) {
		t.Errorf("Feedback-IDs %v, want %v", feedback, want)
	}
}

// TestListIDOfASegmentOnlyCampaign: a campaign to segments only has a
// List-Id of its own, from its first segment (stable across campaigns to
// that segment and across renames), not newsletter.<domain>.
func TestListIDOfASegmentOnlyCampaign(t *testing.T) {
	s := storetest.SQLite(t)
	ctx := context.Background()
	f := newFixture(t, s, 2, smtpsink.Faults{}, nil)
	sg := &model.Segment{Name: "Lapsed readers", Query: "list = daily"}
	if err := s.SaveSegment(ctx, sg); err != nil {
		t.Fatal(err)
	}
	c := &model.Campaign{Name: "Win back", EditionID: 1, SegmentIDs: []int64{sg.ID}, From: f.camp.From}
	if err := s.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := f.engine.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); f.sink.Count() < 2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of 2 messages received", f.sink.Count())
		}
	}
	want := fmt.Sprintf(`"Lapsed readers" <segment-%d.example.com>`, sg.ID)
	for _, m := range f.sink.Messages() {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
		if err != nil {
			t.Fatal(err)
		}
		if got := msg.Header.Get("List-Id"); got != want {
			t.Errorf("List-Id = %q, want %q", got, want)
		}
		if got, want := msg.Header.Get("Feedback-Id"), fmt.Sprintf("c%d:segment-%d:herald", c.ID, sg.ID); got != want {
			t.Errorf("Feedback-ID = %q, want %q", got, want)
		}
	}
}

func TestPauseAndResumeSkipNothingAndRepeatNothing(t *testing.T) {
	s := storetest.SQLite(t)
	f := newFixture(t, s, 300, smtpsink.Faults{Delay: 2 * time.Millisecond}, func(c *delivery.Config) { c.ClaimBatch = 10; c.Workers = 2 })
	ctx := context.Background()
	if _, err := f.engine.Start(ctx, f.camp.ID); err != nil {
		t.Fatal(err)
	}
	f.waitFor("some mail to go out", func(p model.Progress, _ *model.Campaign) bool { return p.Sent >= 30 })
	if err := s.SetCampaignStatus(ctx, f.camp.ID, model.CampaignPaused); err != nil {
		t.Fatal(err)
	}
	// In-flight rows finish; then nothing moves.
	p := f.waitFor("in-flight rows to settle", func(p model.Progress, _ *model.Campaign) bool { return p.Sending == 0 })
	atPause := f.sink.Count()
	if p.Sent != atPause {
		t.Fatalf("ledger says %d sent, server received %d", p.Sent, atPause)
	}
	// Unsubscribe someone not yet reached while paused: they must get nothing.
	var victim string
	for i := 299; i >= 0; i-- {
		e := fmt.Sprintf("reader%04d@example.com", i)
		if byRecipient(t, f.sink.Messages())[e] == 0 {
			victim = e
			break
		}
	}
	if err := s.Suppress(ctx, victim, model.SuppressUnsubscribe, "one-click"); err != nil {
		t.Fatal(err)
	}
	f.engine.Wake()
	time.Sleep(200 * time.Millisecond) // give a wrongly-running engine the chance to send
	if f.sink.Count() != atPause {
		t.Fatalf("mail went out while paused: %d -> %d", atPause, f.sink.Count())
	}
	if err := s.SetCampaignStatus(ctx, f.camp.ID, model.CampaignSending); err != nil {
		t.Fatal(err)
	}
	f.engine.Wake()
	p = f.waitFor("the campaign to finish", sent)
	got := byRecipient(t, f.sink.Messages())
	if p.Sent != 299 || p.Skipped != 1 || len(got) != 299 {
		t.Fatalf("progress %+v, %d recipients; want 299 sent, 1 skipped", p, len(got))
	}
	for to, k := range got {
		if k != 1 {
			t.Errorf("%s received %d copies after pause and resume", to, k)
		}
	}
	if got[victim] != 0 {
		t.Errorf("%s unsubscribed while paused and still got mail", victim)
	}
}

func TestDroppedConnectionsAreRetried(t *testing.T) {
	s := storetest.SQLite(t)
	faults := smtpsink.Faults{Rules: []*smtpsink.Rule{{Stage: smtpsink.AtData, Fraction: 0.1, Drop: true}}}
	// Which row meets a dropped connection depends on scheduling: enough
	// tries that no row can be unlucky five times running.
	f := newFixture(t, s, 200, faults, func(c *delivery.Config) { c.MaxAttempts = 50 })
	if _, err := f.engine.Start(context.Background(), f.camp.ID); err != nil {
		t.Fatal(err)
	}
	p := f.waitFor("the campaign to finish", sent)
	got := byRecipient(t, f.sink.Messages())
	if p.Sent != 200 || len(got) != 200 {
		t.Fatalf("progress %+v, %d recipients received; want all 200", p, len(got))
	}
	if f.sink.Rejected() == 0 {
		t.Fatal("the fault never fired; the test proves nothing")
	}
}

// htmlPart returns the decoded text/html part of a raw message.
func htmlPart(t *testing.T, raw []byte) string {
	t.Helper()
	return mimePart(t, raw, "text/html")
}

// mimePart returns the decoded part of a multipart message whose type
// starts with ctype.
func mimePart(t *testing.T, raw []byte, ctype string) string {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("no %s part: %v", ctype, err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), ctype) {
			b, err := io.ReadAll(quotedprintable.NewReader(p))
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
}

// sendTracked sends a campaign with tracking on to the fixture's list and
// waits until it is sent.
func (f *fixture) sendTracked() *model.Campaign {
	f.t.Helper()
	ctx := context.Background()
	tracked := &model.Campaign{Name: "Tracked", EditionID: 1, ListIDs: f.camp.ListIDs, From: f.camp.From, Tracking: true}
	if err := f.s.CreateCampaign(ctx, tracked); err != nil {
		f.t.Fatal(err)
	}
	f.camp = tracked
	if _, err := f.engine.Start(ctx, tracked.ID); err != nil {
		f.t.Fatal(err)
	}
	f.waitFor("the campaign to finish", sent)
	return tracked
}

func TestTrackingRewritesLinksAndAddsPixel(t *testing.T) {
	s := storetest.SQLite(t)
	f := newFixture(t, s, 3, smtpsink.Faults{}, nil)
	ctx := context.Background()
	tracked := f.sendTracked()
	frozen, _ := s.FrozenContent(ctx, tracked.ID)
	page := htmlPart(t, f.sink.Messages()[0].Raw)
	if !strings.Contains(page, "https://news.example.com/o/") {
		t.Error("no open pixel in a tracked message")
	}
	clicks := strings.Count(page, "https://news.example.com/c/")
	if clicks == 0 || len(frozen.Links) == 0 {
		t.Fatalf("%d tracked links for %d edition links", clicks, len(frozen.Links))
	}
	for _, l := range frozen.Links {
		if strings.Contains(page, `href="`+html.EscapeString(l)+`"`) {
			t.Errorf("edition link %s left untracked", l)
		}
	}
	if !strings.Contains(page, "https://news.example.com/unsubscribe/") {
		t.Error("the unsubscribe link was rewritten")
	}
}

// TestAnonymousTrackingKeepsSubscribersOutOfLinks: in anonymous mode every
// reader's message has the same open pixel and click links, and their
// tokens name no subscriber.
func TestAnonymousTrackingKeepsSubscribersOutOfLinks(t *testing.T) {
	s := storetest.SQLite(t)
	f := newFixture(t, s, 3, smtpsink.Faults{}, func(c *delivery.Config) {
		c.Settings = &settings.Settings{Store: s, Tracking: settings.TrackAnonymous}
	})
	tracked := f.sendTracked()
	tokens := regexp.MustCompile(`https://news\.example\.com/[oc]/([A-Za-z0-9_-]+)`)
	seen := map[string]bool{}
	for _, m := range f.sink.Messages() {
		page := htmlPart(t, m.Raw)
		found := tokens.FindAllStringSubmatch(page, -1)
		if len(found) == 0 {
			t.Fatal("no tracking URLs in a tracked message")
		}
		for _, tok := range found {
			seen[tok[1]] = true
		}
	}
	signer := deliverytest.Signer(t)
	for tok := range seen {
		c, err := signer.Verify(tok, token.Open, time.Now())
		if err != nil {
			c, err = signer.Verify(tok, token.Click, time.Now())
		}
		if err != nil || c.SubscriberID != 0 || c.CampaignID != tracked.ID {
			t.Errorf("tracking token %s: %+v, %v; want campaign %d and no subscriber", tok, c, err, tracked.ID)
		}
	}
	if len(seen) != 2 {
		t.Errorf("%d distinct tracking tokens across 3 readers; want 2 (one pixel, one click base)", len(seen))
	}
}

func TestCampaignGoesThroughItsChosenRelay(t *testing.T) {
	s := storetest.SQLite(t)
	f := newFixture(t, s, 20, smtpsink.Faults{}, nil)
	f.stop()
	ctx := context.Background()

	// Two relays; the campaign names the second, which is not the first choice.
	other, err := smtpsink.Start(smtpsink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	first, _ := mailer.ParseRelay(f.sink.URL() + "&name=first&priority=0")
	second, _ := mailer.ParseRelay(other.URL() + "&name=second&priority=5")
	m, err := mailer.New(mailer.Config{Relays: []mailer.RelayConfig{first, second}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	signer := deliverytest.Signer(t)
	frozen := func(ctx context.Context, c *model.Campaign) (model.Frozen, error) {
		return model.Frozen{Subject: "s", HTML: []byte("<p>hi</p>"), Text: []byte("hi")}, nil
	}
	f.engine, err = delivery.New(s, delivery.Config{Sender: m, Signer: signer, BaseURL: "https://news.example.com", Freeze: frozen, Poll: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	f.run()
	c := &model.Campaign{Name: "via second", EditionID: 1, ListIDs: f.camp.ListIDs, From: f.camp.From, Relay: "second"}
	s.CreateCampaign(ctx, c)
	f.camp = c
	if _, err := f.engine.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	f.waitFor("the campaign to finish", sent)
	if f.sink.Count() != 0 || other.Count() != 20 {
		t.Fatalf("first relay got %d, second %d; want 0 and 20", f.sink.Count(), other.Count())
	}
}

func TestACampaignThatCannotBeBuiltIsPaused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "herald.db")
	s, err := store.Open(context.Background(), store.Options{SQLitePath: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	f := newFixture(t, s, 3, smtpsink.Faults{}, nil)
	ctx := context.Background()
	bad := &model.Campaign{Name: "bad", EditionID: 1, ListIDs: f.camp.ListIDs, From: f.camp.From}
	if err := s.CreateCampaign(ctx, bad); err != nil {
		t.Fatal(err)
	}
	// The store refuses such a Reply-To now (validator.Campaign); a
	// campaign stored before that rule still has one.
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `UPDATE campaigns SET reply_to = 'not an address' WHERE id = ?`, bad.ID); err != nil {
		t.Fatal(err)
	}
	f.camp = bad
	if _, err := f.engine.Start(ctx, bad.ID); err != nil {
		t.Fatal(err)
	}
	p := f.waitFor("the campaign to be paused", func(_ model.Progress, c *model.Campaign) bool { return c.Status == model.CampaignPaused })
	if p.Sent != 0 || p.Pending != 3 || f.sink.Count() != 0 {
		t.Fatalf("progress %+v, %d received; want all 3 still pending and nothing sent", p, f.sink.Count())
	}
}

func TestRowsWaitingTooLongAreGivenBackNotSentTwice(t *testing.T) {
	s := storetest.SQLite(t)
	// One worker, a slow relay (45 ms a message) and one claim of all 30
	// rows under a 2 s lease: the last rows wait in the queue past half
	// their lease (1 s) and are given back; a row sent just before that
	// point still has about a second of lease to spare on a busy machine.
	f := newFixture(t, s, 30, smtpsink.Faults{Delay: 15 * time.Millisecond}, func(c *delivery.Config) {
		c.Workers, c.ClaimBatch, c.Lease = 1, 30, 2*time.Second
	})
	if _, err := f.engine.Start(context.Background(), f.camp.ID); err != nil {
		t.Fatal(err)
	}
	p := f.waitFor("the campaign to finish", sent)
	got := byRecipient(t, f.sink.Messages())
	if p.Sent != 30 || len(got) != 30 {
		t.Fatalf("progress %+v, %d recipients", p, len(got))
	}
	for to, n := range got {
		if n != 1 {
			t.Errorf("%s received %d copies with no crash", to, n)
		}
	}
}

// TestFinishedSignalsTheLastOutcome: a command waiting for a campaign
// hears the moment the engine marks it sent, and the campaign is sent with
// every outcome recorded by then (so `herald send` ends with its last
// message, not on a progress tick).
func TestFinishedSignalsTheLastOutcome(t *testing.T) {
	s := storetest.SQLite(t)
	f := newFixture(t, s, 40, smtpsink.Faults{}, nil)
	finished := f.engine.Finished()
	select {
	case <-finished:
		t.Fatal("Finished is closed before any campaign was sent")
	default:
	}
	if _, err := f.engine.Start(context.Background(), f.camp.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case <-finished:
	case <-time.After(60 * time.Second):
		t.Fatal("the campaign never finished")
	}
	c, err := s.Campaign(context.Background(), f.camp.ID)
	if err != nil || c.Status != model.CampaignSent {
		t.Fatalf("campaign %v, %v when Finished closed", c, err)
	}
	if p, _ := s.CampaignProgress(context.Background(), f.camp.ID); p.Sent != 40 || f.sink.Count() != 40 {
		t.Errorf("progress %+v, sink %d when Finished closed", p, f.sink.Count())
	}
	if next := f.engine.Finished(); next == finished {
		t.Error("Finished returned the closed channel again")
	}
}
