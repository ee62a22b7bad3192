package mailer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Timeouts bound every step of an SMTP session.
type Timeouts struct {
	// Connect covers dial, TLS handshake, greeting, EHLO, STARTTLS and AUTH.
	Connect time.Duration
	// Command covers each of MAIL, RCPT, DATA, RSET and QUIT.
	Command time.Duration
	// Data covers writing the message and waiting for the final reply.
	Data time.Duration
}

func (t *Timeouts) setDefaults() {
	if t.Connect <= 0 {
		t.Connect = 30 * time.Second
	}
	if t.Command <= 0 {
		t.Command = time.Minute
	}
	if t.Data <= 0 {
		t.Data = 2 * time.Minute
	}
}

// conn is one SMTP session kept open across messages.
type conn struct {
	raw       net.Conn // the TCP connection under any TLS layer
	client    *smtp.Client
	sent      int
	lastUsed  time.Time
	needReset bool // a transaction failed half-way: RSET before reuse
	// broken: the session broke after a reply that was the verdict on its
	// message; it is not pooled again.
	broken bool
	// pipe drives transactions when the relay offers PIPELINING (two round
	// trips a message) or CHUNKING (one with PIPELINING, three without);
	// nil otherwise (go-smtp's client, four round trips).
	pipe *session
}

// pool holds the open connections to one relay.
type pool struct {
	cfg      *RelayConfig
	timeouts Timeouts
	idleFor  time.Duration

	mu      sync.Mutex
	idle    []*conn
	open    int // idle + busy + being dialled
	max     int
	closed  bool
	changed chan struct{} // closed and replaced whenever a slot may have freed
}

func newPool(cfg *RelayConfig, t Timeouts, idleFor time.Duration) *pool {
	return &pool{cfg: cfg, timeouts: t, idleFor: idleFor, max: cfg.MaxConns, changed: make(chan struct{})}
}

func (p *pool) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// get returns an idle connection, dials a new one when under the cap, or
// waits for one to come back. reused tells the caller the connection has
// carried mail before (so it may have gone stale).
func (p *pool) get(ctx context.Context, now time.Time) (c *conn, reused bool, err error) {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, false, errors.New("mailer closed")
		}
		for len(p.idle) > 0 {
			c = p.idle[len(p.idle)-1]
			p.idle = p.idle[:len(p.idle)-1]
			if p.idleFor > 0 && now.Sub(c.lastUsed) > p.idleFor {
				p.open--
				go c.quit()
				continue
			}
			p.mu.Unlock()
			return c, true, nil
		}
		if p.open < p.max {
			p.open++
			p.mu.Unlock()
			c, err = p.dial(ctx)
			if err != nil {
				p.mu.Lock()
				p.open--
				p.notifyLocked()
				p.mu.Unlock()
				return nil, false, err
			}
			return c, false, nil
		}
		ch := p.changed
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
}

// put returns a healthy connection for reuse.
func (p *pool) put(c *conn, now time.Time) {
	c.lastUsed = now
	p.mu.Lock()
	if p.closed || p.open > p.max || (p.cfg.MaxPerConn > 0 && c.sent >= p.cfg.MaxPerConn) {
		p.open--
		p.notifyLocked()
		p.mu.Unlock()
		go c.quit()
		return
	}
	p.idle = append(p.idle, c)
	p.notifyLocked()
	p.mu.Unlock()
}

// dropIdle closes every idle connection and frees their slots.
func (p *pool) dropIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.open -= len(idle)
	p.notifyLocked()
	p.mu.Unlock()
	for _, c := range idle {
		c.raw.Close()
	}
}

// discard closes a broken connection and frees its slot.
func (p *pool) discard(c *conn) {
	c.raw.Close()
	p.mu.Lock()
	p.open--
	p.notifyLocked()
	p.mu.Unlock()
}

func (p *pool) setMax(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.max = n
	for p.open > p.max && len(p.idle) > 0 {
		c := p.idle[0]
		p.idle = p.idle[1:]
		p.open--
		go c.quit()
	}
	p.notifyLocked()
}

func (p *pool) stats() (open, idle, max int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.open, len(p.idle), p.max
}

func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	idle := p.idle
	p.idle = nil
	p.open -= len(idle)
	p.notifyLocked()
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range idle {
		wg.Go(c.quit)
	}
	wg.Wait()
}

