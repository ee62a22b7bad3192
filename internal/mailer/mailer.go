// Package mailer hands finished messages to the outside world. A Sender is
// what delivery workers call, concurrently, once per recipient; Mailer sends
// through SMTP relays and Outbox stores messages locally for viewing (the
// transport used until a relay is configured).
//
// Contract: Send returns nil only when a relay accepted the message (250
// after DATA) or the outbox stored it. Any other outcome is an *Error whose
// Class tells the caller what to do: Temporary (defer and retry), Permanent
// (fail) or HardBounce (fail and suppress the address). Send never retries a
// message once its body has started to go out, so a message is in flight on
// at most one connection at a time.
//
// Mailer pools connections per relay (reused across messages, RSET after a
// failed transaction, redialled when broken), fails over to the next relay
// when one cannot be reached, takes a relay that keeps failing out of
// rotation for a while (circuit breaker), and paces sends per relay
// (messages per second, connections) and overall (messages per rolling
// hour). Limits can change while sending. All pacing goes through a Clock.
package mailer

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
)

// Envelope is the SMTP envelope of one message: the bounce address
// (MAIL FROM) and the one recipient (RCPT TO).
type Envelope struct {
	From string
	To   string
}

func (e Envelope) check() error {
	if e.To == "" || !strings.Contains(e.To, "@") {
		return errors.New("envelope recipient is not an address")
	}
	if strings.ContainsAny(e.From+e.To, "\r\n<> \x00") {
		return errors.New("envelope address holds a line break, space or angle bracket")
	}
	return nil
}

// Transports, as Transport methods name them. A campaign records the
// transport it started with and never falls back to another.
const (
	TransportSMTP   = "smtp"   // SMTP relays: mail reaches readers
	TransportOutbox = "outbox" // the built-in outbox: mail stays local
)

// Transport names the Mailer's kind of transport: TransportSMTP.
func (m *Mailer) Transport() string { return TransportSMTP }

// Sender sends one message to one recipient. Implementations are safe for
// concurrent use.
type Sender interface {
	Send(ctx context.Context, env Envelope, msg []byte) error
}

// Config configures a Mailer.
type Config struct {
	Relays []RelayConfig
	// HourlyLimit caps messages per rolling hour over all relays (0: none).
	HourlyLimit int
	// Clock defaults to SystemClock.
	Clock Clock
	// BreakerFailures consecutive relay failures open the breaker (default
	// 5); it stays open for BreakerCooldown (default 30s).
	BreakerFailures int
	BreakerCooldown time.Duration
	// Timeouts default to 30s connect, 1m per command, 2m for DATA.
	Timeouts Timeouts
	// IdleTimeout closes connections unused for this long (default 30s).
	IdleTimeout time.Duration
}

// Mailer sends through one or more SMTP relays. Safe for concurrent use.
type Mailer struct {
	clock  Clock
	relays []*relay // sorted by priority
	byName map[string]*relay
	window window
}

type relay struct {
	cfg     RelayConfig
	pool    *pool
	pacer   pacer
	breaker breaker
	sent    atomic.Int64
	failed  atomic.Int64
}

