package mailer

import (
	"sync"
	"time"
)

// pacer spaces messages evenly to at most rate per second (no burst beyond
// one message). A zero rate means no limit.
type pacer struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time
}

func (p *pacer) setRate(perSecond float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if perSecond <= 0 {
		p.interval = 0
		return
	}
	p.interval = time.Duration(float64(time.Second) / perSecond)
}

// reserve books the next slot and returns how long to wait for it.
func (p *pacer) reserve(now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.interval == 0 {
		return 0
	}
	t := p.next
	if t.Before(now) {
		t = now
	}
	p.next = t.Add(p.interval)
	return t.Sub(now)
}

// window allows at most limit messages in any rolling hour, counted in
// one-minute buckets (a message counts until its minute is an hour old, so
// the limit is never exceeded). Memory does not grow with the limit.
type window struct {
	mu      sync.Mutex
	limit   int
	counts  [60]int
	minutes [60]int64
}

func (w *window) setLimit(n int) {
	w.mu.Lock()
	w.limit = n
	w.mu.Unlock()
}

// take counts one message if the window has room and returns 0; otherwise
// it returns how long until the oldest minute leaves the window.
func (w *window) take(now time.Time) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.limit <= 0 {
		return 0
	}
	minute := now.Unix() / 60
	total, oldest := 0, minute
	for i := range w.counts {
		if w.counts[i] > 0 && w.minutes[i] > minute-60 {
			total += w.counts[i]
			oldest = min(oldest, w.minutes[i])
		}
	}
	if total >= w.limit {
		return time.Unix((oldest+60)*60, 0).Sub(now)
	}
	i := minute % 60
	if w.minutes[i] != minute {
		w.minutes[i], w.counts[i] = minute, 0
	}
	w.counts[i]++
	return 0
}

// breaker takes a relay out of rotation after consecutive failures, lets a
// single trial through after the cooldown, and closes again on success.
type breaker struct {
	mu        sync.Mutex
	threshold int
	cooldown  time.Duration
	failures  int
	open      bool
	openUntil time.Time
	trial     bool // a half-open trial is in flight
}

// BreakerState is a relay's circuit breaker state.
type BreakerState string

// Breaker states.
const (
	BreakerClosed   BreakerState = "closed"    // in rotation
	BreakerOpen     BreakerState = "open"      // out of rotation until the cooldown ends
	BreakerHalfOpen BreakerState = "half-open" // cooldown over: the next send is a trial
)

func (b *breaker) state(now time.Time) BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case !b.open:
		return BreakerClosed
	case now.Before(b.openUntil):
		return BreakerOpen
	}
	return BreakerHalfOpen
}

// available reports whether allow would let a send through, without
// booking the trial.
func (b *breaker) available(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.open || (!now.Before(b.openUntil) && !b.trial)
}

// allow books a send; in half-open state only one at a time.
func (b *breaker) allow(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.open {
		return true
	}
	if now.Before(b.openUntil) || b.trial {
		return false
	}
	b.trial = true
	return true
}

// success closes the breaker and reports whether it had been open.
func (b *breaker) success() (closed bool) {
	b.mu.Lock()
	closed = b.open
	b.failures, b.open, b.trial = 0, false, false
	b.mu.Unlock()
	return closed
}

// failure counts one failure and reports whether it opened the breaker
// (a failed trial reopens one that was open already: no news).
func (b *breaker) failure(now time.Time) (opened bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures++
	if b.trial || b.failures >= b.threshold {
		opened = !b.open
		b.open, b.trial = true, false
		b.openUntil = now.Add(b.cooldown)
	}
	return opened
}

// release ends a send that gave no verdict on the relay (cancelled).
func (b *breaker) release() {
	b.mu.Lock()
	b.trial = false
	b.mu.Unlock()
}
