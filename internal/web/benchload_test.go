package web_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/token"
	"github.com/herald-news/herald/internal/web"
)

// BenchOptions configure Bench. Zero values take the defaults shown.
type BenchOptions struct {
	// Store is where the benchmark writes (use a fresh database: it
	// creates a list, a campaign and many subscribers).
	Store *store.Store
	// Clicks and Subscribes are the number of requests of each kind
	// (100000 and 20000); Concurrency the parallel clients (64).
	Clicks      int
	Subscribes  int
	Concurrency int
	// Mailer receives the confirmation messages; nil counts and discards
	// them (the message is still built for each one).
	Mailer mailer.Sender
	Log    *slog.Logger
}

// BenchReport is what Bench measured.
type BenchReport struct {
	Clicks           int
	ClickTime        time.Duration
	ClicksPerSecond  float64
	ClicksStored     int64 // click events in the database after the flush
	Subscribes       int
	SubscribeTime    time.Duration
	SubscribesPerSec float64
	// SubscribeCPU is the process's CPU time (server, mail queue and
	// clients together) over the subscribes, a subscribe: on a loaded
	// machine it shows the cost apart from the wait for a core.
	SubscribeCPU     time.Duration
	SubscribersAdded int64 // unconfirmed subscriptions stored
	Confirmations    int64 // confirmation messages handed to the mailer
	Errors           int64 // requests that did not get the expected answer
	EventsLost       int64 // events neither written nor spooled
	MachineClicks    int64 // clicks the classification called a machine's
}

// String formats the report for a terminal.
func (r BenchReport) String() string {
	return fmt.Sprintf("click redirect: %d in %s = %.0f/s, %d click events stored\n"+
		"subscribe POST: %d in %s = %.0f/s (CPU %s a subscribe, its confirmation sent), %d subscriptions stored, %d confirmations sent\n"+
		"errors: %d, events lost: %d, machine clicks: %d",
		r.Clicks, r.ClickTime.Round(time.Millisecond), r.ClicksPerSecond, r.ClicksStored,
		r.Subscribes, r.SubscribeTime.Round(time.Millisecond), r.SubscribesPerSec, r.SubscribeCPU.Round(time.Microsecond), r.SubscribersAdded, r.Confirmations,
		r.Errors, r.EventsLost, r.MachineClicks)
}

// countingSender discards messages and counts them.
type countingSender struct{ n atomic.Int64 }

func (c *countingSender) Send(context.Context, mailer.Envelope, []byte) error {
	c.n.Add(1)
	return nil
}