// New builds a Mailer. It dials nothing until the first Send.
func New(cfg Config) (*Mailer, error) {
	if len(cfg.Relays) == 0 {
		return nil, errors.New("mailer: no relay configured (use the outbox instead)")
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.BreakerFailures <= 0 {
		cfg.BreakerFailures = 5
	}
	if cfg.BreakerCooldown <= 0 {
		cfg.BreakerCooldown = 30 * time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Second
	}
	cfg.Timeouts.setDefaults()
	m := &Mailer{clock: cfg.Clock, byName: map[string]*relay{}}
	m.window.setLimit(cfg.HourlyLimit)
	for _, rc := range cfg.Relays {
		rc.setDefaults()
		if err := rc.validate(); err != nil {
			return nil, fmt.Errorf("mailer: %w", err)
		}
		if _, dup := m.byName[rc.Name]; dup {
			return nil, fmt.Errorf("mailer: two relays named %q", rc.Name)
		}
		r := &relay{cfg: rc}
		r.pool = newPool(&r.cfg, cfg.Timeouts, cfg.IdleTimeout)
		r.pacer.setRate(rc.Rate)
		r.breaker.threshold = cfg.BreakerFailures
		r.breaker.cooldown = cfg.BreakerCooldown
		m.relays = append(m.relays, r)
		m.byName[rc.Name] = r
	}
	sort.SliceStable(m.relays, func(i, j int) bool { return m.relays[i].cfg.Priority < m.relays[j].cfg.Priority })
	return m, nil
}

// Send delivers msg to env.To through the best available relay. See the
// package comment for what the error means.
func (m *Mailer) Send(ctx context.Context, env Envelope, msg []byte) error {
	if err := env.check(); err != nil {
		return &Error{Class: Permanent, Stage: StageMail, Text: err.Error()}
	}
	if err := m.waitHourly(ctx); err != nil {
		return err
	}
	tried := make([]bool, len(m.relays))
	var last *Error
	for {
		r := m.pick(tried)
		if r == nil {
			break
		}
		err := r.send(ctx, m.clock, env, msg)
		if err == nil {
			return nil
		}
		if !err.failover {
			return err
		}
		last = err
	}
	if last == nil {
		return &Error{Class: Temporary, Stage: StageConnect, Text: "no relay available: every relay is out of rotation after repeated failures"}
	}
	return last
}

// pick chooses an untried relay that is in rotation: the lowest priority
// number first, by weight among equals. It books a half-open trial.
// waitHourly waits until the overall hourly window has room for one more
// message.
func (m *Mailer) waitHourly(ctx context.Context) *Error {
	for {
		wait := m.window.take(m.clock.Now())
		if wait == 0 {
			return nil
		}
		if err := m.clock.Sleep(ctx, wait); err != nil {
			return transportError("", StageLimit, "waiting for the hourly limit", err)
		}
	}
}

func (m *Mailer) pick(tried []bool) *relay {
	now := m.clock.Now()
	for i := 0; i < len(m.relays); {
		j := i
		for j < len(m.relays) && m.relays[j].cfg.Priority == m.relays[i].cfg.Priority {
			j++
		}
		for {
			total := 0
			for k := i; k < j; k++ {
				if !tried[k] && m.relays[k].breaker.available(now) {
					total += m.relays[k].cfg.Weight
				}
			}
			if total == 0 {
				break
			}
			n, chosen := rand.IntN(total), -1
			for k := i; k < j && chosen < 0; k++ {
				if !tried[k] && m.relays[k].breaker.available(now) {
					if n -= m.relays[k].cfg.Weight; n < 0 {
						chosen = k
					}
				}
			}
			if chosen < 0 {
				continue // availability changed under us: count again
			}
			tried[chosen] = true
			if m.relays[chosen].breaker.allow(now) {
				return m.relays[chosen]
			}
		}
		i = j
	}
	return nil
}

// send tries one relay, retrying once on a fresh connection when a reused
// one turns out to be stale before the message went out.
func (r *relay) send(ctx context.Context, clock Clock, env Envelope, msg []byte) *Error {
	name := r.cfg.Name
	if wait := r.pacer.reserve(clock.Now()); wait > 0 {
		if err := clock.Sleep(ctx, wait); err != nil {
			r.breaker.release()
			return transportError(name, StageLimit, "waiting for the relay rate limit", err)
		}
	}
	for attempt := 0; ; attempt++ {
		c, reused, err := r.pool.get(ctx, clock.Now())
		if err != nil {
			if ctx.Err() != nil {
				r.breaker.release()
				return transportError(name, StageConnect, "waiting for a connection", ctx.Err())
			}
			r.breaker.failure(clock.Now())
			r.failed.Add(1)
			e := connectError(name, err)
			e.failover = true
			return e
		}
		stop := context.AfterFunc(ctx, func() { c.raw.Close() })
		stage, bodySent, err := c.send(env, msg, r.pool.timeouts.Data)
		cancelled := !stop()
		if err == nil {
			r.pool.put(c, clock.Now())
			r.breaker.success()
			r.sent.Add(1)
			return nil
		}
		var se *smtp.SMTPError
		if errors.As(err, &se) && se.Code != 421 && !cancelled {
			// The relay answered: the connection is fine, the verdict is
			// about this message.
			c.needReset = true
			r.pool.put(c, clock.Now())
			r.breaker.success()
			r.failed.Add(1)
			return replyError(name, stage, se)
		}
		// The session is broken (dropped, timed out, 421 closing).
		r.pool.discard(c)
		r.failed.Add(1)
		if cancelled {
			r.breaker.release()
			return transportError(name, stage, "cancelled", ctx.Err())
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
			r.breaker.failure(clock.Now())
			return e
		}
		if reused && attempt == 0 {
			continue // a stale pooled connection: try a fresh one
		}
		r.breaker.failure(clock.Now())
		e.failover = true
		return e
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

// SetRelayLimits changes a relay's rate (messages per second, 0 for none)
// and connection cap while sending.
func (m *Mailer) SetRelayLimits(name string, rate float64, maxConns int) error {
	r, ok := m.byName[name]
	if !ok {
		return fmt.Errorf("mailer: no relay named %q", name)
	}
	if maxConns <= 0 {
		return fmt.Errorf("mailer: relay %q: max connections must be at least 1", name)
	}
	r.pacer.setRate(rate)
	r.pool.setMax(maxConns)
	return nil
}

// MaxConns is how many SMTP transactions the Mailer can run at once: its
// relays' connection caps added up. The delivery engine sizes its workers
// by it, so a relay's max_conns is the one setting for its concurrency.
func (m *Mailer) MaxConns() int {
	n := 0
	for _, r := range m.relays {
		_, _, max := r.pool.stats()
		n += max
	}
	return n
}

// SetHourlyLimit changes the overall messages-per-hour cap (0: none).
func (m *Mailer) SetHourlyLimit(n int) { m.window.setLimit(n) }

// RelayStats describes one relay at a moment.
type RelayStats struct {
	Name      string
	Breaker   BreakerState
	OpenConns int
	IdleConns int
	MaxConns  int
	Sent      int64
	Failed    int64
}

// Stats reports each relay, in priority order.
func (m *Mailer) Stats() []RelayStats {
	now := m.clock.Now()
	out := make([]RelayStats, 0, len(m.relays))
	for _, r := range m.relays {
		open, idle, max := r.pool.stats()
		out = append(out, RelayStats{
			Name: r.cfg.Name, Breaker: r.breaker.state(now),
			OpenConns: open, IdleConns: idle, MaxConns: max,
			Sent: r.sent.Load(), Failed: r.failed.Load(),
		})
	}
	return out
}

// Close says QUIT on idle connections and closes busy ones as they return.
func (m *Mailer) Close() error {
	var wg sync.WaitGroup
	for _, r := range m.relays {
		wg.Go(r.pool.close)
	}
	wg.Wait()
	return nil
}
