package auth

import (
	"sync"
	"time"
)

// LimitOptions bound failed sign-in attempts. Zero values take the defaults.
type LimitOptions struct {
	PerAccount int           // failures per address per Window (5)
	PerClient  int           // failures per client address per Window (20)
	Window     time.Duration // (15m)
	Now        func() time.Time
}

// Limiter counts failed sign-ins per account and per client in a fixed
// window. It is in memory: each node limits on its own, which still bounds
// guessing to a few attempts a minute per node.
type Limiter struct {
	opts LimitOptions
	mu   sync.Mutex
	seen map[string]*window
}

type window struct {
	start    time.Time
	failures int
}

// NewLimiter returns a limiter with the given options.
func NewLimiter(opts LimitOptions) *Limiter {
	if opts.PerAccount <= 0 {
		opts.PerAccount = 5
	}
	if opts.PerClient <= 0 {
		opts.PerClient = 20
	}
	if opts.Window <= 0 {
		opts.Window = 15 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Limiter{opts: opts, seen: map[string]*window{}}
}

// Allow reports whether another attempt from client for account may be tried.
func (l *Limiter) Allow(client, account string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.opts.Now()
	return l.count("a:"+account, now) < l.opts.PerAccount && l.count("c:"+client, now) < l.opts.PerClient
}

// Fail records a failed attempt.
func (l *Limiter) Fail(client, account string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.opts.Now()
	for _, k := range []string{"a:" + account, "c:" + client} {
		w := l.seen[k]
		if w == nil || now.Sub(w.start) >= l.opts.Window {
			w = &window{start: now}
			l.seen[k] = w
		}
		w.failures++
	}
	if len(l.seen) > 10000 {
		l.sweep(now)
	}
}

// Succeed forgets the account's failures (not the client's).
func (l *Limiter) Succeed(client, account string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.seen, "a:"+account)
}

func (l *Limiter) count(k string, now time.Time) int {
	w := l.seen[k]
	if w == nil || now.Sub(w.start) >= l.opts.Window {
		return 0
	}
	return w.failures
}

// sweep drops expired windows so the map stays bounded.
func (l *Limiter) sweep(now time.Time) {
	for k, w := range l.seen {
		if now.Sub(w.start) >= l.opts.Window {
			delete(l.seen, k)
		}
	}
}
