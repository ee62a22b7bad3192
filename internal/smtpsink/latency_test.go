package smtpsink

import (
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// took runs fn and fails the test if it took less than least: with an RTT,
// no exchange can be answered sooner. (A lower bound only: a busy machine
// makes exchanges slower, never faster.)
func took(t *testing.T, what string, least time.Duration, fn func() error) {
	t.Helper()
	start := time.Now()
	if err := fn(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if got := time.Since(start); got < least {
		t.Errorf("%s answered after %s, sooner than the round trip of %s", what, got, least)
	}
}

func TestRTTDelaysEveryExchange(t *testing.T) {
	const rtt = 40 * time.Millisecond
	s := start(t, Options{Faults: Faults{RTT: rtt}})
	c := dial(t, s)
	// go-smtp's client reads the greeting with its first command: two
	// exchanges, two round trips.
	took(t, "greeting and EHLO", 2*rtt, func() error { return c.Hello("client.example") })
	took(t, "MAIL", rtt, func() error { return c.Mail("f@x.example", nil) })
	took(t, "RCPT", rtt, func() error { return c.Rcpt("r@y.example", nil) })
	var w interface {
		Write([]byte) (int, error)
		Close() error
	}
	took(t, "DATA", rtt, func() (err error) {
		w, err = c.Data()
		return err
	})
	if _, err := w.Write([]byte(msg("far@x"))); err != nil {
		t.Fatal(err)
	}
	took(t, "end of DATA", rtt, w.Close)
	if s.Count() != 1 || s.Messages()[0].MessageID != "far@x" {
		t.Fatalf("count %d", s.Count())
	}
	// The server closes its end right after answering QUIT: the answer
	// still reaches the client, one round trip later.
	took(t, "QUIT", rtt, c.Quit)
}

// A pipelining client writes its commands without waiting; the sink must
// then answer them all in one round trip, not one round trip each. With a
// round trip of an hour the sink takes a whole pipelined session, message
// included, while not one byte of its answers has reached the client yet:
// the delay is in flight, never in the session.
func TestRTTIsInFlightSoPipeliningPaysItOnce(t *testing.T) {
	s, err := Start(Options{Faults: Faults{RTT: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	batch := "EHLO client.example\r\nMAIL FROM:<f@x.example>\r\nRCPT TO:<r@y.example>\r\nDATA\r\n" +
		msg("piped@x") + ".\r\n"
	if _, err := raw.Write([]byte(batch)); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); s.Count() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the sink never took the pipelined message: it holds sessions instead of replies")
		}
	}
	raw.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if n, err := raw.Read(make([]byte, 512)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the client read %d bytes (%v) before the round trip was over", n, err)
	}
	// Closing drops what is in flight instead of waiting an hour.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := s.OpenConnections(); n != 0 {
		t.Errorf("%d connections open after Close", n)
	}
}

func TestRTTOnlyDelaysWhatIsWrittenAfterIt(t *testing.T) {
	s := start(t, Options{})
	c := dial(t, s)
	if err := c.SendMail("f@x.example", []string{"r@y.example"}, strings.NewReader(msg("near@x"))); err != nil {
		t.Fatal(err)
	}
	s.SetFaults(Faults{RTT: 30 * time.Millisecond})
	took(t, "MAIL after the RTT was set", 30*time.Millisecond, func() error { return c.Mail("f@x.example", nil) })
	s.SetFaults(Faults{})
	if err := c.Rcpt("r@y.example", nil); err != nil {
		t.Fatal(err)
	}
}

func TestHoldCountsConcurrentTransactions(t *testing.T) {
	hold := make(chan struct{})
	s := start(t, Options{Faults: Faults{Hold: hold}})
	const n = 3
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		c := dial(t, s)
		wg.Go(func() {
			errs <- c.SendMail("f@x.example", []string{"r@y.example"}, strings.NewReader(msg("held@x")))
		})
	}
	for deadline := time.Now().Add(20 * time.Second); s.Held() < n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d MAIL commands held", s.Held(), n)
		}
	}
	if s.Count() != 0 || s.OpenConnections() != n || s.PeakConnections() != n {
		t.Errorf("while held: count %d, open %d, peak %d", s.Count(), s.OpenConnections(), s.PeakConnections())
	}
	close(hold)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if s.Count() != n || s.Held() != 0 {
		t.Errorf("after release: count %d, held %d", s.Count(), s.Held())
	}
}
