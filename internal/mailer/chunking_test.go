package mailer

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/smtpsink"
)

// chunkingInputs are messages as Herald builds them (CRLF lines, some
// starting with a dot, quoted-printable) and as it never does (bare line
// feeds, carriage returns alone, no line break at the end), which DATA
// puts right on the way.
var chunkingInputs = []string{
	"Subject: x\r\nMessage-ID: <m0@x>\r\n\r\nbody\r\n",
	"Message-ID: <m1@x>\r\n\r\n.starts with a dot\r\n.\r\n..two\r\n.three\r\nend\r\n",
	"Message-ID: <m2@x>\r\n\r\n" + strings.Repeat("=2E quoted-printable line of seventy-six characters or so, folded=\r\n.", 400) + "\r\n",
	"Message-ID: <m3@x>\n\nbare\nline feeds\n.dot\n",
	"Message-ID: <m4@x>\r\n\r\nmixed\r\nends\n.x\r\n",
	"Message-ID: <m5@x>\r\n\r\nlone\rcarriage\r\nreturn\r\n",
	"Message-ID: <m6@x>\r\n\r\nno final line break",
	"Message-ID: <m7@x>\r\n\r\ndouble\r\r\nreturn\r\n",
	"Message-ID: <m8@x>\r\n\r\nends with a carriage return\r",
}

// TestChunkedMessagesArriveAsDataOnes sends the same messages with BDAT
// (pipelined or not) and with DATA (Herald's pipelined writer or go-smtp's
// client): the relay receives the same bytes every way.
func TestChunkedMessagesArriveAsDataOnes(t *testing.T) {
	var want [][]byte
	for _, mode := range modes {
		sink := startSink(t, mode.sink())
		m := newMailer(t, Config{Relays: []RelayConfig{relayFor(t, sink.URL()+"&max_conns=1")}})
		for _, in := range chunkingInputs {
			if err := m.Send(context.Background(), Envelope{From: "b@ledger.example", To: "r@readers.example"}, []byte(in)); err != nil {
				t.Fatalf("%s: %q: %v", mode.name, in, err)
			}
		}
		got := sink.Messages()
		if len(got) != len(chunkingInputs) {
			t.Fatalf("%s: %d messages", mode.name, len(got))
		}
		if want := map[bool]int64{false: int64(len(got))}[mode.noChunking]; sink.Chunked() != want {
			t.Errorf("%s: %d chunked, want %d", mode.name, sink.Chunked(), want)
		}
		if want == nil {
			for _, msg := range got {
				want = append(want, msg.Raw)
			}
			continue
		}
		for i, msg := range got {
			if !bytes.Equal(msg.Raw, want[i]) {
				t.Errorf("%s: %q arrived as\n%q\nnot as in the first mode\n%q", mode.name, chunkingInputs[i], msg.Raw, want[i])
			}
		}
	}
	// Herald's own messages arrive exactly as built.
	for i := range 3 {
		if string(want[i]) != chunkingInputs[i] {
			t.Errorf("%q arrived as %q", chunkingInputs[i], want[i])
		}
	}
}

// A message larger than the relay takes is refused at MAIL (its SIZE=);
// the relay still reads and drops the chunk sent with the commands, so the
// session stays in step and carries the next message.
func TestSizeRefusalKeepsTheSession(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			opts := mode.sink()
			opts.MaxMessageBytes = 2000
			sink := startSink(t, opts)
			m := newMailer(t, Config{Relays: []RelayConfig{relayFor(t, sink.URL()+"&max_conns=1")}})
			big := []byte("Message-ID: <big@x>\r\n\r\n" + strings.Repeat(strings.Repeat("y", 76)+"\r\n", 40))
			err := m.Send(context.Background(), Envelope{From: "b@ledger.example", To: "r@readers.example"}, big)
			var e *Error
			if !errors.As(err, &e) || e.Class != Permanent || e.Stage != StageMail || e.Code != 552 || e.Enhanced != "5.3.4" {
				t.Fatalf("too large: %v, want a permanent 552 5.3.4 at MAIL", err)
			}
			for _, to := range []string{"a@readers.example", "b@readers.example"} {
				if err := send(t, m, to); err != nil {
					t.Fatalf("after the refusal: %v", err)
				}
			}
			if sink.Count() != 2 || sink.Connections() != 1 {
				t.Errorf("%d messages over %d connections, want 2 over 1", sink.Count(), sink.Connections())
			}
		})
	}
}

