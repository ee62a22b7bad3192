package mailer

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net/textproto"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/smtpsink"
)

// modes runs a test against relays that offer PIPELINING (RFC 2920) and
// CHUNKING (RFC 3030), one of them or neither; the mailer must deliver and
// classify the same every way.
var modes = []mode{
	{"pipelining and chunking", false, false},
	{"pipelining", false, true},
	{"chunking", true, false},
	{"neither", true, true},
}

type mode struct {
	name       string
	noPipeline bool
	noChunking bool
}

// sink is the mode's relay.
func (m mode) sink() smtpsink.Options {
	return smtpsink.Options{NoPipelining: m.noPipeline, NoChunking: m.noChunking}
}

// oneWrite: the whole transaction, message included, leaves in one write
// (for a caller that keeps to the end: sendWhole).
func (m mode) oneWrite() bool { return !m.noPipeline && !m.noChunking }

// sendWhole sends as the campaign engine does, keeping every transaction
// to its end (KeepToEnd).
func sendWhole(t testing.TB, m Sender, to string) error {
	t.Helper()
	return m.Send(KeepToEnd(context.Background()), Envelope{From: "bounces@ledger.example", To: to}, testMsg(to, "id-"+to))
}

// idleConns are the mailer's idle connections to its first relay.
func idleConns(t *testing.T, m *Mailer) []*conn {
	t.Helper()
	p := m.relays[0].link.(*smtpLink).pool
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*conn(nil), p.idle...)
}

func TestPipelinedTransactionsAndFaultsMidPipeline(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			opts := mode.sink()
			opts.Faults = smtpsink.Faults{Rules: []*smtpsink.Rule{
				{Recipient: "gone@readers.example", Stage: smtpsink.AtRcpt, Code: 550, Enhanced: [3]int{5, 1, 1}, Text: "no such user"},
				{Recipient: "cut@readers.example", Stage: smtpsink.AtRcpt, Drop: true},
			}}
			sink := startSink(t, opts)
			m := newMailer(t, Config{Relays: []RelayConfig{relayFor(t, sink.URL()+"&max_conns=1")}})
			// A refused RCPT in the middle: the relay refuses the DATA
			// (or BDAT, whose chunk it reads and drops) sent with it too;
			// the RCPT reply is the verdict, and the next batch starts
			// with RSET on the same session.
			cases := []string{"a@readers.example", "b@readers.example", "gone@readers.example", "c@readers.example", "d@readers.example"}
			for _, to := range cases {
				err := sendWhole(t, m, to)
				var e *Error
				switch {
				case to != "gone@readers.example" && err != nil:
					t.Fatalf("%s: %v", to, err)
				case to == "gone@readers.example" && (!errors.As(err, &e) || e.Class != HardBounce || e.Stage != StageRcpt || e.Reply() != "550 5.1.1 no such user"):
					t.Fatalf("refused RCPT: %v", err)
				}
			}
			if sink.Count() != 4 || sink.Connections() != 1 {
				t.Errorf("%d messages over %d connections, want 4 over 1", sink.Count(), sink.Connections())
			}
			transactions := int64(len(cases))
			if want := map[bool]int64{false: transactions, true: 0}[mode.noPipeline]; sink.Pipelined() != want {
				t.Errorf("%d pipelined batches, want %d", sink.Pipelined(), want)
			}
			if want := map[bool]int64{false: 4, true: 0}[mode.noChunking]; sink.Chunked() != want {
				t.Errorf("%d messages came in chunks, want %d", sink.Chunked(), want)
			}
			if got := idleConns(t, m); len(got) != 1 || (got[0].pipe != nil) == (mode.noPipeline && mode.noChunking) {
				t.Errorf("idle connections %d, driven by Herald %v", len(got), len(got) == 1 && got[0].pipe != nil)
			}

			// A connection dropped while the batch is in flight: a
			// temporary failure at RCPT. Where the message had not left,
			// the pooled session counts as stale and the message is tried
			// once more on a fresh one, which drops too; the next message
			// goes out on a third session. Where it left with the
			// commands (BDAT pipelined), the relay may have taken it and
			// lost only the replies: the retry is the caller's, later, and
			// the next message goes out on a second session.
			err := sendWhole(t, m, "cut@readers.example")
			var e *Error
			if !errors.As(err, &e) || e.Class != Temporary || e.Stage != StageRcpt || e.failover == mode.oneWrite() {
				t.Fatalf("dropped at RCPT: %v (failover %v), want a temporary RCPT error", err, e != nil && e.failover)
			}
			if err := sendWhole(t, m, "e@readers.example"); err != nil {
				t.Fatalf("after the drop: %v", err)
			}
			conns := map[bool]int64{false: 3, true: 2}[mode.oneWrite()]
			if sink.Count() != 5 || sink.Connections() != conns {
				t.Errorf("%d messages over %d connections, want 5 over %d", sink.Count(), sink.Connections(), conns)
			}
			for _, msg := range sink.Messages() {
				if msg.MessageID != "id-"+msg.To[0] || len(msg.To) != 1 {
					t.Errorf("message %q to %v", msg.MessageID, msg.To)
				}
			}
		})
	}
}

