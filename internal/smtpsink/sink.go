// Package smtpsink is an in-process SMTP server (emersion/go-smtp) listening
// on a loopback port. Tests use it as a real peer for Herald's mailer, and
// `herald bench send` uses it as the receiving end of a benchmark.
//
// It either captures every message (envelope, Message-ID, raw bytes) or only
// counts them, so a benchmark holds no message in memory. Faults can be set
// and changed while it runs: a fixed reply for chosen recipients or for an
// exact fraction of messages, a connection dropped in the middle of DATA,
// delayed replies, refused authentication, MAIL commands held until the test
// lets them go, and a network round-trip time (RTT) that puts the sink at a
// distance from its clients.
package smtpsink

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-message/textproto"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options configure a sink.
type Options struct {
	// Addr is the loopback address to listen on (default 127.0.0.1:0, a
	// free port).
	Addr string
	// CountOnly discards message bodies: Messages stays empty and only the
	// counters move.
	CountOnly bool
	// EnvelopeOnly keeps each message's envelope and Message-ID but not its
	// bytes (Raw stays nil), for tests that count who got what across many
	// thousands of messages.
	EnvelopeOnly bool
	// Username and Password, when Username is set, make AUTH (PLAIN and
	// LOGIN) mandatory before MAIL.
	Username string
	Password string
	// AuthMechs are the mechanisms offered (default PLAIN and LOGIN).
	AuthMechs []string
	// TLS enables STARTTLS with this configuration.
	TLS *tls.Config
	// ImplicitTLS makes the listener speak TLS from the first byte (needs TLS).
	ImplicitTLS bool
	// NoPipelining leaves PIPELINING (RFC 2920) out of the EHLO reply, as
	// a relay that does not offer it would. go-smtp's server always offers
	// it (and handles pipelined commands). The sink removes the line from
	// what it writes above any TLS layer: with plain text and ImplicitTLS;
	// with STARTTLS only the EHLO before the handshake loses it.
	NoPipelining bool
	// NoChunking leaves CHUNKING (RFC 3030, the BDAT command) out of the
	// EHLO reply, as a relay that does not offer it would. go-smtp's
	// server always offers it (and takes BDAT whether offered or not);
	// the line goes the way NoPipelining's does, with the same reach.
	NoChunking bool
	// MaxMessageBytes is the largest message the sink takes (default 64
	// MiB), offered as SIZE in the EHLO reply: a larger SIZE= at MAIL, or
	// more bytes in DATA or BDAT chunks, is refused with 552 5.3.4.
	MaxMessageBytes int64
	// Faults are the initial faults; see SetFaults.
	Faults Faults
}

// Stage is the point of an SMTP transaction where a fault applies.
type Stage int

// Stages a fault can hit.
const (
	AtRcpt Stage = iota // answer RCPT TO
	AtData              // answer the end of DATA
)

// Rule is one injected fault. A rule matches a message when Recipient is
// empty or equal to the recipient, and then, when Fraction is set, only for
// that exact share of the matching messages (deterministic: with 0.25 every
// fourth matching message). Code 0 with Drop false means "accept".
type Rule struct {
	Recipient string
	Fraction  float64
	Stage     Stage
	Code      int    // e.g. 451 or 550
	Enhanced  [3]int // e.g. {5, 1, 1}; zero sends the class alone (5.0.0)
	Text      string
	// Drop closes the connection instead of answering; at AtData it does so
	// after reading part of the message, i.e. mid-DATA.
	Drop bool

	seen atomic.Int64
}

// Faults is the set of faults the sink applies.
type Faults struct {
	Rules []*Rule
	// Delay holds back every reply to MAIL, RCPT and DATA.
	Delay time.Duration
	// RTT is the network round-trip time between the sink and its
	// clients: everything the sink writes (the greeting, the replies to
	// EHLO, MAIL, RCPT, DATA and the end of DATA, TLS handshake flights)
	// reaches the client RTT after it was written. Replies travel in the
	// background, not by holding the session, so a client that pipelines
	// several commands waits one RTT for all their replies, as it would
	// over a network; a client that waits for each reply pays one RTT per
	// command. A change applies to replies written after it.
	RTT time.Duration
	// Hold, when set, keeps every MAIL command waiting until the channel
	// is closed (or the sink closes); Held counts the commands waiting.
	// Tests use it to see how many transactions a client runs at once.
	Hold <-chan struct{}
	// RejectAuth answers every AUTH attempt with 535 5.7.8.
	RejectAuth bool
}

