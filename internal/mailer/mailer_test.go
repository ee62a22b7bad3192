package mailer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/smtpsink"
)

func startSink(t testing.TB, opts smtpsink.Options) *smtpsink.Sink {
	t.Helper()
	s, err := smtpsink.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func relayFor(t testing.TB, rawURL string) RelayConfig {
	t.Helper()
	rc, err := ParseRelay(rawURL)
	if err != nil {
		t.Fatalf("ParseRelay: %v", err)
	}
	return rc
}

func newMailer(t testing.TB, cfg Config) *Mailer {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func testMsg(to, id string) []byte {
	return []byte("From: Desk <desk@ledger.example>\r\nTo: " + to + "\r\nSubject: Evening\r\nMessage-ID: <" + id +
		">\r\nDate: Wed, 04 Mar 2026 18:30:00 +0000\r\n\r\nGood evening.\r\n")
}

func send(t testing.TB, m Sender, to string) error {
	t.Helper()
	return m.Send(context.Background(), Envelope{From: "bounces@ledger.example", To: to}, testMsg(to, "id-"+to))
}

// freePort returns a loopback address nothing listens on.
func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// waitFor polls cond; it synchronises with the sink's goroutines and
// asserts nothing about time.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestPooledConnectionsAreReused(t *testing.T) {
	sink := startSink(t, smtpsink.Options{})
	m := newMailer(t, Config{Relays: []RelayConfig{relayFor(t, sink.URL()+"&max_conns=2")}})
	const n = 60
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for g := range 6 {
		wg.Go(func() {
			for i := g; i < n; i += 6 {
				if err := send(t, m, fmt.Sprintf("r%d@readers.example", i)); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if sink.Count() != n {
		t.Fatalf("sink got %d messages, want %d", sink.Count(), n)
	}
	if c := sink.Connections(); c < 1 || c > 2 {
		t.Errorf("%d connections for %d messages, want at most 2", c, n)
	}
	seen := map[string]bool{}
	for _, msg := range sink.Messages() {
		if msg.MessageID != "id-"+msg.To[0] || msg.From != "bounces@ledger.example" {
			t.Errorf("message %q to %v from %q", msg.MessageID, msg.To, msg.From)
		}
		seen[msg.To[0]] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct recipients", len(seen))
	}
	st := m.Stats()[0]
	if st.Sent != n || st.OpenConns > 2 || st.Breaker != BreakerClosed {
		t.Errorf("stats %+v", st)
	}
}

func TestStalePooledConnectionIsRedialled(t *testing.T) {
	sink := startSink(t, smtpsink.Options{})
	m := newMailer(t, Config{Relays: []RelayConfig{relayFor(t, sink.URL()+"&max_conns=1")}})
	if err := send(t, m, "a@readers.example"); err != nil {
		t.Fatal(err)
	}
	// Kill the idle pooled connection behind the mailer's back.
	p := m.relays[0].link.(*smtpLink).pool
	p.mu.Lock()
	p.idle[0].raw.Close()
	p.mu.Unlock()
	if err := send(t, m, "b@readers.example"); err != nil {
		t.Fatalf("send over a stale connection was not retried: %v", err)
	}
	if sink.Count() != 2 || sink.Connections() != 2 {
		t.Errorf("count %d, connections %d", sink.Count(), sink.Connections())
	}
}

// TestRelayRestartDropsEveryStaleConnection: after a relay restart every
// pooled connection is dead; the next message goes out at once on a fresh
// one instead of failing on the second dead one (which deferred the row
// for a minute and used up a try).
func TestRelayRestartDropsEveryStaleConnection(t *testing.T) {
	sink := startSink(t, smtpsink.Options{})
	m := newMailer(t, Config{Relays: []RelayConfig{relayFor(t, sink.URL()+"&max_conns=4")}})
	p := m.relays[0].link.(*smtpLink).pool
	// Fill the pool: four connections, each back idle.
	conns := make([]*conn, 0, 4)
	for range 4 {
		c, _, err := p.get(context.Background(), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.sent = 1
		p.put(c, time.Now())
	}
	// The relay restarts: every session is gone.
	p.mu.Lock()
	for _, c := range p.idle {
		c.raw.Close()
	}
	p.mu.Unlock()
	if err := send(t, m, "a@readers.example"); err != nil {
		t.Fatalf("first message after the restart: %v", err)
	}
	if err := send(t, m, "b@readers.example"); err != nil {
		t.Fatalf("second message after the restart: %v", err)
	}
	if sink.Count() != 2 {
		t.Errorf("sink got %d messages, want 2", sink.Count())
	}
}

// TestReplyClassification runs against relays that offer PIPELINING and
// CHUNKING, one of them or neither: the verdicts are the same.
func TestReplyClassification(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) { replyClassification(t, mode.sink()) })
	}
}

func replyClassification(t *testing.T, opts smtpsink.Options) {
	sink := startSink(t, smtpsink.Options{NoPipelining: opts.NoPipelining, NoChunking: opts.NoChunking, Faults: smtpsink.Faults{Rules: []*smtpsink.Rule{
		{Recipient: "later@readers.example", Stage: smtpsink.AtRcpt, Code: 451, Enhanced: [3]int{4, 3, 0}, Text: "try later"},
		{Recipient: "full@readers.example", Stage: smtpsink.AtData, Code: 452, Enhanced: [3]int{4, 2, 2}, Text: "mailbox full"},
		{Recipient: "gone@readers.example", Stage: smtpsink.AtRcpt, Code: 550, Enhanced: [3]int{5, 1, 1}, Text: "no such user"},
		{Recipient: "off@readers.example", Stage: smtpsink.AtRcpt, Code: 550, Enhanced: [3]int{5, 2, 1}, Text: "mailbox disabled"},
		{Recipient: "spam@readers.example", Stage: smtpsink.AtData, Code: 554, Enhanced: [3]int{5, 7, 1}, Text: "rejected as spam"},
	}}})
	m := newMailer(t, Config{Relays: []RelayConfig{relayFor(t, sink.URL()+"&max_conns=1")}})
	cases := []struct {
		to        string
		class     Class
		stage     Stage
		reply     string
		bounce    bool
		transient bool
	}{
		{"later@readers.example", Temporary, StageRcpt, "451 4.3.0 try later", false, true},
		{"ok1@readers.example", 0, "", "", false, false},
		{"full@readers.example", Temporary, StageData, "452 4.2.2 mailbox full", false, true},
		{"gone@readers.example", HardBounce, StageRcpt, "550 5.1.1 no such user", true, false},
		{"off@readers.example", HardBounce, StageRcpt, "550 5.2.1 mailbox disabled", true, false},
		{"spam@readers.example", Permanent, StageData, "554 5.7.1 rejected as spam", false, false},
		{"ok2@readers.example", 0, "", "", false, false},
	}
	for _, c := range cases {
		err := send(t, m, c.to)
		if Classify(err) != c.class || IsHardBounce(err) != c.bounce || IsTemporary(err) != c.transient {
			t.Errorf("%s: %v classified %v", c.to, err, Classify(err))
			continue
		}
		if err == nil {
			continue
		}
		var e *Error
		errors.As(err, &e)
		if e.Stage != c.stage || e.Reply() != c.reply || e.Relay != m.relays[0].cfg.Name {
			t.Errorf("%s: stage %q reply %q relay %q", c.to, e.Stage, e.Reply(), e.Relay)
		}
	}
	// Rejections leave the connection usable (RSET, not a redial).
	if sink.Count() != 2 || sink.Connections() != 1 {
		t.Errorf("count %d over %d connections, want 2 over 1", sink.Count(), sink.Connections())
	}
}

func TestClassifyReply(t *testing.T) {
	cases := []struct {
		stage Stage
		code  int
		enh   [3]int
		want  Class
	}{
		{StageRcpt, 421, [3]int{4, 4, 2}, Temporary},
		{StageRcpt, 450, [3]int{}, Temporary},
		{StageRcpt, 550, [3]int{5, 1, 1}, HardBounce},
		{StageRcpt, 550, [3]int{5, 1, 2}, HardBounce},
		{StageRcpt, 553, [3]int{5, 1, 3}, HardBounce},
		{StageMail, 553, [3]int{5, 1, 8}, Permanent},
		// Our sender refused: never the recipient's fault.
		{StageMail, 550, [3]int{5, 1, 0}, Permanent},
		{StageMail, 553, [3]int{5, 1, 3}, Permanent},
		{StageMail, 550, [3]int{}, Permanent},
		{StageRcpt, 550, [3]int{5, 2, 1}, HardBounce},
		{StageRcpt, 552, [3]int{5, 2, 2}, Permanent},
		{StageRcpt, 550, [3]int{5, 7, 1}, Permanent},
		{StageRcpt, 550, [3]int{}, HardBounce},
		{StageData, 550, [3]int{}, Permanent},
		{StageData, 554, [3]int{5, 0, 0}, Permanent},
	}
	for _, c := range cases {
		if got := ClassifyReply(c.stage, c.code, c.enh); got != c.want {
			t.Errorf("%s %d %v = %v, want %v", c.stage, c.code, c.enh, got, c.want)
		}
	}
	if Classify(nil) != 0 || Classify(errors.New("x")) != Temporary {
		t.Error("Classify of nil / foreign error")
	}
}

func TestFailoverToSecondRelay(t *testing.T) {
	sink := startSink(t, smtpsink.Options{})
	dead := relayFor(t, "smtp://"+freePort(t)+"?tls=none&name=primary&priority=0")
	backup := relayFor(t, sink.URL()+"&name=backup&priority=10")
	m := newMailer(t, Config{Relays: []RelayConfig{backup, dead}})
	for i := range 3 {
		if err := send(t, m, fmt.Sprintf("r%d@readers.example", i)); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	st := m.Stats()
	if st[0].Name != "primary" || st[0].Failed != 3 || st[1].Sent != 3 || sink.Count() != 3 {
		t.Errorf("stats %+v, sink %d", st, sink.Count())
	}
	// With every relay down the error is temporary and names the relay.
	only := newMailer(t, Config{Relays: []RelayConfig{dead}})
	err := send(t, only, "x@readers.example")
	var e *Error
	if !errors.As(err, &e) || e.Class != Temporary || e.Stage != StageConnect || e.Relay != "primary" {
		t.Errorf("all relays down: %v", err)
	}
}

func TestCircuitBreakerOpensAndCloses(t *testing.T) {
	clock := NewFakeClock(time.Date(2026, 3, 4, 18, 0, 0, 0, time.UTC))
	primaryAddr := freePort(t)
	backup := startSink(t, smtpsink.Options{})
	m := newMailer(t, Config{
		Clock:           clock,
		BreakerFailures: 2,
		BreakerCooldown: time.Minute,
		Relays: []RelayConfig{
			relayFor(t, "smtp://"+primaryAddr+"?tls=none&name=primary"),
			relayFor(t, backup.URL()+"&name=backup&priority=1"),
		},
	})
	primary := func() RelayStats { return m.Stats()[0] }

	for i := range 2 {
		if err := send(t, m, fmt.Sprintf("a%d@readers.example", i)); err != nil {
			t.Fatal(err)
		}
	}
	if p := primary(); p.Failed != 2 || p.Breaker != BreakerOpen {
		t.Fatalf("after 2 failures: %+v", p)
	}
	// Open: the primary is not even tried.
	if err := send(t, m, "b@readers.example"); err != nil || primary().Failed != 2 {
		t.Fatalf("open breaker tried the primary: %v %+v", err, primary())
	}
	// After the cooldown one trial goes to the primary; it fails and the
	// breaker opens again at once.
	clock.Advance(time.Minute)
	if primary().Breaker != BreakerHalfOpen {
		t.Fatalf("after cooldown: %+v", primary())
	}
	if err := send(t, m, "c@readers.example"); err != nil {
		t.Fatal(err)
	}
	if p := primary(); p.Failed != 3 || p.Breaker != BreakerOpen {
		t.Fatalf("failed trial: %+v", p)
	}
	// The primary comes back; the next trial closes the breaker and the
	// primary takes the traffic again.
	back := startSink(t, smtpsink.Options{Addr: primaryAddr})
	clock.Advance(time.Minute)
	for i := range 3 {
		if err := send(t, m, fmt.Sprintf("d%d@readers.example", i)); err != nil {
			t.Fatal(err)
		}
	}
	if p := primary(); p.Breaker != BreakerClosed || p.Sent != 3 || back.Count() != 3 || backup.Count() != 4 {
		t.Errorf("after recovery: %+v, primary sink %d, backup sink %d", p, back.Count(), backup.Count())
	}
}

func TestRateLimitWithFakeClock(t *testing.T) {
	clock := NewFakeClock(time.Date(2026, 3, 4, 18, 0, 0, 0, time.UTC))
	sink := startSink(t, smtpsink.Options{CountOnly: true})
	m := newMailer(t, Config{Clock: clock, Relays: []RelayConfig{relayFor(t, sink.URL()+"&rate=10&max_conns=2&name=r")}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	const n = 5
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := send(t, m, fmt.Sprintf("r%d@readers.example", i)); err != nil {
				t.Error(err)
			}
		})
	}
	// 10 per second: one message now, the other four booked 100 ms apart.
	if err := clock.WaitSleepers(ctx, n-1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "first message", func() bool { return sink.Count() == 1 })
	for step := 2; step <= n; step++ {
		clock.Advance(99 * time.Millisecond)
		if clock.Sleepers() != n-step+1 {
			t.Fatalf("step %d: a sender woke early", step)
		}
		clock.Advance(time.Millisecond)
		waitFor(t, fmt.Sprintf("message %d", step), func() bool { return sink.Count() == int64(step) })
		if got := clock.Sleepers(); got != n-step {
			t.Fatalf("step %d: %d senders still waiting, want %d", step, got, n-step)
		}
	}
	wg.Wait()

	// Lifting the limit while sending: no more waiting.
	if err := m.SetRelayLimits("r", 0, 4); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if err := send(t, m, fmt.Sprintf("s%d@readers.example", i)); err != nil {
			t.Fatal(err)
		}
	}
	if clock.Sleepers() != 0 || sink.Count() != n+20 {
		t.Errorf("after lifting the limit: %d sleepers, %d sent", clock.Sleepers(), sink.Count())
	}
	if err := m.SetRelayLimits("nope", 1, 1); err == nil {
		t.Error("unknown relay accepted")
	}
}

func TestHourlyWindowWithFakeClock(t *testing.T) {
	clock := NewFakeClock(time.Date(2026, 3, 4, 18, 0, 30, 0, time.UTC))
	sink := startSink(t, smtpsink.Options{CountOnly: true})
	m := newMailer(t, Config{Clock: clock, HourlyLimit: 3, Relays: []RelayConfig{relayFor(t, sink.URL())}})
	for i := range 3 {
		if err := send(t, m, fmt.Sprintf("r%d@readers.example", i)); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- send(t, m, "late@readers.example") }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := clock.WaitSleepers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(59 * time.Minute)
	if sink.Count() != 3 || clock.Sleepers() != 1 {
		t.Fatalf("fourth message went out within the hour: %d", sink.Count())
	}
	clock.Advance(time.Minute)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if sink.Count() != 4 {
		t.Errorf("count %d", sink.Count())
	}
	// Raising the limit while sending takes effect at once.
	m.SetHourlyLimit(100)
	if err := send(t, m, "more@readers.example"); err != nil || clock.Sleepers() != 0 {
		t.Errorf("after raising the limit: %v", err)
	}
}

func TestPacerAndWindowUnits(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var p pacer
	p.setRate(4)
	for i, want := range []time.Duration{0, 250 * time.Millisecond, 500 * time.Millisecond} {
		if got := p.reserve(t0); got != want {
			t.Errorf("reserve %d = %v, want %v", i, got, want)
		}
	}
	// Idle time does not build up a burst.
	if got := p.reserve(t0.Add(time.Hour)); got != 0 {
		t.Errorf("after idle: %v", got)
	}
	if got := p.reserve(t0.Add(time.Hour)); got != 250*time.Millisecond {
		t.Errorf("after idle, second: %v", got)
	}
	var w window
	w.setLimit(2)
	if w.take(t0) != 0 || w.take(t0.Add(30*time.Minute)) != 0 {
		t.Fatal("first two refused")
	}
	if got := w.take(t0.Add(45 * time.Minute)); got != 15*time.Minute {
		t.Errorf("third waits %v, want 15m", got)
	}
	if got := w.take(t0.Add(time.Hour)); got != 0 {
		t.Errorf("after the hour: %v", got)
	}
}

func TestAuthPlainAndLogin(t *testing.T) {
	for _, mech := range []string{"PLAIN", "LOGIN"} {
		t.Run(mech, func(t *testing.T) {
			sink := startSink(t, smtpsink.Options{Username: "herald", Password: "s3cret-pw", AuthMechs: []string{mech}})
			m := newMailer(t, Config{Relays: []RelayConfig{relayFor(t, sink.URL())}})
			if err := send(t, m, "a@readers.example"); err != nil {
				t.Fatal(err)
			}
			if sink.Auths() != 1 || sink.Count() != 1 {
				t.Errorf("auths %d, count %d", sink.Auths(), sink.Count())
			}
		})
	}
	t.Run("wrong password", func(t *testing.T) {
		sink := startSink(t, smtpsink.Options{Username: "herald", Password: "right"})
		rc := relayFor(t, strings.Replace(sink.URL(), ":right@", ":wrong-pw@", 1))
		m := newMailer(t, Config{Relays: []RelayConfig{rc}})
		err := send(t, m, "a@readers.example")
		var e *Error
		if !errors.As(err, &e) || e.Class != Temporary || e.Stage != StageConnect || e.Code != 535 {
			t.Fatalf("bad password: %v", err)
		}
		if strings.Contains(err.Error(), "wrong-pw") || strings.Contains(fmt.Sprint(rc), "wrong-pw") {
			t.Errorf("password leaked: %v / %v", err, rc)
		}
	})
	t.Run("rejected", func(t *testing.T) {
		sink := startSink(t, smtpsink.Options{Username: "u", Password: "p", Faults: smtpsink.Faults{RejectAuth: true}})
		m := newMailer(t, Config{Relays: []RelayConfig{relayFor(t, sink.URL())}})
		if err := send(t, m, "a@readers.example"); !IsTemporary(err) || sink.Count() != 0 {
			t.Errorf("rejected auth: %v", err)
		}
	})
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "sink.localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

func TestTLS(t *testing.T) {
	serverTLS, roots := selfSigned(t)
	for _, implicit := range []bool{false, true} {
		name := map[bool]string{false: "starttls", true: "implicit"}[implicit]
		t.Run(name, func(t *testing.T) {
			sink := startSink(t, smtpsink.Options{TLS: serverTLS, ImplicitTLS: implicit, Username: "u", Password: "p"})
			rc := relayFor(t, sink.URL())
			if rc.TLS != TLSMode(map[bool]string{false: "starttls", true: "tls"}[implicit]) {
				t.Fatalf("mode %q", rc.TLS)
			}
			rc.TLSConfig = &tls.Config{RootCAs: roots}
			m := newMailer(t, Config{Relays: []RelayConfig{rc}})
			if err := send(t, m, "a@readers.example"); err != nil {
				t.Fatal(err)
			}
			if sink.Count() != 1 || sink.Auths() != 1 {
				t.Errorf("count %d auths %d", sink.Count(), sink.Auths())
			}
			// Without trusting the certificate the session is refused.
			untrusted := newMailer(t, Config{Relays: []RelayConfig{relayFor(t, sink.URL())}})
			if err := send(t, untrusted, "b@readers.example"); !IsTemporary(err) || sink.Count() != 1 {
				t.Errorf("untrusted certificate accepted: %v", err)
			}
		})
	}
}

func TestParseRelay(t *testing.T) {
	rc, err := ParseRelay("smtp://news%40x.example:p%40ss@127.0.0.1:2525?tls=none&max_conns=8&rate=150.5&priority=2&weight=3&name=main&max_per_conn=500")
	if err != nil {
		t.Fatal(err)
	}
	want := RelayConfig{Name: "main", Host: "127.0.0.1", Port: 2525, Username: "news@x.example", Password: "p@ss",
		TLS: TLSNone, MaxConns: 8, Rate: 150.5, Priority: 2, Weight: 3, MaxPerConn: 500, HelloName: "localhost"}
	if fmt.Sprintf("%+v", rc) != fmt.Sprintf("%+v", want) {
		t.Errorf("got  %+v\nwant %+v", rc, want)
	}
	if s := rc.String(); strings.Contains(s, "p%40ss") || strings.Contains(s, "p@ss") || !strings.Contains(s, "xxxxx") {
		t.Errorf("String() = %s", s)
	}
	defaults := map[string]TLSMode{
		"smtp://mail.example.com":     TLSStartTLS,
		"smtp://mail.example.com:465": TLSImplicit,
		"smtps://mail.example.com":    TLSImplicit,
		"smtp://localhost:25":         TLSNone,
	}
	for u, mode := range defaults {
		rc, err := ParseRelay(u)
		if err != nil || rc.TLS != mode {
			t.Errorf("%s: %q %v", u, rc.TLS, err)
		}
	}
	bad := []string{
		"smtp://u:hunter2@mail.example.com?tls=none",
		"http://mail.example.com",
		"smtp://mail.example.com?tls=maybe",
		"smtp://u:hunter2@mail.example.com?rate=fast",
		"smtp://u:hunter2@[::1",
	}
	for _, u := range bad {
		_, err := ParseRelay(u)
		if err == nil {
			t.Errorf("%s accepted", u)
		} else if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error leaks the password: %v", err)
		}
	}
	if _, err := ParseRelay("smtp://mail.example.com?tls=none&allow_plain=true"); err != nil {
		t.Errorf("explicit plain refused: %v", err)
	}
}

func TestEnvelopeInjectionRefused(t *testing.T) {
	sink := startSink(t, smtpsink.Options{})
	m := newMailer(t, Config{Relays: []RelayConfig{relayFor(t, sink.URL())}})
	err := m.Send(context.Background(), Envelope{From: "a@x.example", To: "b@x.example>\r\nRCPT TO:<c@x.example"}, testMsg("b", "x@y"))
	if Classify(err) != Permanent || sink.Connections() != 0 {
		t.Errorf("injected envelope: %v", err)
	}
}

func TestCancelledSendIsTemporary(t *testing.T) {
	clock := NewFakeClock(time.Now())
	sink := startSink(t, smtpsink.Options{CountOnly: true})
	m := newMailer(t, Config{Clock: clock, Relays: []RelayConfig{relayFor(t, sink.URL()+"&rate=1")}})
	if err := send(t, m, "a@readers.example"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Send(ctx, Envelope{From: "a@x.example", To: "b@x.example"}, testMsg("b", "x@y")) }()
	if err := clock.WaitSleepers(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !IsTemporary(err) || !errors.Is(err, context.Canceled) || sink.Count() != 1 {
		t.Errorf("cancelled: %v", err)
	}
}
