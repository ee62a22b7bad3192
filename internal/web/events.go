package web

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

// eventQueue holds opens, clicks and unsubscribes in memory, with a bound,
// and one goroutine writes them in batches: a request never waits on the
// database. close drains the queue.
type eventQueue struct {
	store *store.Store
	log   *slog.Logger
	batch int
	flush time.Duration

	ch   chan model.Event
	done chan struct{}

	mu     sync.RWMutex
	closed bool

	queued, written, dropped, failed atomic.Int64
}

func newEventQueue(st *store.Store, log *slog.Logger, size, batch int, flush time.Duration) *eventQueue {
	q := &eventQueue{store: st, log: log, batch: batch, flush: flush,
		ch: make(chan model.Event, size), done: make(chan struct{})}
	go q.run()
	return q
}

// add queues e without blocking; when the queue is full (the database is
// far behind) the event is dropped and counted.
func (q *eventQueue) add(e model.Event) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		q.dropped.Add(1)
		return
	}
	select {
	case q.ch <- e:
		q.queued.Add(1)
	default:
		if q.dropped.Add(1)%1000 == 1 {
			q.log.Warn("event queue full: events dropped", "dropped", q.dropped.Load())
		}
	}
}

func (q *eventQueue) run() {
	defer close(q.done)
	buf := make([]model.Event, 0, q.batch)
	timer := time.NewTimer(q.flush)
	defer timer.Stop()
	for {
		select {
		case e, ok := <-q.ch:
			if !ok {
				q.write(buf)
				return
			}
			buf = append(buf, e)
			// Take what is already waiting, up to a batch, without blocking.
		fill:
			for len(buf) < q.batch {
				select {
				case e, ok := <-q.ch:
					if !ok {
						q.write(buf)
						return
					}
					buf = append(buf, e)
				default:
					break fill
				}
			}
			if len(buf) >= q.batch {
				q.write(buf)
				buf = buf[:0]
			}
		case <-timer.C:
			q.write(buf)
			buf = buf[:0]
			timer.Reset(q.flush)
		}
	}
}

// write stores one batch, retrying a few times: a database that is briefly
// locked or restarting must not lose events.
func (q *eventQueue) write(evs []model.Event) {
	if len(evs) == 0 {
		return
	}
	var err error
	for attempt := range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = q.store.RecordEvents(ctx, evs)
		cancel()
		if err == nil {
			q.written.Add(int64(len(evs)))
			return
		}
		time.Sleep(time.Duration(100<<attempt) * time.Millisecond)
	}
	q.failed.Add(int64(len(evs)))
	q.log.Error("write events", "events", len(evs), "err", err)
}

// close stops taking events and waits until the queued ones are written.
func (q *eventQueue) close(ctx context.Context) error {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.ch)
	}
	q.mu.Unlock()
	select {
	case <-q.done:
		if n := q.failed.Load(); n > 0 {
			return fmt.Errorf("event queue: %d events could not be written", n)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("event queue: %d events not written: %w", len(q.ch), ctx.Err())
	}
}