// A connection cut mid-DATA (after the pipelined batch was accepted): the
// body had gone out, so the mailer leaves the retry to the caller, and
// reconnects for the next message. Cut mid-chunk (BDAT), the relay resets
// the connection on the rest of the chunk it never read: it cannot have
// the message, so the mailer tries once more on a fresh session (cut
// too), and then says another relay may take it. Either way the message
// is temporary, never delivered, and the next one goes out.
func TestReconnectAfterDropMidData(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			opts := mode.sink()
			opts.Faults = smtpsink.Faults{Rules: []*smtpsink.Rule{
				{Recipient: "drop@readers.example", Stage: smtpsink.AtData, Drop: true},
			}}
			sink := startSink(t, opts)
			m := newMailer(t, Config{Relays: []RelayConfig{relayFor(t, sink.URL()+"&max_conns=1")}})
			if err := send(t, m, "a@readers.example"); err != nil {
				t.Fatal(err)
			}
			err := m.Send(context.Background(), Envelope{From: "b@ledger.example", To: "drop@readers.example"},
				[]byte(strings.Repeat(strings.Repeat("x", 76)+"\r\n", 4000)))
			var e *Error
			if !errors.As(err, &e) || e.Class != Temporary || e.Stage != StageData || e.failover != !mode.noChunking {
				t.Fatalf("dropped mid-DATA: %v (failover %v), want a temporary DATA error", err, e != nil && e.failover)
			}
			if err := send(t, m, "b@readers.example"); err != nil {
				t.Fatal(err)
			}
			conns := map[bool]int64{false: 3, true: 2}[mode.noChunking]
			if sink.Count() != 2 || sink.Connections() != conns {
				t.Errorf("%d messages over %d connections, want 2 over %d", sink.Count(), sink.Connections(), conns)
			}
		})
	}
}

// A refused MAIL (here: the relay wants AUTH we did not give) is the
// verdict of the batch, not the RCPT and DATA refusals that follow it.
func TestPipelinedRefusedMail(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			opts := mode.sink()
			opts.Username, opts.Password = "u", "p"
			sink := startSink(t, opts)
			rc := relayFor(t, sink.URL())
			rc.Username, rc.Password = "", ""
			m := newMailer(t, Config{Relays: []RelayConfig{rc}})
			err := send(t, m, "a@readers.example")
			var e *Error
			if !errors.As(err, &e) || e.Stage != StageMail || e.Class != Permanent || e.Code != 502 {
				t.Fatalf("refused MAIL: %v, want a permanent MAIL error with 502", err)
			}
			if sink.Count() != 0 {
				t.Errorf("%d messages delivered", sink.Count())
			}
		})
	}
}

// STARTTLS is opened by the pool itself so that pipelined transactions run
// inside the TLS session.
func TestPipeliningOverStartTLS(t *testing.T) {
	serverTLS, roots := selfSigned(t)
	sink := startSink(t, smtpsink.Options{TLS: serverTLS, Username: "u", Password: "p"})
	rc := relayFor(t, sink.URL())
	rc.TLSConfig = &tls.Config{RootCAs: roots}
	m := newMailer(t, Config{Relays: []RelayConfig{rc}})
	for _, to := range []string{"a@readers.example", "b@readers.example"} {
		if err := send(t, m, to); err != nil {
			t.Fatal(err)
		}
	}
	got := idleConns(t, m)
	if len(got) != 1 || got[0].pipe == nil {
		t.Fatal("the STARTTLS session does not pipeline")
	}
	if _, ok := got[0].pipe.plain.(*greeted).Conn.(*tls.Conn); !ok {
		t.Error("pipelined commands do not travel inside TLS")
	}
	if sink.Count() != 2 || sink.Auths() != 1 || sink.Connections() != 1 {
		t.Errorf("count %d auths %d connections %d", sink.Count(), sink.Auths(), sink.Connections())
	}
	if !got[0].pipe.pipelining || !got[0].pipe.chunking || sink.Chunked() != 2 {
		t.Errorf("pipelining %v, chunking %v, %d chunked", got[0].pipe.pipelining, got[0].pipe.chunking, sink.Chunked())
	}
	// pipelining=false in the relay URL keeps to one command a round trip
	// (BDAT spares the wait for 354); with chunking=false too, go-smtp's
	// client sends.
	for _, off := range []string{"&pipelining=false", "&pipelining=false&chunking=false"} {
		sink.Reset()
		rc = relayFor(t, sink.URL()+off)
		rc.TLSConfig = &tls.Config{RootCAs: roots}
		m = newMailer(t, Config{Relays: []RelayConfig{rc}})
		if err := send(t, m, "c@readers.example"); err != nil {
			t.Fatal(err)
		}
		got := idleConns(t, m)
		chunked := !strings.Contains(off, "chunking")
		if len(got) != 1 || got[0].pipe != nil && got[0].pipe.pipelining || (got[0].pipe != nil) != chunked || sink.Chunked() != map[bool]int64{true: 1}[chunked] {
			t.Errorf("%s: still pipelines, or chunks %v", off, sink.Chunked())
		}
	}
}

// writeData must put on the wire exactly what net/textproto's DotWriter
// (go-smtp's DATA writer) would, for Herald's CRLF messages and for
// anything else.
func TestWriteDataMatchesDotWriter(t *testing.T) {
	inputs := []string{
		"Subject: x\r\n\r\nbody\r\n",
		".starts with a dot\r\n",
		"a\r\n.\r\n..two\r\n.three\r\nend\r\n",
		"a\r\n.",
		"bare\nline feeds\n.dot\n",
		"mixed\r\nends\n.x\r\n",
		"lone\rcarriage\r\n.return\r\n",
		"no final line break",
		"",
		"\r\n",
		"double\r\r\nreturn\r\n",
		".\r\n.\r\n.\r\n",
		".\r\n",
		strings.Repeat("=2E quoted-printable line of seventy-six characters or so, folded=\r\n.", 400) + "\r\n",
	}
	for _, in := range inputs {
		var want, got bytes.Buffer
		dw := textproto.NewWriter(bufio.NewWriter(&want)).DotWriter()
		dw.Write([]byte(in))
		dw.Close()
		bw := bufio.NewWriter(&got)
		if err := writeData(bw, []byte(in)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%q:\n got %q\nwant %q", in, got.Bytes(), want.Bytes())
		}
	}
}
