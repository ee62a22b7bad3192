package bounce

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/message"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
	"github.com/herald-news/herald/internal/token"
)

const (
	bounceDomain = "bounces.gazette.example"
	campaignID   = 42
)

// fixture is a store, the VERP of a bounce domain and a recorder over them.
type fixture struct {
	t    *testing.T
	s    *store.Store
	verp VERP
	rec  *Recorder
	n    int
}

func newFixture(t *testing.T, s *store.Store) *fixture {
	sig, err := token.NewSigner(bytes.Repeat([]byte("k"), 32))
	if err != nil {
		t.Fatal(err)
	}
	v := VERP{Signer: sig, Domain: bounceDomain}
	return &fixture{t: t, s: s, verp: v, rec: &Recorder{Store: s, VERP: v, SoftLimit: 3}}
}

// reader adds a subscriber and returns it with the envelope sender and the
// Message-ID its campaign mail had.
func (f *fixture) reader() (sub *model.Subscriber, verp, msgID string) {
	f.t.Helper()
	f.n++
	sub = &model.Subscriber{Email: fmt.Sprintf("reader%d@reader-isp.example", f.n)}
	if _, err := f.s.UpsertSubscriber(context.Background(), sub); err != nil {
		f.t.Fatal(err)
	}
	return sub, f.verp.Address(sub.ID, campaignID, "briefing@gazette.example"), message.ID(campaignID, sub.ID, "gazette.example")
}

// check asserts what became of a reader after a report of kind (""
// for nothing recorded), soft the soft-bounce count expected.
func (f *fixture) check(sub *model.Subscriber, kind model.EventKind, soft int) {
	f.t.Helper()
	ctx := context.Background()
	supp, err := f.s.Suppression(ctx, sub.Email)
	wantReason := map[model.EventKind]model.SuppressionReason{model.EventBounce: model.SuppressHardBounce, model.EventComplaint: model.SuppressComplaint}[kind]
	switch {
	case wantReason == "" && !errors.Is(err, store.ErrNotFound):
		f.t.Fatalf("%s suppressed (%+v, %v), want not", sub.Email, supp, err)
	case wantReason != "" && (err != nil || supp.Reason != wantReason):
		f.t.Fatalf("%s suppression = %+v, %v; want %s", sub.Email, supp, err, wantReason)
	}
	if n, err := f.s.SoftBounceCount(ctx, sub.Email); err != nil || n != soft {
		f.t.Fatalf("%s soft bounces = %d, %v; want %d", sub.Email, n, err, soft)
	}
	evs, err := f.s.BounceEvents(ctx, sub.ID, 0, 10)
	if err != nil {
		f.t.Fatal(err)
	}
	if kind == "" {
		if len(evs) != 0 {
			f.t.Fatalf("%s has events %+v, want none", sub.Email, evs)
		}
		return
	}
	if len(evs) == 0 || evs[0].Kind != kind || evs[0].CampaignID != campaignID || evs[0].Email != sub.Email {
		f.t.Fatalf("%s events = %+v; want a %s of campaign %d first", sub.Email, evs, kind, campaignID)
	}
	if byCampaign, err := f.s.BounceEvents(ctx, 0, campaignID, 100); err != nil || !hasEvent(byCampaign, sub.ID, kind) {
		f.t.Fatalf("campaign %d's bounces %+v (%v) lack %s's %s", campaignID, byCampaign, err, sub.Email, kind)
	}
}

func hasEvent(evs []store.BounceEvent, subID int64, kind model.EventKind) bool {
	for _, e := range evs {
		if e.SubscriberID == subID && e.Kind == kind {
			return true
		}
	}
	return false
}

// listen starts the inbound listener on a loopback port.
func (f *fixture) listen() string {
	f.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.t.Fatal(err)
	}
	l := NewListener(f.rec, bounceDomain)
	done := make(chan error, 1)
	go func() { done <- l.Serve(ln) }()
	f.t.Cleanup(func() {
		l.Shutdown(context.Background())
		if err := <-done; err != nil {
			f.t.Error(err)
		}
	})
	return ln.Addr().String()
}

// deliver hands raw to the listener over SMTP, from the null sender.
func deliver(addr, rcpt string, raw []byte) error {
	return smtp.SendMail(addr, nil, "", []string{rcpt}, raw)
}

// fblAddress is where a feedback loop sends its complaint reports: an
// address at the bounce domain without a token.
const fblAddress = "fbl@" + bounceDomain

func TestListenerRecordsEachSample(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		addr := f.listen()
		for _, sm := range samples {
			sub, verp, msgID := f.reader()
			rcpt := verp
			if sm.kind == model.EventComplaint {
				rcpt = fblAddress // the token is in the quoted original
			}
			if err := deliver(addr, rcpt, fill(t, sm.file, sub.Email, verp, msgID)); err != nil {
				t.Fatalf("%s: %v", sm.file, err)
			}
			soft := 0
			if sm.kind == model.EventSoftBounce {
				soft = 1
			}
			f.check(sub, sm.kind, soft)
		}
	})
}

