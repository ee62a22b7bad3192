package webhook

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/unfurl"
)

// Store is the part of the store a Sender uses: *store.Store.
type Store interface {
	WebhooksDue(ctx context.Context) (bool, error)
	ClaimWebhooks(ctx context.Context, limit int, lease time.Duration) ([]store.WebhookJob, error)
	SettleWebhooks(ctx context.Context, results []store.WebhookResult) error
	PruneWebhookDeliveries(ctx context.Context, before time.Time) (int64, error)
}

// Observer hears what became of each try, for metrics: result is
// "delivered", "retried" or "failed".
type Observer interface {
	WebhookTried(result string)
}

// Options tune a Sender. Zero values take the defaults shown.
type Options struct {
	Workers     int           // concurrent POSTs (4)
	Timeout     time.Duration // the longest a POST may take, answer included (10s)
	MaxAttempts int           // tries before a delivery is failed (8)
	RetryBase   time.Duration // wait before the second try, doubling after each (30s)
	RetryMax    time.Duration // the longest wait between tries (6h)
	Poll        time.Duration // how often an idle sender looks for due deliveries (1s)
	// Lease is how long a claim holds before another sender may take the
	// deliveries over (default: long enough for a worker's share of a
	// batch at Timeout each, and a minute more).
	Lease time.Duration
	// Keep is how long finished deliveries stay for the admin to see
	// (30 days).
	Keep time.Duration
	// Allow lists the non-public address ranges receivers may be on (see
	// unfurl.NewClient): none by default, so a receiver on loopback, a
	// private network or a cloud metadata address is never posted to;
	// unfurl.Everywhere when the operator allows private receivers.
	Allow []netip.Prefix
	// Client posts; the default is the SSRF-safe client of unfurl, with
	// Timeout and Allow, following no redirects (a redirect is an answer
	// other than 2xx).
	Client   *http.Client
	Log      *slog.Logger
	Observer Observer
}

// perWorker is how many deliveries a batch holds per worker.
const perWorker = 4

func (o *Options) setDefaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.Workers, 4)
	def(&o.MaxAttempts, 8)
	defDur(&o.Timeout, 10*time.Second)
	defDur(&o.RetryBase, 30*time.Second)
	defDur(&o.RetryMax, 6*time.Hour)
	defDur(&o.Poll, time.Second)
	defDur(&o.Lease, perWorker*o.Timeout+time.Minute)
	defDur(&o.Keep, 30*24*time.Hour)
	if o.Client == nil {
		o.Client = unfurl.NewClient(unfurl.Options{Timeout: o.Timeout, Allow: o.Allow, UserAgent: "Herald-Webhooks/1"})
		o.Client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// Sender posts due webhook deliveries. Run it once per node; senders on
// several nodes share the work through their claims.
type Sender struct {
	st   Store
	opts Options
}

// NewSender returns a sender over st.
func NewSender(st Store, opts Options) *Sender {
	opts.setDefaults()
	return &Sender{st: st, opts: opts}
}

// Run claims and posts until ctx ends. It then claims nothing more, lets
// the posts in progress finish (each within Timeout), gives back the
// claimed deliveries it had not started, and returns.
func (s *Sender) Run(ctx context.Context) error {
	tick := time.NewTicker(s.opts.Poll)
	defer tick.Stop()
	var pruned time.Time
	for {
		if time.Since(pruned) > time.Hour {
			if n, err := s.st.PruneWebhookDeliveries(ctx, time.Now().Add(-s.opts.Keep)); err != nil && ctx.Err() == nil {
				s.opts.Log.Error("prune old webhook deliveries", "err", err)
			} else if n > 0 {
				s.opts.Log.Info("pruned old webhook deliveries", "rows", n)
			}
			pruned = time.Now()
		}
		for ctx.Err() == nil {
			jobs, err := s.st.ClaimWebhooks(ctx, s.opts.Workers*perWorker, s.opts.Lease)
			if err != nil {
				if ctx.Err() == nil {
					s.opts.Log.Error("claim webhook deliveries", "err", err)
				}
				break
			}
			if len(jobs) == 0 {
				break
			}
			s.settle(s.postAll(ctx, jobs))
		}
		// Idle: poll by reading, so an idle sender never takes the writer.
		for due := false; !due; {
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
				d, err := s.st.WebhooksDue(ctx)
				due = err == nil && d
			}
		}
	}
}

// postAll posts a batch on the workers and says what became of each.
func (s *Sender) postAll(ctx context.Context, jobs []store.WebhookJob) []store.WebhookResult {
	results := make([]store.WebhookResult, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(s.opts.Workers, len(jobs)) {
		wg.Go(func() {
			for i := range next {
				if ctx.Err() != nil {
					// Stopping: not started, so given back untried.
					results[i] = store.WebhookResult{Job: jobs[i], GiveBack: true}
					continue
				}
				results[i] = s.post(jobs[i])
			}
		})
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

// post makes one try. It has its own deadline, not the run's context: a
// post under way finishes even while the sender stops.
func (s *Sender) post(j store.WebhookJob) store.WebhookResult {
	res := store.WebhookResult{Job: j}
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.URL, bytes.NewReader(j.Payload))
	if err == nil {
		h := req.Header
		h.Set("Content-Type", "application/json")
		h.Set("User-Agent", "Herald-Webhooks/1")
		h.Set(EventHeader, string(j.Event))
		h.Set(DeliveryHeader, strconv.FormatInt(j.ID, 10))
		h.Set(SignatureHeader, Sign(j.Secret, time.Now(), j.Payload))
		var resp *http.Response
		if resp, err = s.opts.Client.Do(req); err == nil {
			// Read a little of the answer so the connection can be reused.
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			res.Code = resp.StatusCode
			if resp.StatusCode >= 200 && resp.StatusCode < 300 {
				res.Status = model.WebhookDelivered
				s.observe("delivered")
				return res
			}
			res.Error = fmt.Sprintf("answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
		}
	}
	if err != nil {
		res.Error = describe(err)
	}
	if j.Attempts >= s.opts.MaxAttempts {
		res.Status = model.WebhookFailed
		s.observe("failed")
		s.opts.Log.Warn("webhook delivery failed for good", "delivery", j.ID, "endpoint", j.EndpointID, "event", j.Event,
			"attempts", j.Attempts, "reason", res.Error)
		return res
	}
	wait := min(s.opts.RetryBase<<min(j.Attempts-1, 30), s.opts.RetryMax)
	res.Status, res.RetryAt = model.WebhookPending, time.Now().Add(wait)
	s.observe("retried")
	s.opts.Log.Info("webhook delivery will be tried again", "delivery", j.ID, "endpoint", j.EndpointID, "event", j.Event,
		"attempt", j.Attempts, "retry_in", wait, "reason", res.Error)
	return res
}

func (s *Sender) observe(result string) {
	if s.opts.Observer != nil {
		s.opts.Observer.WebhookTried(result)
	}
}

// describe words a failed request for the admin as a class of failure
// (unfurl.Describe): never a raw dial error, which would let whoever
// registers an endpoint map the networks Herald can see.
func describe(err error) string {
	return "could not post: " + unfurl.Describe(err)
}

// settle records a batch's results; it outlives a stop for a moment so
// the batch in hand is recorded.
func (s *Sender) settle(results []store.WebhookResult) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.st.SettleWebhooks(ctx, results); err != nil {
		// The claims' leases bring the deliveries back.
		s.opts.Log.Error("record webhook deliveries", "err", err)
	}
}