// Message is one captured message.
type Message struct {
	From      string
	To        []string
	MessageID string // without angle brackets, "" if absent
	Raw       []byte
}

// Sink is a running SMTP server. Its methods are safe for concurrent use.
type Sink struct {
	opts     Options
	server   *smtp.Server
	listener net.Listener
	done     chan struct{}
	quit     chan struct{} // closed by Close: connections drop what is in flight
	quitOnce sync.Once

	mu       sync.Mutex
	messages []Message
	faults   Faults

	count       atomic.Int64
	bytes       atomic.Int64
	conns       atomic.Int64
	open        atomic.Int64
	peak        atomic.Int64
	held        atomic.Int64
	rejected    atomic.Int64
	authenticat atomic.Int64
	pipelined   atomic.Int64
	chunked     atomic.Int64
}

// Start listens on 127.0.0.1 on a free port and serves until Close.
func Start(opts Options) (*Sink, error) {
	if opts.ImplicitTLS && opts.TLS == nil {
		return nil, errors.New("smtpsink: ImplicitTLS needs a TLS config")
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if host, _, err := net.SplitHostPort(addr); err != nil || host != "127.0.0.1" {
		return nil, fmt.Errorf("smtpsink: %q is not a 127.0.0.1 address", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("smtpsink: listen: %w", err)
	}
	s := &Sink{opts: opts, faults: opts.Faults, done: make(chan struct{}), quit: make(chan struct{})}
	s.listener = &countingListener{Listener: l, sink: s}
	if opts.ImplicitTLS {
		s.listener = tls.NewListener(s.listener, opts.TLS)
	}
	s.listener = &textListener{Listener: s.listener, sink: s}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "sink.localhost"
	srv.AllowInsecureAuth = true
	srv.MaxRecipients = 100
	srv.MaxMessageBytes = 64 << 20
	if opts.MaxMessageBytes > 0 {
		srv.MaxMessageBytes = opts.MaxMessageBytes
	}
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.ErrorLog = log.New(io.Discard, "", 0)
	if opts.TLS != nil && !opts.ImplicitTLS {
		srv.TLSConfig = opts.TLS
	}
	s.server = srv
	go func() {
		defer close(s.done)
		_ = srv.Serve(s.listener) // returns when Close closes the listener
	}()
	return s, nil
}

// Addr is the host:port the sink listens on.
func (s *Sink) Addr() string { return s.listener.Addr().String() }

// URL is a relay URL for Herald's mailer pointing at the sink.
func (s *Sink) URL() string {
	scheme, mode := "smtp", "none"
	switch {
	case s.opts.ImplicitTLS:
		mode = "tls"
	case s.opts.TLS != nil:
		mode = "starttls"
	}
	user := ""
	if s.opts.Username != "" {
		user = s.opts.Username + ":" + s.opts.Password + "@"
	}
	return fmt.Sprintf("%s://%s%s?tls=%s", scheme, user, s.Addr(), mode)
}

// SetFaults replaces the faults; sessions already open see the change at
// their next command.
func (s *Sink) SetFaults(f Faults) {
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
}

// Count is the number of messages accepted (250 after DATA).
func (s *Sink) Count() int64 { return s.count.Load() }

// Bytes is the total size of accepted messages.
func (s *Sink) Bytes() int64 { return s.bytes.Load() }

// Connections is the number of TCP connections accepted so far.
func (s *Sink) Connections() int64 { return s.conns.Load() }

// OpenConnections is the number of connections open now.
func (s *Sink) OpenConnections() int64 { return s.open.Load() }

// PeakConnections is the most connections that were open at once since the
// sink started (or since Reset).
func (s *Sink) PeakConnections() int64 { return s.peak.Load() }

// Held is the number of MAIL commands waiting on Faults.Hold now.
func (s *Sink) Held() int64 { return s.held.Load() }

// Rejected is the number of RCPT or DATA commands answered with a fault.
func (s *Sink) Rejected() int64 { return s.rejected.Load() }

// Pipelined is the number of times a client's MAIL, RCPT and DATA (or
// BDAT) arrived in one piece, written together without waiting for replies (RFC 2920),
// as seen above any TLS layer (plain text and ImplicitTLS sessions).
func (s *Sink) Pipelined() int64 { return s.pipelined.Load() }

// Chunked is the number of messages accepted that came in BDAT chunks
// (RFC 3030 CHUNKING) rather than after DATA.
func (s *Sink) Chunked() int64 { return s.chunked.Load() }

// Auths is the number of successful authentications.
func (s *Sink) Auths() int64 { return s.authenticat.Load() }

// Messages returns a copy of the captured messages in arrival order
// (always empty with CountOnly).
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Reset forgets captured messages and zeroes the counters.
func (s *Sink) Reset() {
	s.mu.Lock()
	s.messages = nil
	s.mu.Unlock()
	s.count.Store(0)
	s.bytes.Store(0)
	s.conns.Store(0)
	s.peak.Store(s.open.Load())
	s.rejected.Store(0)
	s.authenticat.Store(0)
	s.pipelined.Store(0)
	s.chunked.Store(0)
}

// Close stops the server and closes every open connection.
func (s *Sink) Close() error {
	s.quitOnce.Do(func() { close(s.quit) })
	err := s.server.Close()
	// Serve may not have registered the listener yet; closing it here
	// makes sure Serve returns either way.
	s.listener.Close()
	<-s.done
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

func (s *Sink) currentFaults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// match returns the first rule that fires for rcpt at stage.
func (f *Faults) match(stage Stage, rcpt string) *Rule {
	for _, r := range f.Rules {
		if r.Stage != stage || (r.Recipient != "" && !strings.EqualFold(r.Recipient, rcpt)) {
			continue
		}
		if r.Fraction > 0 {
			n := r.seen.Add(1)
			if int64(float64(n)*r.Fraction) == int64(float64(n-1)*r.Fraction) {
				continue
			}
		}
		return r
	}
	return nil
}

func (r *Rule) err() error {
	return &smtp.SMTPError{Code: r.Code, EnhancedCode: smtp.EnhancedCode(r.Enhanced), Message: r.text()}
}

func (r *Rule) text() string {
	if r.Text != "" {
		return r.Text
	}
	return "injected fault"
}

func (s *Sink) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{sink: s, conn: c}, nil
}

type session struct {
	sink   *Sink
	conn   *smtp.Conn
	authed bool
	from   string
	to     []string
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string {
	if ss.sink.opts.Username == "" {
		return nil
	}
	if len(ss.sink.opts.AuthMechs) > 0 {
		return ss.sink.opts.AuthMechs
	}
	return []string{sasl.Plain, sasl.Login}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if ss.sink.currentFaults().RejectAuth || user != ss.sink.opts.Username || pass != ss.sink.opts.Password {
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		ss.sink.authenticat.Add(1)
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (ss *session) delay(f Faults) {
	if f.Delay > 0 {
		time.Sleep(f.Delay)
	}
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	f := ss.sink.currentFaults()
	if f.Hold != nil {
		ss.sink.held.Add(1)
		select {
		case <-f.Hold:
		case <-ss.sink.quit:
		}
		ss.sink.held.Add(-1)
	}
	ss.delay(f)
	if ss.sink.opts.Username != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	ss.to = ss.to[:0]
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	f := ss.sink.currentFaults()
	ss.delay(f)
	if r := f.match(AtRcpt, to); r != nil {
		ss.sink.rejected.Add(1)
		if r.Drop {
			ss.conn.Conn().Close()
			return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "dropped"}
		}
		if r.Code != 0 {
			return r.err()
		}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	// go-smtp hands the chunks of a BDAT transaction to Data through a
	// pipe, and the dot-decoded text after DATA through its own reader.
	_, chunked := r.(*io.PipeReader)
	f := ss.sink.currentFaults()
	rcpt := ""
	if len(ss.to) > 0 {
		rcpt = ss.to[0]
	}
	if rule := f.match(AtData, rcpt); rule != nil {
		ss.sink.rejected.Add(1)
		if rule.Drop {
			// Read a little of the message, then cut the line: the client
			// is left mid-DATA.
			_, _ = io.CopyN(io.Discard, r, 512)
			ss.conn.Conn().Close()
			return errors.New("connection dropped by fault injection")
		}
		if rule.Code != 0 {
			_, _ = io.Copy(io.Discard, r)
			ss.delay(f)
			return rule.err()
		}
	}
	if ss.sink.opts.CountOnly {
		n, err := io.Copy(io.Discard, r)
		if err != nil {
			return err
		}
		ss.delay(f)
		ss.sink.accepted(n, chunked)
		return nil
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.delay(f)
	msg := Message{From: ss.from, To: append([]string(nil), ss.to...), Raw: raw}
	if h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw))); err == nil {
		msg.MessageID = strings.Trim(strings.TrimSpace(h.Get("Message-Id")), "<>")
	}
	if ss.sink.opts.EnvelopeOnly {
		msg.Raw = nil
	}
	ss.sink.mu.Lock()
	ss.sink.messages = append(ss.sink.messages, msg)
	ss.sink.mu.Unlock()
	ss.sink.accepted(int64(len(raw)), chunked)
	return nil
}

// accepted counts a message of n bytes taken.
func (s *Sink) accepted(n int64, chunked bool) {
	s.bytes.Add(n)
	if chunked {
		s.chunked.Add(1)
	}
	s.count.Add(1)
}

func (ss *session) Reset() {
	ss.from = ""
	ss.to = ss.to[:0]
}

func (ss *session) Logout() error { return nil }

// loginServer is the server side of the LOGIN mechanism (go-sasl has only
// the client side): ask for the user name unless it came as the initial
// response, then for the password.
type loginServer struct {
	check func(user, pass string) error
	user  string
	step  int
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step = 1
		if response == nil {
			return []byte("Username:"), false, nil
		}
		fallthrough
	case 1:
		l.user = string(response)
		l.step = 2
		return []byte("Password:"), false, nil
	case 2:
		l.step = 3
		return nil, true, l.check(l.user, string(response))
	}
	return nil, true, sasl.ErrUnexpectedClientResponse
}

// countingListener counts connections and puts each at the distance the
// faults' RTT says.
type countingListener struct {
	net.Listener
	sink *Sink
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	s := l.sink
	s.conns.Add(1)
	raise(&s.peak, s.open.Add(1))
	return newLatencyConn(c, func() time.Duration { return s.currentFaults().RTT }, s.quit, &s.open), nil
}

// raise sets v to n if n is larger.
func raise(v *atomic.Int64, n int64) {
	for {
		old := v.Load()
		if n <= old || v.CompareAndSwap(old, n) {
			return
		}
	}
}

// textListener sees each session's text above any TLS layer: it counts
// pipelined batches and, with NoPipelining and NoChunking, takes
// PIPELINING and CHUNKING out of the EHLO reply.
type textListener struct {
	net.Listener
	sink *Sink
}

func (l *textListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &textConn{Conn: c, sink: l.sink}, nil
}

type textConn struct {
	net.Conn
	sink *Sink
}

// pipeliningLine and chunkingLine are how go-smtp's server writes the
// capabilities: one line a write, never the last line of the EHLO reply
// (SIZE always follows them).
var (
	pipeliningLine = []byte("250-PIPELINING\r\n")
	chunkingLine   = []byte("250-CHUNKING\r\n")
)

func (c *textConn) Write(p []byte) (int, error) {
	if c.sink.opts.NoPipelining && bytes.Equal(p, pipeliningLine) ||
		c.sink.opts.NoChunking && bytes.Equal(p, chunkingLine) {
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// Read counts a batch when one read holds a MAIL command and the DATA or
// BDAT command after it: a client that waits for replies cannot send them
// together.
func (c *textConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		if i := bytes.Index(p[:n], []byte("MAIL FROM:")); i >= 0 &&
			(bytes.Contains(p[i:n], []byte("\r\nDATA\r\n")) || bytes.Contains(p[i:n], []byte("\r\nBDAT "))) {
			c.sink.pipelined.Add(1)
		}
	}
	return n, err
}