// Bench runs the public web on a loopback port with rate limits off and
// measures the click redirect and the subscribe POST (double opt-in, with
// CSRF token, confirmation message built and sent), then closes the server
// so every queued event is written, and counts what was stored.
func Bench(ctx context.Context, o BenchOptions) (BenchReport, error) {
	if o.Store == nil {
		return BenchReport{}, errors.New("bench: a store is required")
	}
	if o.Clicks <= 0 {
		o.Clicks = 100000
	}
	if o.Subscribes <= 0 {
		o.Subscribes = 20000
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 64
	}
	counter := &countingSender{}
	var sender mailer.Sender = counter
	if o.Mailer != nil {
		sender = o.Mailer
	}
	st := o.Store
	suffix := fmt.Sprintf("%d", time.Now().UnixNano())
	list := &model.List{Slug: "bench-" + suffix, Name: "Bench", OptIn: model.OptInDouble, Public: true}
	if err := st.CreateList(ctx, list); err != nil {
		return BenchReport{}, err
	}
	links := []string{"https://example.org/one", "https://example.org/two?x=1", "https://example.net/three"}
	camp := &model.Campaign{Name: "bench", EditionID: 1, ListIDs: []int64{list.ID}, From: "Bench <bench@example.com>", Tracking: true}
	if err := st.CreateCampaign(ctx, camp); err != nil {
		return BenchReport{}, err
	}
	if _, err := st.StartCampaign(ctx, camp.ID, model.Frozen{Subject: "bench", Prefix: "x", HTML: []byte("h"), Text: []byte("t"), Links: links}); err != nil {
		return BenchReport{}, err
	}
	key := make([]byte, 32)
	copy(key, "herald-bench-signing-key-0123456")
	signer, _ := token.NewSigner(key)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return BenchReport{}, err
	}
	base := "http://" + ln.Addr().String()
	opts := web.DefaultOptions()
	opts.RateLimit.Off = true
	queue, err := delivery.NewMailQueue(delivery.MailQueueConfig{Store: st, Sender: sender, Signer: signer, BaseURL: base,
		From: "Bench <bench@example.com>", Log: o.Log})
	if err != nil {
		ln.Close()
		return BenchReport{}, err
	}
	queue.Start()
	srv, err := web.NewServer(web.Deps{Store: st, Signer: signer, Mail: queue, BaseURL: base, Log: o.Log, Options: opts})
	if err != nil {
		ln.Close()
		queue.Close(ctx)
		return BenchReport{}, err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	closed := false
	shutdown := func() error {
		if closed {
			return nil
		}
		closed = true
		sctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		return errors.Join(hs.Shutdown(sctx), srv.Close(sctx), queue.Close(sctx))
	}
	defer shutdown()

	tr := &http.Transport{MaxIdleConns: o.Concurrency * 2, MaxIdleConnsPerHost: o.Concurrency * 2, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	var rep BenchReport
	var errs atomic.Int64

	// Clicks: one token per simulated subscriber, links in turn.
	urls := make([]string, 1000)
	for i := range urls {
		tok := signer.Sign(token.Claims{Purpose: token.Click, SubscriberID: int64(i + 1), CampaignID: camp.ID})
		urls[i] = base + "/c/" + tok + "?u=" + url.QueryEscape(links[i%len(links)])
	}
	client := &http.Client{Transport: tr, CheckRedirect: noRedirect}
	rep.Clicks = o.Clicks
	rep.ClickTime = parallel(o.Clicks, o.Concurrency, func(i int) {
		resp, err := client.Get(urls[i%len(urls)])
		if err != nil {
			errs.Add(1)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			errs.Add(1)
		}
	})

	// Subscribes: a browser's cookie and form token, fresh addresses.
	jar, _ := cookiejar.New(nil)
	fclient := &http.Client{Transport: tr, Jar: jar, CheckRedirect: noRedirect}
	resp, err := fclient.Get(base + "/subscribe/" + list.Slug)
	if err != nil {
		return rep, fmt.Errorf("bench: load the form: %w", err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		return rep, errors.New("bench: no form token on the subscribe page")
	}
	csrf := string(m[1])
	target := base + "/subscribe/" + list.Slug
	rep.Subscribes = o.Subscribes
	cpu0 := cpuTime()
	rep.SubscribeTime = parallel(o.Subscribes, o.Concurrency, func(i int) {
		body := "csrf=" + url.QueryEscape(csrf) + "&email=" + url.QueryEscape(fmt.Sprintf("bench-%s-%d@example.com", suffix, i)) + "&name=Bench+Reader"
		req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := fclient.Do(req)
		if err != nil {
			errs.Add(1)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			errs.Add(1)
		}
	})
	// The confirmations are queued in the store; let them all go out.
	if err := waitMailSent(ctx, st, time.Minute); err != nil {
		return rep, err
	}
	rep.SubscribeCPU = (cpuTime() - cpu0) / time.Duration(rep.Subscribes)
	if err := shutdown(); err != nil {
		return rep, fmt.Errorf("bench: shut down: %w", err)
	}
	rep.Errors = errs.Load()
	rep.ClicksPerSecond = float64(rep.Clicks) / rep.ClickTime.Seconds()
	rep.SubscribesPerSec = float64(rep.Subscribes) / rep.SubscribeTime.Seconds()
	counts, err := st.CampaignEventCounts(ctx, camp.ID)
	if err != nil {
		return rep, err
	}
	rep.ClicksStored = counts.Total[model.EventClick]
	rep.MachineClicks = counts.TotalBy[model.ClassMachine][model.EventClick]
	if rep.SubscribersAdded, err = st.CountSubscribers(ctx, store.SubscriberFilter{ListID: list.ID, Status: model.SubUnconfirmed}); err != nil {
		return rep, err
	}
	rep.Confirmations = queue.Stats().Sent
	rep.EventsLost = srv.Stats().Events.Lost
	return rep, nil
}

// waitMailSent waits until the store's mail queue is empty, for at most
// limit.
func waitMailSent(ctx context.Context, st *store.Store, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		n, err := st.MailBacklog(ctx)
		if err != nil || n == 0 {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("bench: %d confirmation messages still queued after %s", n, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// parallel runs fn(0..n-1) on workers goroutines and returns the wall time.
func parallel(n, workers int, fn func(i int)) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}