func TestSoftBouncesCountToTheLimit(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		addr := f.listen()
		sub, verp, msgID := f.reader()
		for i := 1; i <= 2; i++ {
			if err := deliver(addr, verp, fill(t, "postfix_expired.eml", sub.Email, verp, msgID)); err != nil {
				t.Fatal(err)
			}
			f.check(sub, model.EventSoftBounce, i)
		}
		// The third soft bounce reaches soft_bounce_limit (3): the address
		// is suppressed as a hard bounce and its count starts over.
		if err := deliver(addr, verp, fill(t, "postfix_expired.eml", sub.Email, verp, msgID)); err != nil {
			t.Fatal(err)
		}
		supp, err := s.Suppression(context.Background(), sub.Email)
		if err != nil || supp.Reason != model.SuppressHardBounce || !strings.Contains(supp.Detail, "3 soft bounces") {
			t.Fatalf("after 3 soft bounces: %+v, %v", supp, err)
		}
		if n, _ := s.SoftBounceCount(context.Background(), sub.Email); n != 0 {
			t.Fatalf("count after suppression = %d", n)
		}
	})
}

func TestForgedTokenRefused(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		addr := f.listen()
		victim, verp, msgID := f.reader()
		// A token signed with another key, and the real one altered.
		other, _ := token.NewSigner(bytes.Repeat([]byte("x"), 32))
		made := VERP{Signer: other, Domain: bounceDomain}.Address(victim.ID, campaignID, "")
		tok := strings.TrimSuffix(strings.TrimPrefix(verp, LocalPrefix), "@"+bounceDomain)
		altered := LocalPrefix + tok[:10] + string('a'+(tok[10]-'a'+1)%26) + tok[11:] + "@" + bounceDomain
		if altered == verp {
			t.Fatal("the alteration changed nothing")
		}
		for _, rcpt := range []string{made, altered} {
			err := deliver(addr, rcpt, fill(t, "postfix_hard.eml", victim.Email, rcpt, msgID))
			var se *textproto.Error
			if !errors.As(err, &se) || se.Code != 550 {
				t.Fatalf("bounce to %s: %v, want 550", rcpt, err)
			}
		}
		// A complaint to the feedback address quoting a forged token.
		if err := deliver(addr, fblAddress, fill(t, "arf_complaint.eml", victim.Email, made, msgID)); err == nil {
			t.Fatal("a complaint quoting a forged token was taken")
		}
		// Mail for another domain is no business of this server's.
		if err := deliver(addr, "someone@gazette.example", fill(t, "postfix_hard.eml", victim.Email, verp, msgID)); err == nil {
			t.Fatal("mail for another domain was taken")
		}
		f.check(victim, "", 0)
	})
}

func TestMessageIDMustAgreeWithTheAddress(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		addr := f.listen()
		ctx := context.Background()
		// Without a token (a relay that rewrote the envelope sender), a
		// report whose original carries Herald's Message-ID of the very
		// reader it names is taken...
		reader, _, msgID := f.reader()
		if err := deliver(addr, "bounces@"+bounceDomain, fill(t, "qmail.eml", reader.Email, "briefing@gazette.example", msgID)); err != nil {
			t.Fatal(err)
		}
		f.check(reader, model.EventBounce, 0)
		// ...but a Message-ID naming someone else than the reported
		// address suppresses nobody: Message-IDs are no secret.
		victim, _, victimMsgID := f.reader()
		stranger := "stranger@elsewhere.example"
		if err := deliver(addr, "bounces@"+bounceDomain, fill(t, "qmail.eml", stranger, "briefing@gazette.example", victimMsgID)); err != nil {
			t.Fatal(err)
		}
		f.check(victim, "", 0)
		if _, err := s.Suppression(ctx, stranger); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("stranger suppressed: %v", err)
		}
	})
}

func TestVERPAddress(t *testing.T) {
	sig, _ := token.NewSigner(bytes.Repeat([]byte("k"), 32))
	v := VERP{Signer: sig, Domain: "Bounces.Gazette.Example"}
	a := v.Address(123456, 789, "briefing@gazette.example")
	if !strings.HasPrefix(a, LocalPrefix) || !strings.HasSuffix(a, "@bounces.gazette.example") || len(a[:strings.IndexByte(a, '@')]) > 64 {
		t.Fatalf("VERP address %q", a)
	}
	if s, c, err := v.Claims(strings.ToUpper(a)); err != nil || s != 123456 || c != 789 {
		t.Fatalf("Claims(%q) = %d, %d, %v", strings.ToUpper(a), s, c, err)
	}
	if got := v.Address(0, 789, "briefing@gazette.example"); got != "briefing@gazette.example" {
		t.Fatalf("no subscriber: %q, want the fallback", got)
	}
	if got := (VERP{}).Address(5, 6, "briefing@gazette.example"); got != "briefing@gazette.example" {
		t.Fatalf("VERP off: %q", got)
	}
	if _, _, err := v.Claims("fbl@bounces.gazette.example"); !errors.Is(err, ErrNoToken) {
		t.Fatalf("no token: %v", err)
	}
	if _, _, err := v.Claims("bounces+aaaa@bounces.gazette.example"); !errors.Is(err, ErrForged) {
		t.Fatalf("made-up token: %v", err)
	}
	// A key rotated out of first place still verifies.
	newer, _ := token.NewSigner(bytes.Repeat([]byte("n"), 32), bytes.Repeat([]byte("k"), 32))
	if s, _, err := (VERP{Signer: newer, Domain: v.Domain}).Claims(a); err != nil || s != 123456 {
		t.Fatalf("after rotation: %d, %v", s, err)
	}
}