// dial opens and prepares a session: TLS as configured, EHLO, AUTH. The
// whole setup is bounded by Timeouts.Connect and by ctx.
func (p *pool) dial(ctx context.Context) (*conn, error) {
	cfg := p.cfg
	ctx, cancel := context.WithTimeout(ctx, p.timeouts.Connect)
	defer cancel()
	d := net.Dialer{}
	raw, err := d.DialContext(ctx, "tcp", cfg.Addr())
	if err != nil {
		return nil, err
	}
	// go-smtp has no context: closing the socket when ctx ends aborts
	// whatever step the setup is blocked in.
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	c, err := p.setup(raw)
	if !stop() {
		if c != nil {
			c.client.Close()
		}
		if err == nil || ctx.Err() != nil {
			err = fmt.Errorf("connection setup: %w", ctx.Err())
		}
		return nil, err
	}
	if err != nil {
		raw.Close()
		return nil, err
	}
	return c, nil
}

func (p *pool) setup(raw net.Conn) (*conn, error) {
	cfg := p.cfg
	tlsConfig := cfg.TLSConfig
	if tlsConfig == nil {
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if tlsConfig.ServerName == "" {
		tlsConfig = tlsConfig.Clone()
		tlsConfig.ServerName = cfg.Host
	}
	plain := raw // the connection SMTP's text travels on
	switch cfg.TLS {
	case TLSImplicit:
		tc := tls.Client(raw, tlsConfig)
		if err := tc.Handshake(); err != nil {
			return nil, &setupError{stepTLS, fmt.Errorf("tls handshake: %w", err)}
		}
		plain = tc
	case TLSStartTLS:
		tc, err := startTLS(raw, tlsConfig, cfg.HelloName)
		if err != nil {
			return nil, &setupError{stepTLS, fmt.Errorf("starttls: %w", err)}
		}
		plain = tc
	}
	client := smtp.NewClient(plain)
	client.CommandTimeout = p.timeouts.Command
	client.SubmissionTimeout = p.timeouts.Data
	if err := client.Hello(cfg.HelloName); err != nil {
		client.Close()
		return nil, &setupError{stepGreeting, fmt.Errorf("greeting: %w", err)}
	}
	if cfg.Username != "" {
		if err := p.auth(client); err != nil {
			client.Close()
			return nil, err
		}
	}
	c := &conn{raw: raw, client: client}
	pipelining, _ := client.Extension("PIPELINING")
	chunking, _ := client.Extension("CHUNKING")
	c.pipe = newSession(plain, client, pipelining && !cfg.NoPipelining, chunking && !cfg.NoChunking)
	return c, nil
}

func (p *pool) auth(client *smtp.Client) error {
	cfg := p.cfg
	if cfg.TLS == TLSNone && !isLoopback(cfg.Host) && !cfg.AllowPlain {
		return &setupError{stepAuthInsecure, errors.New("auth: refusing to send a password without TLS")}
	}
	var mech sasl.Client
	switch {
	case client.SupportsAuth(sasl.Plain):
		mech = sasl.NewPlainClient("", cfg.Username, cfg.Password)
	case client.SupportsAuth(sasl.Login):
		mech = sasl.NewLoginClient(cfg.Username, cfg.Password)
	default:
		return &setupError{stepAuthMechanism, errors.New("auth: relay offers neither PLAIN nor LOGIN")}
	}
	if err := client.Auth(mech); err != nil {
		return &setupError{stepAuth, fmt.Errorf("auth: %w", err)}
	}
	return nil
}

// send runs one transaction. It reports the stage reached and whether the
// message body had started to go out (after which a failure is ambiguous).
// whole says the caller will not cut the transaction short (see
// KeepToEnd).
func (c *conn) send(env Envelope, msg []byte, t Timeouts, whole bool) (Stage, bool, error) {
	if c.pipe != nil {
		return c.pipe.send(c, env, msg, t, whole)
	}
	if c.needReset {
		if err := c.client.Reset(); err != nil {
			return StageMail, false, err
		}
		c.needReset = false
	}
	if err := c.client.Mail(env.From, &smtp.MailOptions{Size: int64(len(msg))}); err != nil {
		return StageMail, false, err
	}
	if err := c.client.Rcpt(env.To, nil); err != nil {
		return StageRcpt, false, err
	}
	w, err := c.client.Data()
	if err != nil {
		return StageData, false, err
	}
	c.raw.SetWriteDeadline(time.Now().Add(t.Data))
	if _, err := w.Write(msg); err != nil {
		return StageData, true, err
	}
	if err := w.Close(); err != nil {
		return StageData, true, err
	}
	c.sent++
	return StageData, true, nil
}

func (c *conn) quit() {
	c.raw.SetDeadline(time.Now().Add(5 * time.Second))
	if err := c.client.Quit(); err != nil {
		c.client.Close()
	}
}
