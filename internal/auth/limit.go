package auth

import (
	"sync"
	"time"
)

// LimitOptions bound failed sign-ins. Zero values take the defaults.
type LimitOptions struct {
	// PerAccount is how many failures of one account from one client are
	// free (3); each further attempt from that client must wait, the wait
	// doubling from FirstDelay up to MaxDelay.
	PerAccount int
	FirstDelay time.Duration // (1s)
	MaxDelay   time.Duration // (15m)
	// PerClient is how many failures one client may have per Window across
	// all accounts (20): guessing many accounts from one address.
	PerClient int
	// Window is the per-client window, and how long a client's record of
	// an account's failures is kept after its last failure and wait (15m).
	Window time.Duration
	Now    func() time.Time
}

// Limiter throttles failed sign-ins per account and client with growing
// delays, and caps each client's failures across accounts. An account is
// never locked for everyone: a stranger's wrong guesses slow the stranger,
// not the owner signing in from elsewhere (behind a proxy, the client is
// the reader's address only with trust_proxy). It is in memory: each node
// throttles on its own.
type Limiter struct {
	opts    LimitOptions
	mu      sync.Mutex
	pairs   map[string]*pair   // account + client
	clients map[string]*window // client
}

// pair is one client's failures on one account.
type pair struct {
	failures int
	last     time.Time // the last failure
	next     time.Time // no attempt before this
}

// expired: quiet for a whole window since its last failure and its wait.
func (p *pair) expired(now time.Time, window time.Duration) bool {
	end := p.last
	if p.next.After(end) {
		end = p.next
	}
	return now.Sub(end) >= window
}

type window struct {
	start    time.Time
	failures int
}

// NewLimiter returns a limiter with the given options.
func NewLimiter(opts LimitOptions) *Limiter {
	if opts.PerAccount <= 0 {
		opts.PerAccount = 3
	}
	if opts.FirstDelay <= 0 {
		opts.FirstDelay = time.Second
	}
	if opts.MaxDelay <= 0 {
		opts.MaxDelay = 15 * time.Minute
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
	return &Limiter{opts: opts, pairs: map[string]*pair{}, clients: map[string]*window{}}
}

func pairKey(client, account string) string { return account + "\x00" + client }

// Allow reports whether another attempt from client for account may be
// tried now.
func (l *Limiter) Allow(client, account string) bool {
	return l.RetryAfter(client, account) == 0
}

// RetryAfter is how long client must wait before trying account again
// (0: now).
func (l *Limiter) RetryAfter(client, account string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.opts.Now()
	var wait time.Duration
	if w := l.clients[client]; w != nil && now.Sub(w.start) < l.opts.Window && w.failures >= l.opts.PerClient {
		wait = w.start.Add(l.opts.Window).Sub(now)
	}
	if p := l.pairs[pairKey(client, account)]; p != nil && now.Before(p.next) {
		wait = max(wait, p.next.Sub(now))
	}
	return wait
}

// Fail records a failed attempt.
func (l *Limiter) Fail(client, account string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.opts.Now()
	k := pairKey(client, account)
	p := l.pairs[k]
	if p == nil || p.expired(now, l.opts.Window) {
		p = &pair{}
		l.pairs[k] = p
	}
	p.failures++
	p.last = now
	if over := p.failures - l.opts.PerAccount; over >= 0 {
		delay := l.opts.MaxDelay
		if over < 30 {
			delay = min(l.opts.FirstDelay<<over, l.opts.MaxDelay)
		}
		p.next = now.Add(delay)
	}
	w := l.clients[client]
	if w == nil || now.Sub(w.start) >= l.opts.Window {
		w = &window{start: now}
		l.clients[client] = w
	}
	w.failures++
	if len(l.pairs)+len(l.clients) > 10000 {
		l.sweep(now)
	}
}

// Succeed forgets the client's failures on the account (not the client's
// count across accounts).
func (l *Limiter) Succeed(client, account string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.pairs, pairKey(client, account))
}

// sweep drops records that no longer hold anything back, so the maps stay
// bounded.
func (l *Limiter) sweep(now time.Time) {
	for k, p := range l.pairs {
		if p.expired(now, l.opts.Window) {
			delete(l.pairs, k)
		}
	}
	for k, w := range l.clients {
		if now.Sub(w.start) >= l.opts.Window {
			delete(l.clients, k)
		}
	}
}
