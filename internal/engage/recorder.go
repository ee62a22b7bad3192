package engage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

// Observer is told what became of recorded events (metrics.Metrics
// implements it).
type Observer interface {
	// EventsRecorded counts events by result: written (committed to the
	// database), spooled (written to the local spool to be committed
	// later) or lost (neither could be done: only then is an event lost).
	EventsRecorded(result string, n int)
}

// Results passed to Observer.EventsRecorded.
const (
	ResultWritten = "written"
	ResultSpooled = "spooled"
	ResultLost    = "lost"
)

// Options configure a Recorder. Zero values take the defaults shown.
type Options struct {
	// Store is where events go (required).
	Store *store.Store
	// SpoolDir is the folder of the local spool (created if missing). Empty:
	// a new temporary folder (tests; a restart then cannot find it).
	SpoolDir string
	// Window is the longest an event waits in memory before its commit
	// starts (100ms): a kill -9 loses at most the events of one window.
	Window time.Duration
	// Batch is the most events written in one transaction (1000).
	Batch int
	// Memory is the most events held in memory (2×Batch); more go
	// straight to the spool until the database catches up.
	Memory int
	// Timeout bounds one commit of spooled events (10s); they are tried
	// again later (a batch the database already took is not written
	// twice).
	Timeout  time.Duration
	Observer Observer
	Log      *slog.Logger
}

// Recorder writes opens, clicks and unsubscribes: in group commits from
// memory, and through a local spool when the database is behind or down.
// Add never blocks on the database. Close writes everything still held.
type Recorder struct {
	st  *store.Store
	o   Options
	log *slog.Logger
	sp  *spool

	mu     sync.Mutex
	buf    []model.Event
	closed bool

	kick chan struct{}
	stop chan context.Context // Close's deadline
	done chan struct{}

	links sync.Map // campaign ID -> link count (int)

	added, written, spooled, lost atomic.Int64
}

