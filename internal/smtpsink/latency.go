package smtpsink

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// latencyConn is the server's side of one connection as a client at a
// distance sees it: whatever the server writes reaches the client one
// round-trip time later. Writes return at once and the bytes travel in the
// background, so replies written together (a pipelining client's batch of
// MAIL, RCPT and DATA answers) arrive together, one RTT after they were
// written, and never wait for each other. Putting the whole round trip on
// the reply leg is the same, for a request and its answer, as splitting it
// between the two directions. Bandwidth is not modelled.
type latencyConn struct {
	net.Conn
	rtt  func() time.Duration // read at every write: faults can change
	quit <-chan struct{}      // closed when the sink closes: drop what is in flight
	open *atomic.Int64        // the sink's count of open connections

	mu       sync.Mutex
	inFlight []flight // oldest first; the head is being delivered
	last     time.Time
	running  bool // a deliver goroutine owns inFlight's head
	closed   bool // the server closed its end
	gone     bool // the socket is closed and counted out
	err      error
}

type flight struct {
	due time.Time
	b   []byte
}

func newLatencyConn(c net.Conn, rtt func() time.Duration, quit <-chan struct{}, open *atomic.Int64) *latencyConn {
	return &latencyConn{Conn: c, rtt: rtt, quit: quit, open: open}
}

// Write sends p straight on while there is no latency and nothing in
// flight; otherwise it queues p to arrive one RTT from now (never before
// bytes written earlier).
func (c *latencyConn) Write(p []byte) (int, error) {
	rtt := c.rtt()
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return 0, net.ErrClosed
	case c.err != nil:
		return 0, c.err
	case rtt <= 0 && len(c.inFlight) == 0:
		return c.Conn.Write(p)
	}
	due := time.Now().Add(max(rtt, 0))
	if due.Before(c.last) {
		due = c.last
	}
	c.last = due
	c.inFlight = append(c.inFlight, flight{due: due, b: append([]byte(nil), p...)})
	if !c.running {
		c.running = true
		go c.deliver()
	}
	return len(p), nil
}

// deliver writes queued bytes to the socket as each becomes due, and
// closes the socket after the last one when the server has closed its end.
// It returns when nothing is left in flight; the next delayed write starts
// it again.
func (c *latencyConn) deliver() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		c.mu.Lock()
		if len(c.inFlight) == 0 {
			c.running = false
			closed := c.closed
			c.mu.Unlock()
			if closed {
				_ = c.closeSocket()
			}
			return
		}
		f := c.inFlight[0]
		c.mu.Unlock()
		if wait := time.Until(f.due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-c.quit:
				c.mu.Lock()
				c.inFlight, c.running = nil, false
				c.mu.Unlock()
				_ = c.closeSocket()
				return
			}
		}
		_, err := c.Conn.Write(f.b)
		c.mu.Lock()
		c.inFlight = c.inFlight[1:]
		if err != nil {
			c.err, c.inFlight = err, nil
		}
		c.mu.Unlock()
	}
}

// Read fails at once after the server closed its end, even while replies
// are still in flight to the client.
func (c *latencyConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return 0, net.ErrClosed
	}
	return c.Conn.Read(p)
}

// Close closes the server's end. Replies still in flight reach the client
// first, as over a network, unless the sink itself is closing.
func (c *latencyConn) Close() error {
	c.mu.Lock()
	first := !c.closed
	c.closed = true
	pending := c.running
	c.mu.Unlock()
	select {
	case <-c.quit:
		pending = false
	default:
	}
	if pending {
		if first {
			// Wake a session blocked reading; deliver closes the socket.
			c.Conn.SetReadDeadline(time.Now())
		}
		return nil
	}
	return c.closeSocket()
}

// closeSocket closes the socket once and counts the connection out.
func (c *latencyConn) closeSocket() error {
	c.mu.Lock()
	gone := c.gone
	c.gone = true
	c.mu.Unlock()
	if gone {
		return nil
	}
	c.open.Add(-1)
	return c.Conn.Close()
}
