// Package mailer hands finished messages to the outside world. A Sender is
// what delivery workers call, concurrently, once per recipient; Mailer sends
// through relays and Outbox stores messages locally for viewing (the
// transport used until a relay is configured). A relay is an SMTP server or
// an email provider's HTTP API (Amazon SES, Postmark, SendGrid, Mailgun);
// both kinds share everything below.
//
// Contract: Send returns nil only when a relay accepted the message (250
// after DATA, or the API's success answer) or the outbox stored it. Any
// other outcome is an *Error whose Class tells the caller what to do:
// Temporary (defer and retry), Permanent (fail) or HardBounce (fail and
// suppress the address). Send never retries a message once its body has
// started to go out, so a message is in flight on at most one connection
// at a time.
//
// Mailer pools connections per relay (reused across messages, RSET after a
// failed transaction, redialled when broken; kept-alive HTTP connections,
// HTTP/2 over TLS, for an API), fails over to the next relay when one
// cannot be reached or refuses the relay's credentials, takes a relay that
// keeps failing out of rotation for a while (circuit breaker), and paces
// sends per relay (messages per second, connections or requests in flight)
// and overall (messages per rolling hour). Limits can change while sending.
// All pacing goes through a Clock.
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
	TransportSMTP   = "smtp"   // relays, SMTP or HTTP API: mail reaches readers
	TransportOutbox = "outbox" // the built-in outbox: mail stays local
)

// Transport names the Mailer's kind of transport: TransportSMTP, whatever
// protocol its relays speak.
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
	// Observer hears every message, SMTP transaction and change of a
	// relay's rotation (nil: nobody).
	Observer Observer
}

// Mailer sends through one or more relays. Safe for concurrent use.
type Mailer struct {
	clock  Clock
	relays []*relay // sorted by priority
	byName map[string]*relay
	window window
	obs    Observer
}

type relay struct {
	cfg     RelayConfig
	link    link
	pacer   pacer
	breaker breaker
	obs     Observer
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
	if cfg.Observer == nil {
		cfg.Observer = noObserver{}
	}
	m := &Mailer{clock: cfg.Clock, byName: map[string]*relay{}, obs: cfg.Observer}
	m.window.setLimit(cfg.HourlyLimit)
	for _, rc := range cfg.Relays {
		var err error
		rc.setDefaults()
		if err := rc.validate(); err != nil {
			return nil, fmt.Errorf("mailer: %w", err)
		}
		if _, dup := m.byName[rc.Name]; dup {
			return nil, fmt.Errorf("mailer: two relays named %q", rc.Name)
		}
		r := &relay{cfg: rc, obs: cfg.Observer}
		if r.link, err = newLink(&r.cfg, cfg.Timeouts, cfg.IdleTimeout); err != nil {
			return nil, fmt.Errorf("mailer: %w", err)
		}
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
	relay, err := m.send(ctx, env, msg)
	m.obs.Message(relay, err)
	return err
}

// send is Send, saying which relay handled the message last.
func (m *Mailer) send(ctx context.Context, env Envelope, msg []byte) (string, error) {
	if err := env.check(); err != nil {
		return "", &Error{Class: Permanent, Stage: StageMail, Text: err.Error()}
	}
	if err := m.waitHourly(ctx); err != nil {
		return "", err
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
			return r.cfg.Name, nil
		}
		if !err.failover {
			return r.cfg.Name, err
		}
		last = err
	}
	if last == nil {
		return "", &Error{Class: Temporary, Stage: StageConnect, Text: "no relay available: every relay is out of rotation after repeated failures"}
	}
	return last.Relay, last
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

// send hands msg to one relay, after its rate limit, and keeps the
// relay's breaker and counters.
func (r *relay) send(ctx context.Context, clock Clock, env Envelope, msg []byte) *Error {
	if wait := r.pacer.reserve(clock.Now()); wait > 0 {
		if err := clock.Sleep(ctx, wait); err != nil {
			r.breaker.release()
			return transportError(r.cfg.Name, StageLimit, "waiting for the relay rate limit", err)
		}
	}
	start := time.Now()
	e, h := r.link.deliver(ctx, clock, env, msg)
	if e == nil || h != unknown && e.Stage != StageConnect {
		// The relay answered or failed mid-exchange: time it (taking a
		// connection included; a connection that could not be had is
		// not a transaction).
		r.obs.Transaction(r.cfg.Name, time.Since(start))
	}
	switch h {
	case healthy:
		r.success(clock.Now())
	case faulty:
		r.failure(clock.Now(), e)
	default:
		r.breaker.release()
	}
	switch {
	case e == nil:
		r.sent.Add(1)
	case h != unknown || e.Stage != StageConnect:
		r.failed.Add(1)
	}
	return e
}

// failure counts a failure against the relay's breaker and reports the
// relay leaving the rotation when this failure opened it.
func (r *relay) failure(now time.Time, e *Error) {
	if r.breaker.failure(now) {
		reason := "failed"
		if e != nil {
			reason = e.Error()
		}
		r.obs.Rotation(RotationEvent{Relay: r.cfg.Name, At: now, Reason: reason})
	}
}

// success closes the relay's breaker and reports the relay back in
// rotation when it had been out.
func (r *relay) success(now time.Time) {
	if r.breaker.success() {
		r.obs.Rotation(RotationEvent{Relay: r.cfg.Name, In: true, At: now})
	}
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
	r.link.setMax(maxConns)
	return nil
}

// MaxConns is how many transactions the Mailer can run at once: its
// relays' connection caps added up. The delivery engine sizes its workers
// by it, so a relay's max_conns is the one setting for its concurrency.
func (m *Mailer) MaxConns() int {
	n := 0
	for _, r := range m.relays {
		_, _, max := r.link.stats()
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
		open, idle, max := r.link.stats()
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
		wg.Go(r.link.close)
	}
	wg.Wait()
	return nil
}