// NewRecorder opens the spool (finishing what an earlier run left in it
// happens in the background) and starts the writer.
func NewRecorder(o Options) (*Recorder, error) {
	if o.Store == nil {
		return nil, errors.New("engage: a store is required")
	}
	if o.Window <= 0 {
		o.Window = 100 * time.Millisecond
	}
	if o.Batch <= 0 {
		o.Batch = 1000
	}
	if o.Memory <= 0 {
		o.Memory = 2 * o.Batch
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	sp, err := openSpool(o.SpoolDir)
	if err != nil {
		return nil, err
	}
	r := &Recorder{st: o.Store, o: o, log: o.Log, sp: sp, buf: make([]model.Event, 0, o.Batch),
		kick: make(chan struct{}, 1), stop: make(chan context.Context, 1), done: make(chan struct{})}
	go r.run()
	return r, nil
}

// Add records e. It returns at once: e is committed within Options.Window
// or, when the database is behind, appended to the spool first.
func (r *Recorder) Add(e model.Event) {
	r.added.Add(1)
	r.mu.Lock()
	if !r.closed && len(r.buf) < r.o.Memory {
		r.buf = append(r.buf, e)
		full := len(r.buf) >= r.o.Batch
		r.mu.Unlock()
		if full {
			select {
			case r.kick <- struct{}{}:
			default:
			}
		}
		return
	}
	r.mu.Unlock()
	r.toSpool([]model.Event{e})
}

// toSpool appends events to the spool, counting any it cannot keep.
func (r *Recorder) toSpool(evs []model.Event) {
	if err := r.sp.append(evs); err != nil {
		n := r.lost.Add(int64(len(evs)))
		r.observe(ResultLost, len(evs))
		if before := n - int64(len(evs)); before == 0 || n/1000 != before/1000 { // the first, then one line a thousand
			r.log.Error("events lost: neither the database nor the spool took them", "lost", n, "err", err)
		}
		return
	}
	r.spooled.Add(int64(len(evs)))
	r.observe(ResultSpooled, len(evs))
}

func (r *Recorder) observe(result string, n int) {
	if r.o.Observer != nil && n > 0 {
		r.o.Observer.EventsRecorded(result, n)
	}
}

func (r *Recorder) run() {
	defer close(r.done)
	t := time.NewTicker(r.o.Window)
	defer t.Stop()
	for {
		select {
		case ctx := <-r.stop:
			r.flush()
			r.drain(ctx, true)
			if err := r.sp.close(); err != nil {
				r.log.Error("close the event spool", "err", err)
			}
			return
		case <-t.C:
		case <-r.kick:
		}
		// Catch up on the spool a batch per window while the database
		// takes what memory holds, so spooled events never wait for a
		// quiet moment and new ones keep their window.
		if r.flush() && r.sp.pending() {
			r.drain(context.Background(), false)
		}
	}
}

// flush commits what memory holds. It reports whether the database took
// all of it (true when there was nothing to take).
func (r *Recorder) flush() bool {
	r.mu.Lock()
	evs := r.buf
	if len(evs) == 0 {
		r.mu.Unlock()
		return true
	}
	r.buf = make([]model.Event, 0, r.o.Batch)
	r.mu.Unlock()
	ok := true
	for start := 0; start < len(evs); start += r.o.Batch {
		ok = r.commit(evs[start:min(start+r.o.Batch, len(evs))]) && ok
	}
	return ok
}

// commit writes one batch, or spools it if the database refuses it, and
// reports whether the database took it. It waits as long as the database
// takes (a commit cut short by a deadline might have happened all the
// same, and spooling it would count it twice): meanwhile new events go to
// the spool once memory is full.
func (r *Recorder) commit(evs []model.Event) bool {
	ctx := context.Background()
	if err := r.st.RecordEvents(ctx, evs); err != nil {
		r.log.Warn("events spooled: the database did not take them", "events", len(evs), "err", err)
		r.toSpool(evs)
		return false
	}
	r.written.Add(int64(len(evs)))
	r.observe(ResultWritten, len(evs))
	if err := r.settle(ctx, evs); err != nil {
		r.log.Error("apply the burst and hidden-link rules", "err", err)
	}
	return true
}

// drain writes spooled events to the database: one batch, or, with all
// (at shutdown), everything, trying again until ctx is done.
func (r *Recorder) drain(ctx context.Context, all bool) {
	for {
		seg, off, evs, next, err := r.sp.next(ctx, r.st, r.o.Batch)
		if err != nil {
			r.log.Error("read the event spool", "err", err)
			return
		}
		if seg == "" {
			return
		}
		if len(evs) > 0 {
			cctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
			err = r.st.RecordSpooled(cctx, seg, off, next, evs)
			if err == nil {
				r.written.Add(int64(len(evs)))
				r.observe(ResultWritten, len(evs))
				if err := r.settle(cctx, evs); err != nil {
					r.log.Error("apply the burst and hidden-link rules", "err", err)
				}
			}
			cancel()
			if err != nil {
				r.log.Warn("spooled events wait: the database did not take them", "segment", seg, "err", err)
				if !all {
					return
				}
				// Closing: try again until the deadline.
				select {
				case <-ctx.Done():
					return
				case <-time.After(100 * time.Millisecond):
				}
				continue
			}
		}
		if err := r.sp.advanced(ctx, r.st, seg, off, next); err != nil {
			r.log.Error("finish a spool segment", "segment", seg, "err", err)
			return
		}
		if n := r.sp.unreadable; n > 0 {
			// Past them now: events the spool could not give back are lost,
			// and counted so (never dropped silently).
			r.lost.Add(int64(n))
			r.observe(ResultLost, n)
			r.log.Error("events lost: spooled lines could not be read back", "segment", seg, "lines", n)
		}
		if !all {
			return
		}
	}
}

// settle applies Settle to the recipients of the clicks in evs that can
// change something: a human click (which a burst or the hidden link may
// make a machine's) or a click on the hidden link. A recipient whose new
// clicks a signature already called a machine's is left alone.
func (r *Recorder) settle(ctx context.Context, evs []model.Event) error {
	seen := map[store.RecipientPair]struct{}{}
	var pairs []store.RecipientPair
	var since time.Time
	for _, e := range evs {
		if e.Kind != model.EventClick || e.CampaignID == 0 || e.SubscriberID == 0 {
			continue
		}
		if e.Class != model.ClassHuman && e.Class != "" && e.Reason != ReasonHiddenLink {
			continue
		}
		p := store.RecipientPair{CampaignID: e.CampaignID, SubscriberID: e.SubscriberID}
		if _, ok := seen[p]; !ok {
			seen[p] = struct{}{}
			pairs = append(pairs, p)
		}
		if since.IsZero() || e.At.Before(since) {
			since = e.At
		}
	}
	if len(pairs) == 0 {
		return nil
	}
	clicks, err := r.st.RecipientClicks(ctx, pairs, since.Add(-max(HiddenLinkWindow, BurstWindow)))
	if err != nil {
		return err
	}
	by := map[store.RecipientPair][]store.RecipientClick{}
	for _, c := range clicks {
		by[c.RecipientPair] = append(by[c.RecipientPair], c)
	}
	var changes []store.Reclass
	for p, cs := range by {
		n, err := r.linkCount(ctx, p.CampaignID)
		if err != nil {
			return err
		}
		changes = append(changes, Settle(cs, n)...)
	}
	return r.st.Reclassify(ctx, changes)
}

func (r *Recorder) linkCount(ctx context.Context, id int64) (int, error) {
	if n, ok := r.links.Load(id); ok {
		return n.(int), nil
	}
	n, err := r.st.CampaignLinkCount(ctx, id)
	if err != nil {
		return 0, err
	}
	if n > 0 { // a started campaign's links never change
		r.links.Store(id, n)
	}
	return n, nil
}

// Stats are a Recorder's counters since it started.
type Stats struct {
	Added, Written, Spooled, Lost int64
}

// Stats returns the counters.
func (r *Recorder) Stats() Stats {
	return Stats{Added: r.added.Load(), Written: r.written.Load(), Spooled: r.spooled.Load(), Lost: r.lost.Load()}
}

// Close stops taking events into memory (later ones go to the spool),
// commits what memory holds and drains the spool, waiting at most until ctx
// is done. What is still spooled then stays in the spool for the next
// start. Safe to call twice.
func (r *Recorder) Close(ctx context.Context) error {
	r.mu.Lock()
	first := !r.closed
	r.closed = true
	r.mu.Unlock()
	if first {
		r.stop <- ctx
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		return fmt.Errorf("event recorder: not all events written before the deadline (they stay in the spool): %w", ctx.Err())
	}
	if n := r.lost.Load(); n > 0 {
		return fmt.Errorf("event recorder: %d events could be neither written nor spooled", n)
	}
	return nil
}
