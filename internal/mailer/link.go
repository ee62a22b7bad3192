package mailer

import (
	"context"
	"errors"
	"time"

	"github.com/emersion/go-smtp"
)

// link is how a relay carries messages: an SMTP connection pool, or an
// HTTP API client. The relay around it keeps rate limits, the breaker and
// failover; the link says what became of one message.
type link interface {
	// deliver hands msg to the relay's service once. The *Error is nil
	// only when the service accepted the message; its failover flag says
	// whether the message certainly did not reach the service and another
	// relay may take it. health says what the attempt showed about the
	// relay itself, for its breaker.
	deliver(ctx context.Context, clock Clock, env Envelope, msg []byte) (*Error, health)
	// setMax changes the cap on concurrent connections or requests.
	setMax(n int)
	// stats reports open and idle connections (requests in flight for an
	// API) and the cap.
	stats() (open, idle, max int)
	// close releases the link's connections.
	close()
}

// health is what one attempt showed about a relay.
type health int

const (
	// healthy: the relay answered, whatever it said about the message.
	healthy health = iota
	// faulty: the relay could not be reached or failed to answer.
	faulty
	// unknown: the attempt was cancelled before the relay could show
	// either.
	unknown
)

// newLink builds the link for a relay's kind.
func newLink(cfg *RelayConfig, t Timeouts, idleFor time.Duration) (link, error) {
	if cfg.Kind == KindSMTP {
		return &smtpLink{pool: newPool(cfg, t, idleFor)}, nil
	}
	return newAPILink(cfg, t, idleFor)
}

// smtpLink sends through a pool of SMTP sessions.
type smtpLink struct{ pool *pool }

func (l *smtpLink) setMax(n int)                 { l.pool.setMax(n) }
func (l *smtpLink) stats() (open, idle, max int) { return l.pool.stats() }
func (l *smtpLink) close()                       { l.pool.close() }

// deliver runs one SMTP transaction, retrying on a fresh connection when a
// reused one turns out to be stale before the message went out. A stale
// connection usually means the relay restarted, which leaves every idle
// pooled connection as dead: those are dropped too, so the retry dials
// fresh instead of taking the next dead one (and the row neither waits
// for a retry nor loses a try).
func (l *smtpLink) deliver(ctx context.Context, clock Clock, env Envelope, msg []byte) (*Error, health) {
	name := l.pool.cfg.Name
	for attempt := 0; ; attempt++ {
		c, reused, err := l.pool.get(ctx, clock.Now())
		if err != nil {
			if ctx.Err() != nil {
				return transportError(name, StageConnect, "waiting for a connection", ctx.Err()), unknown
			}
			e := connectError(name, err)
			e.failover = true
			return e, faulty
		}
		if reused && c.pipe != nil && c.pipe.chunking && peerSpoke(c.raw) {
			// The relay closed the session while it sat in the pool. A
			// chunked transaction sends the message with its commands, so
			// finding out by sending would leave the message in doubt:
			// look first, and dial fresh as for any stale session.
			l.pool.discard(c)
			l.pool.dropIdle()
			continue
		}
		stop := context.AfterFunc(ctx, func() { c.raw.Close() })
		stage, bodySent, err := c.send(env, msg, l.pool.timeouts, keptToEnd(ctx))
		cancelled := !stop()
		if err == nil {
			l.pool.put(c, clock.Now())
			return nil, healthy
		}
		var se *smtp.SMTPError
		if errors.As(err, &se) && se.Code != 421 && !cancelled {
			// The relay answered: the verdict is about this message, and
			// the connection is fine unless it broke after the verdict.
			c.needReset = true
			if c.broken {
				l.pool.discard(c)
			} else {
				l.pool.put(c, clock.Now())
			}
			return replyError(name, stage, se), healthy
		}
		// The session is broken (dropped, timed out, 421 closing).
		l.pool.discard(c)
		if cancelled {
			return transportError(name, stage, "cancelled", ctx.Err()), unknown
		}
		var e *Error
		if se != nil {
			e = replyError(name, stage, se)
		} else {
			e = transportError(name, stage, "connection lost", err)
		}
		if bodySent {
			// The relay may have the message: leave the retry to the
			// caller, never resend on our own.
			return e, faulty
		}
		if reused && attempt == 0 {
			l.pool.dropIdle() // a stale pooled connection: try a fresh one
			continue
		}
		e.failover = true
		return e, faulty
	}
}

func connectError(relay string, err error) *Error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		e := replyError(relay, StageConnect, se)
		e.Class = Temporary // a relay refusing us says nothing about the recipient
		return e
	}
	return transportError(relay, StageConnect, "cannot open a session: "+err.Error(), err)
}
