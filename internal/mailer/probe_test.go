package mailer

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"

	"github.com/herald-news/herald/internal/smtpsink"
)

// TestProbeLoginOnlyRelay: a relay that offers only AUTH LOGIN passes the
// test, as it takes mail, and wrong credentials fail it in words.
func TestProbeLoginOnlyRelay(t *testing.T) {
	sink := startSink(t, smtpsink.Options{Username: "desk", Password: "s3cret", AuthMechs: []string{sasl.Login}})
	rc := relayFor(t, "smtp://desk:s3cret@"+sink.Addr())
	if err := Probe(context.Background(), rc); err != nil {
		t.Fatalf("probe of a LOGIN-only relay: %v", err)
	}
	if sink.Auths() != 1 {
		t.Fatalf("%d authentications, want 1", sink.Auths())
	}
	m := newMailer(t, Config{Relays: []RelayConfig{rc}})
	if err := send(t, m, "ada@example.com"); err != nil {
		t.Fatalf("send through the same relay: %v", err)
	}
	bad := relayFor(t, "smtp://desk:wrong@"+sink.Addr())
	err := Probe(context.Background(), bad)
	if err == nil || !strings.Contains(err.Error(), "refused the username or password") {
		t.Fatalf("wrong password: %v", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Fatalf("the error shows the password: %v", err)
	}
}

// TestProbeNoMechanism: a relay offering no mechanism Herald speaks fails
// the test as it would fail sending.
func TestProbeNoMechanism(t *testing.T) {
	sink := startSink(t, smtpsink.Options{Username: "desk", Password: "s3cret", AuthMechs: []string{"CRAM-MD5"}})
	err := Probe(context.Background(), relayFor(t, "smtp://desk:s3cret@"+sink.Addr()))
	if err == nil || !strings.Contains(err.Error(), "neither PLAIN nor LOGIN") {
		t.Fatalf("probe: %v", err)
	}
}

// TestProbeRefusesPasswordInClearText: the test refuses what sending
// refuses, a password to a host that is not loopback without TLS, before
// dialling anything.
func TestProbeRefusesPasswordInClearText(t *testing.T) {
	rc := RelayConfig{Host: "mail.example.com", Port: 25, TLS: TLSNone, Username: "desk", Password: "s3cret"}
	err := Probe(context.Background(), rc)
	if err == nil || !strings.Contains(err.Error(), "tls=none is only allowed for loopback") {
		t.Fatalf("probe: %v", err)
	}
}

// TestProbeSilentServerTimesOut: a port that accepts and never speaks
// fails the test when the deadline comes instead of holding the request.
func TestProbeSilentServerTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c // held open, never written to
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err = Probe(ctx, relayFor(t, "smtp://"+ln.Addr().String()))
	if err == nil || !strings.Contains(err.Error(), "did not answer in time") {
		t.Fatalf("probe of a silent port: %v", err)
	}
	select {
	case c := <-accepted:
		c.Close()
	default:
		t.Fatal("the probe never connected")
	}
}

// TestProbeNothingListening: a closed port fails at once, in words.
func TestProbeNothingListening(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	err = Probe(context.Background(), relayFor(t, "smtp://"+addr))
	if err == nil || !strings.Contains(err.Error(), "could not connect") {
		t.Fatalf("probe of a closed port: %v", err)
	}
}