// A relay that refuses the chunk itself (552 after reading it, as it
// would past its size limit without SIZE at MAIL) gives a permanent
// failure at DATA, and the session carries the next message.
func TestChunkRefusedAfterReading(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			opts := mode.sink()
			opts.Faults.Rules = []*smtpsink.Rule{{Recipient: "big@readers.example", Stage: smtpsink.AtData, Code: 552, Enhanced: [3]int{5, 3, 4}, Text: "too big"}}
			sink := startSink(t, opts)
			m := newMailer(t, Config{Relays: []RelayConfig{relayFor(t, sink.URL()+"&max_conns=1")}})
			err := send(t, m, "big@readers.example")
			var e *Error
			if !errors.As(err, &e) || e.Class != Permanent || e.Stage != StageData || e.Reply() != "552 5.3.4 too big" {
				t.Fatalf("refused chunk: %v, want a permanent 552 at DATA", err)
			}
			if err := send(t, m, "a@readers.example"); err != nil {
				t.Fatal(err)
			}
			if sink.Count() != 1 || sink.Connections() != 1 {
				t.Errorf("%d messages over %d connections, want 1 over 1", sink.Count(), sink.Connections())
			}
		})
	}
}

func TestParseRelayChunking(t *testing.T) {
	rc := relayFor(t, "smtp://127.0.0.1:25?chunking=false")
	if !rc.NoChunking || rc.NoPipelining || !strings.Contains(rc.String(), "chunking=false") {
		t.Errorf("chunking=false: %+v, %s", rc, rc.String())
	}
	if rc := relayFor(t, "smtp://127.0.0.1:25?chunking=true"); rc.NoChunking || strings.Contains(rc.String(), "chunking") {
		t.Errorf("chunking=true: %+v", rc)
	}
	if _, err := ParseRelay("smtp://127.0.0.1:25?chunking=maybe"); err == nil || !strings.Contains(err.Error(), "chunking") {
		t.Errorf("chunking=maybe: %v", err)
	}
}

// A relay that restarts closes every pooled session. The next message
// goes out at once on a fresh session, in every mode: a chunked one looks
// at the pooled session before sending (its message would leave with the
// commands, and a session found dead that way leaves the message in
// doubt), the others find out at MAIL.
func TestRelayRestartBetweenMessages(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			sink := startSink(t, mode.sink())
			addr := sink.Addr()
			m := newMailer(t, Config{Relays: []RelayConfig{relayFor(t, sink.URL()+"&max_conns=1")}})
			if err := send(t, m, "a@readers.example"); err != nil {
				t.Fatal(err)
			}
			idle := idleConns(t, m)
			if len(idle) != 1 {
				t.Fatalf("%d idle connections", len(idle))
			}
			sink.Close()
			waitFor(t, "the relay's close to reach the pooled session", func() bool { return peerSpoke(idle[0].raw) })
			opts := mode.sink()
			opts.Addr = addr
			var back *smtpsink.Sink
			waitFor(t, "the relay's port to be free again", func() bool {
				var err error
				back, err = smtpsink.Start(opts)
				return err == nil
			})
			t.Cleanup(func() { back.Close() })
			if err := send(t, m, "b@readers.example"); err != nil {
				t.Fatalf("after the restart: %v", err)
			}
			if back.Count() != 1 || back.Connections() != 1 {
				t.Errorf("%d messages over %d connections after the restart, want 1 over 1", back.Count(), back.Connections())
			}
			if st := m.Stats()[0]; st.Sent != 2 || st.Failed != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// A caller that cuts a transaction short (the mail queue when a batch runs
// out of time) and gives its message back must find it undelivered: the
// chunk waits for the replies to MAIL and RCPT, so a relay that takes its
// time over MAIL never gets the message from an abandoned session. Under
// KeepToEnd (the campaign engine, which never cuts one short) the message
// leaves with the commands.
func TestCutShortBeforeTheRepliesDeliversNothing(t *testing.T) {
	hold := make(chan struct{})
	sink := startSink(t, smtpsink.Options{Faults: smtpsink.Faults{Hold: hold}})
	m := newMailer(t, Config{Relays: []RelayConfig{relayFor(t, sink.URL()+"&max_conns=1")}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- send2(ctx, m, "a@readers.example") }()
	waitFor(t, "MAIL to be held", func() bool { return sink.Held() == 1 })
	cancel()
	if err := <-done; Classify(err) != Temporary {
		t.Fatalf("cut short: %v", err)
	}
	close(hold)
	sink.SetFaults(smtpsink.Faults{})
	if err := sendWhole(t, m, "b@readers.example"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the held session to end", func() bool { return sink.OpenConnections() == 1 })
	if sink.Count() != 1 || sink.Pipelined() != 1 || sink.Chunked() != 1 {
		t.Errorf("count %d, pipelined %d, chunked %d; want only the second message, in one write", sink.Count(), sink.Pipelined(), sink.Chunked())
	}
	for _, msg := range sink.Messages() {
		if msg.To[0] != "b@readers.example" {
			t.Errorf("the message cut short arrived: %v", msg.To)
		}
	}
}

func send2(ctx context.Context, m Sender, to string) error {
	return m.Send(ctx, Envelope{From: "bounces@ledger.example", To: to}, testMsg(to, "id-"+to))
}
