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

// modes runs a test against a relay that offers PIPELINING and one that
// does not; the mailer must deliver and classify the same either way.
var modes = []struct {
	name       string
	noPipeline bool
}{{"pipelining", false}, {"no pipelining", true}}

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
			sink := startSink(t, smtpsink.Options{NoPipelining: mode.noPipeline, Faults: smtpsink.Faults{Rules: []*smtpsink.Rule{
				{Recipient: "gone@readers.example", Stage: smtpsink.AtRcpt, Code: 550, Enhanced: [3]int{5, 1, 1}, Text: "no such user"},
				{Recipient: "cut@readers.example", Stage: smtpsink.AtRcpt, Drop: true},
			}}})
			m := newMailer(t, Config{Relays: []RelayConfig{relayFor(t, sink.URL()+"&max_conns=1")}})
			// A refused RCPT in the middle: the relay refuses the DATA
			// sent with it too; the RCPT reply is the verdict, and the
			// next batch starts with RSET on the same session.
			cases := []string{"a@readers.example", "b@readers.example", "gone@readers.example", "c@readers.example", "d@readers.example"}
			for _, to := range cases {
				err := send(t, m, to)
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
			if got := idleConns(t, m); len(got) != 1 || (got[0].pipe != nil) == mode.noPipeline {
				t.Errorf("idle connections %d, pipelining %v", len(got), len(got) == 1 && got[0].pipe != nil)
			}

			// A connection dropped while the batch is in flight: nothing
			// was delivered, so the pooled session counts as stale and the
			// message is tried once more on a fresh one, which drops too:
			// a temporary failure at RCPT. The next message goes out on a
			// third session.
			err := send(t, m, "cut@readers.example")
			var e *Error
			if !errors.As(err, &e) || e.Class != Temporary || e.Stage != StageRcpt {
				t.Fatalf("dropped at RCPT: %v, want a temporary RCPT error", err)
			}
			if err := send(t, m, "e@readers.example"); err != nil {
				t.Fatalf("after the drop: %v", err)
			}
			if sink.Count() != 5 || sink.Connections() != 3 {
				t.Errorf("%d messages over %d connections, want 5 over 3", sink.Count(), sink.Connections())
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
// reconnects for the next message.
func TestReconnectAfterDropMidData(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			sink := startSink(t, smtpsink.Options{NoPipelining: mode.noPipeline, Faults: smtpsink.Faults{Rules: []*smtpsink.Rule{
				{Recipient: "drop@readers.example", Stage: smtpsink.AtData, Drop: true},
			}}})
			m := newMailer(t, Config{Relays: []RelayConfig{relayFor(t, sink.URL()+"&max_conns=1")}})
			if err := send(t, m, "a@readers.example"); err != nil {
				t.Fatal(err)
			}
			err := m.Send(context.Background(), Envelope{From: "b@ledger.example", To: "drop@readers.example"},
				[]byte(strings.Repeat("x", 4000)+"\r\n"))
			var e *Error
			if !errors.As(err, &e) || e.Class != Temporary || e.Stage != StageData || e.failover {
				t.Fatalf("dropped mid-DATA: %v, want a temporary DATA error without failover", err)
			}
			if err := send(t, m, "b@readers.example"); err != nil {
				t.Fatal(err)
			}
			if sink.Count() != 2 || sink.Connections() != 2 {
				t.Errorf("%d messages over %d connections", sink.Count(), sink.Connections())
			}
		})
	}
}

// A refused MAIL (here: the relay wants AUTH we did not give) is the
// verdict of the batch, not the RCPT and DATA refusals that follow it.
func TestPipelinedRefusedMail(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			sink := startSink(t, smtpsink.Options{NoPipelining: mode.noPipeline, Username: "u", Password: "p"})
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
	// pipelining=false in the relay URL keeps to one command a round trip.
	rc = relayFor(t, sink.URL()+"&pipelining=false")
	rc.TLSConfig = &tls.Config{RootCAs: roots}
	m = newMailer(t, Config{Relays: []RelayConfig{rc}})
	if err := send(t, m, "c@readers.example"); err != nil {
		t.Fatal(err)
	}
	if got := idleConns(t, m); len(got) != 1 || got[0].pipe != nil {
		t.Error("pipelining=false still pipelines")
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
