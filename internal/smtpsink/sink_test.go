package smtpsink

import (
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

func start(t *testing.T, opts Options) *Sink {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func dial(t *testing.T, s *Sink) *smtp.Client {
	t.Helper()
	c, err := smtp.Dial(s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func msg(id string) string {
	return "From: a@x.example\r\nMessage-ID: <" + id + ">\r\nSubject: hi\r\n\r\nbody\r\n"
}

func TestCaptureAndCount(t *testing.T) {
	s := start(t, Options{})
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") || !strings.HasSuffix(s.URL(), "?tls=none") {
		t.Fatalf("addr %s url %s", s.Addr(), s.URL())
	}
	c := dial(t, s)
	for i := range 3 {
		if err := c.SendMail("from@x.example", []string{fmt.Sprintf("r%d@y.example", i)}, strings.NewReader(msg(fmt.Sprintf("m%d@x", i)))); err != nil {
			t.Fatal(err)
		}
	}
	got := s.Messages()
	if len(got) != 3 || s.Count() != 3 || s.Connections() != 1 {
		t.Fatalf("%d messages, count %d, conns %d", len(got), s.Count(), s.Connections())
	}
	if got[1].MessageID != "m1@x" || got[1].To[0] != "r1@y.example" || got[1].From != "from@x.example" || !strings.HasSuffix(string(got[1].Raw), "body\r\n") {
		t.Errorf("captured %+v", got[1])
	}
	s.Reset()
	if s.Count() != 0 || len(s.Messages()) != 0 {
		t.Error("Reset kept state")
	}

	counting := start(t, Options{CountOnly: true})
	cc := dial(t, counting)
	for range 2 {
		if err := cc.SendMail("f@x.example", []string{"r@y.example"}, strings.NewReader(msg("x@y"))); err != nil {
			t.Fatal(err)
		}
	}
	if counting.Count() != 2 || len(counting.Messages()) != 0 || counting.Bytes() != int64(2*len(msg("x@y"))) {
		t.Errorf("count-only: count %d, held %d, bytes %d", counting.Count(), len(counting.Messages()), counting.Bytes())
	}
}

func TestFaults(t *testing.T) {
	s := start(t, Options{Faults: Faults{Rules: []*Rule{
		{Recipient: "gone@y.example", Stage: AtRcpt, Code: 550, Enhanced: [3]int{5, 1, 1}, Text: "no such user"},
		{Fraction: 0.25, Stage: AtRcpt, Code: 451, Enhanced: [3]int{4, 3, 0}},
	}}})
	c := dial(t, s)
	err := c.SendMail("f@x.example", []string{"gone@y.example"}, strings.NewReader(msg("a@b")))
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 550 || se.EnhancedCode != (smtp.EnhancedCode{5, 1, 1}) || se.Message != "no such user" {
		t.Fatalf("gone: %v", err)
	}
	c.Reset()
	rejected := 0
	for i := range 8 {
		err := c.SendMail("f@x.example", []string{fmt.Sprintf("r%d@y.example", i)}, strings.NewReader(msg("a@b")))
		if errors.As(err, &se) && se.Code == 451 {
			rejected++
			c.Reset()
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if rejected != 2 || s.Count() != 6 {
		t.Errorf("fraction 0.25 of 8 rejected %d, accepted %d", rejected, s.Count())
	}

	s.SetFaults(Faults{Rules: []*Rule{{Stage: AtData, Drop: true}}})
	err = c.SendMail("f@x.example", []string{"r@y.example"}, strings.NewReader(msg("a@b")+strings.Repeat("filler line\r\n", 500)))
	if err == nil || errors.As(err, &se) {
		t.Errorf("drop mid-DATA gave %v, want a connection error", err)
	}
	if s.Count() != 6 {
		t.Errorf("dropped message counted")
	}
}

func TestAuth(t *testing.T) {
	s := start(t, Options{Username: "u", Password: "p"})
	c := dial(t, s)
	err := c.SendMail("f@x.example", []string{"r@y.example"}, strings.NewReader(msg("a@b")))
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 502 {
		t.Fatalf("unauthenticated MAIL: %v", err)
	}
	for _, mech := range []sasl.Client{sasl.NewPlainClient("", "u", "p"), sasl.NewLoginClient("u", "p")} {
		c := dial(t, s)
		if err := c.Auth(mech); err != nil {
			t.Fatal(err)
		}
		if err := c.SendMail("f@x.example", []string{"r@y.example"}, strings.NewReader(msg("a@b"))); err != nil {
			t.Fatal(err)
		}
	}
	if s.Auths() != 2 || s.Count() != 2 {
		t.Errorf("auths %d count %d", s.Auths(), s.Count())
	}
	s.SetFaults(Faults{RejectAuth: true})
	if err := dial(t, s).Auth(sasl.NewPlainClient("", "u", "p")); !errors.As(err, &se) || se.Code != 535 {
		t.Errorf("RejectAuth: %v", err)
	}
}

func TestOnlyLoopback(t *testing.T) {
	if _, err := Start(Options{Addr: "0.0.0.0:0"}); err == nil {
		t.Error("listened on all interfaces")
	}
}

func TestCloseTwice(t *testing.T) {
	s, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestPipeliningOfferedUnlessTurnedOff(t *testing.T) {
	for _, off := range []bool{false, true} {
		s := start(t, Options{NoPipelining: off})
		c := dial(t, s)
		if err := c.Hello("client.localhost"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := c.Extension("PIPELINING"); ok == off {
			t.Errorf("NoPipelining %v: PIPELINING offered %v", off, ok)
		}
		if ok, _ := c.Extension("8BITMIME"); !ok {
			t.Errorf("NoPipelining %v: the rest of the EHLO reply is lost", off)
		}
		if err := c.SendMail("a@x.example", []string{"b@y.example"}, strings.NewReader(msg("p@x"))); err != nil {
			t.Fatal(err)
		}
		if s.Count() != 1 || s.Pipelined() != 0 {
			t.Errorf("count %d, pipelined %d for a client that waits for each reply", s.Count(), s.Pipelined())
		}
	}
}

// CHUNKING is offered unless turned off, and a message sent in BDAT
// chunks is counted as chunked and arrives with its bytes as sent.
func TestChunkingOfferedUnlessTurnedOff(t *testing.T) {
	for _, off := range []bool{false, true} {
		s := start(t, Options{NoChunking: off})
		c := dial(t, s)
		if err := c.Hello("client.localhost"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := c.Extension("CHUNKING"); ok == off {
			t.Errorf("NoChunking %v: CHUNKING offered %v", off, ok)
		}
		if ok, _ := c.Extension("PIPELINING"); !ok {
			t.Errorf("NoChunking %v: PIPELINING lost", off)
		}
		if err := c.SendMail("a@x.example", []string{"b@y.example"}, strings.NewReader(msg("d@x"))); err != nil {
			t.Fatal(err)
		}
		if s.Count() != 1 || s.Chunked() != 0 {
			t.Errorf("after DATA: count %d, chunked %d", s.Count(), s.Chunked())
		}
	}
	s := start(t, Options{})
	conn, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	text := textproto.NewConn(conn)
	body := msg("c@x") + ".a line with a dot\r\n"
	// Two chunks, the commands written together with the first.
	fmt.Fprintf(conn, "EHLO client.localhost\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nBDAT 10\r\n%sBDAT %d LAST\r\n%s",
		body[:10], len(body)-10, body[10:])
	for _, want := range []int{220, 250, 250, 250, 250, 250} {
		if _, _, err := text.ReadResponse(want); err != nil {
			t.Fatalf("want %d: %v", want, err)
		}
	}
	msgs := s.Messages()
	if s.Count() != 1 || s.Chunked() != 1 || len(msgs) != 1 || string(msgs[0].Raw) != body || msgs[0].MessageID != "c@x" {
		t.Errorf("count %d, chunked %d, messages %+v", s.Count(), s.Chunked(), msgs)
	}
}
