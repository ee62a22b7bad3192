package web_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/delivery/deliverytest"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/message"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/settings"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/token"
	"github.com/herald-news/herald/internal/web"
)

// DrainOptions configure Drain. Zero values take the defaults shown.
type DrainOptions struct {
	// Store is where the signups are written (a fresh database).
	Store *store.Store
	// Signups is the number of subscribe POSTs (10000); Rate the signups
	// a second the clients aim at (0: as fast as they are answered);
	// Concurrency the parallel clients (64).
	Signups     int
	Rate        float64
	Concurrency int
	// Keep makes the sink keep every message, for checking them.
	Keep bool
}

// DrainReport is what Drain measured.
type DrainReport struct {
	Signups    int
	LoadTime   time.Duration // first POST sent to last answer
	SignupRate float64       // signups answered a second
	// SentDuringLoad is how many confirmations the sink had accepted when
	// the last signup was answered.
	SentDuringLoad int64
	// DrainTime runs from the first POST to the last confirmation the
	// sink accepted; DrainRate is the confirmations a second over it.
	DrainTime time.Duration
	DrainRate float64
	// Lag is how long the last confirmation came after the last signup.
	Lag    time.Duration
	Errors int64
	Sink   *smtpsink.Sink `json:"-"`
	Record string         // the DKIM record the messages verify against
}

// String formats the report for a terminal.
func (r DrainReport) String() string {
	return fmt.Sprintf("signups: %d in %s = %.0f/s; confirmations: %d sent during the load, all %d within %s = %.0f/s, last %s after the last signup; errors %d",
		r.Signups, r.LoadTime.Round(time.Millisecond), r.SignupRate, r.SentDuringLoad, r.Signups,
		r.DrainTime.Round(time.Millisecond), r.DrainRate, r.Lag.Round(time.Millisecond), r.Errors)
}

// Drain runs the public web and the mail queue as serve does (DKIM key
// generated and kept in the store, the queue's default workers, one SMTP
// relay with 8 connections: an in-process sink), posts double opt-in
// signups at a fixed rate, and measures how fast their confirmations reach
// the sink: during the load, and how long after it the last one arrives.
func Drain(ctx context.Context, o DrainOptions, dkimPEM []byte) (DrainReport, error) {
	if o.Signups <= 0 {
		o.Signups = 10000
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 64
	}
	st := o.Store
	if err := settings.SaveDKIM(ctx, st, dkimPEM, "drain", "news.example"); err != nil {
		return DrainReport{}, err
	}
	sink, err := smtpsink.Start(smtpsink.Options{CountOnly: !o.Keep})
	if err != nil {
		return DrainReport{}, err
	}
	rep := DrainReport{Signups: o.Signups, Sink: sink}
	relay, err := mailer.ParseRelay(sink.URL() + "&max_conns=8")
	if err != nil {
		return rep, err
	}
	m, err := mailer.New(mailer.Config{Relays: []mailer.RelayConfig{relay}})
	if err != nil {
		return rep, err
	}
	list := &model.List{Slug: "drain", Name: "Drain", OptIn: model.OptInDouble, Public: true}
	if err := st.CreateList(ctx, list); err != nil {
		return rep, err
	}
	key := make([]byte, 32)
	copy(key, "herald-drain-signing-key-0123456")
	signer, _ := token.NewSigner(key)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return rep, err
	}
	base := "http://" + ln.Addr().String()
	queue, err := delivery.NewMailQueue(delivery.MailQueueConfig{Store: st, Sender: m, Signer: signer, BaseURL: base,
		From: "Drain <news@news.example>"})
	if err != nil {
		ln.Close()
		return rep, err
	}
	queue.Start()
	opts := web.DefaultOptions()
	opts.RateLimit.Off = true
	srv, err := web.NewServer(web.Deps{Store: st, Signer: signer, Mail: queue, BaseURL: base, Options: opts})
	if err != nil {
		ln.Close()
		queue.Close(ctx)
		return rep, err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = errors.Join(hs.Shutdown(sctx), srv.Close(sctx), queue.Close(sctx))
	}()

	tr := &http.Transport{MaxIdleConns: o.Concurrency * 2, MaxIdleConnsPerHost: o.Concurrency * 2, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Transport: tr, Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	target := base + "/subscribe/" + list.Slug
	resp, err := client.Get(target)
	if err != nil {
		return rep, fmt.Errorf("drain: load the form: %w", err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if csrf == nil {
		return rep, errors.New("drain: no form token on the subscribe page")
	}

	// The sink's count, watched until every confirmation is in.
	var lastMail atomic.Int64 // UnixNano of the moment the count reached Signups
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		deadline := time.Now().Add(5 * time.Minute)
		for time.Now().Before(deadline) {
			if sink.Count() >= int64(o.Signups) {
				lastMail.Store(time.Now().UnixNano())
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()

	var errs atomic.Int64
	jobs := make(chan int, o.Concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	for range o.Concurrency {
		wg.Go(func() {
			for i := range jobs {
				body := "csrf=" + url.QueryEscape(string(csrf[1])) + "&email=" + url.QueryEscape(fmt.Sprintf("drain-%d@example.com", i)) + "&name=Drain+Reader"
				req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := client.Do(req)
				if err != nil {
					errs.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs.Add(1)
				}
			}
		})
	}
	for i := range o.Signups {
		if o.Rate > 0 {
			if d := time.Until(start.Add(time.Duration(float64(i) / o.Rate * float64(time.Second)))); d > 0 {
				time.Sleep(d)
			}
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	loadEnd := time.Now()
	rep.SentDuringLoad = sink.Count()
	<-watchDone
	rep.Errors = errs.Load()
	rep.LoadTime = loadEnd.Sub(start)
	rep.SignupRate = float64(o.Signups) / rep.LoadTime.Seconds()
	if lastMail.Load() == 0 {
		return rep, fmt.Errorf("drain: only %d of %d confirmations arrived", sink.Count(), o.Signups)
	}
	last := time.Unix(0, lastMail.Load())
	rep.DrainTime = last.Sub(start)
	rep.DrainRate = float64(o.Signups) / rep.DrainTime.Seconds()
	rep.Lag = max(0, last.Sub(loadEnd))
	return rep, nil
}

// TestDrainSmall runs the drain benchmark at a small size and checks what
// it counts: every signup answered, every confirmation in the sink once,
// each one signed by the key kept in the store.
func TestDrainSmall(t *testing.T) {
	t.Parallel()
	pem, _, record := deliverytest.DKIMKey(t)
	rep, err := Drain(context.Background(), DrainOptions{Store: sqlite(t), Signups: 300, Rate: 1000, Concurrency: 16, Keep: true}, pem)
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Sink.Close()
	t.Log(rep)
	if rep.Errors != 0 {
		t.Fatalf("%d signups not answered 200", rep.Errors)
	}
	msgs := rep.Sink.Messages()
	if len(msgs) != 300 {
		t.Fatalf("%d confirmations, want 300", len(msgs))
	}
	seen := map[string]bool{}
	opts := &dkim.VerifyOptions{LookupTXT: func(name string) ([]string, error) {
		if name != message.DNSName("drain", "news.example") {
			return nil, fmt.Errorf("unexpected lookup %q", name)
		}
		return []string{record}, nil
	}}
	for _, m := range msgs {
		if len(m.To) != 1 || seen[m.To[0]] {
			t.Fatalf("recipients %v (twice, or not one)", m.To)
		}
		seen[m.To[0]] = true
		verifs, err := dkim.VerifyWithOptions(bytes.NewReader(m.Raw), opts)
		if err != nil || len(verifs) != 1 || verifs[0].Err != nil || verifs[0].Domain != "news.example" {
			t.Fatalf("confirmation to %v does not verify: %v %+v", m.To, err, verifs)
		}
		if !bytes.Contains(m.Raw, []byte("/confirm/")) {
			t.Fatalf("confirmation to %v has no confirm link", m.To)
		}
	}
}

// BenchmarkConfirmationDrain posts signups at a fixed rate and reports how
// fast their DKIM-signed confirmations reach an SMTP sink, and how long
// after the load the last one arrives. HERALD_BENCH_SIGNUPS (10000) and
// HERALD_BENCH_RATE (2500 a second; 0: as fast as answered) set the load:
//
//	HERALD_BENCH_RATE=2500 go test -run - -bench ConfirmationDrain -benchtime 1x ./internal/web/
func BenchmarkConfirmationDrain(b *testing.B) {
	signups, rate := 10000, 2500.0
	if v, err := strconv.Atoi(os.Getenv("HERALD_BENCH_SIGNUPS")); err == nil && v > 0 {
		signups = v
	}
	if v, err := strconv.ParseFloat(os.Getenv("HERALD_BENCH_RATE"), 64); err == nil && v >= 0 {
		rate = v
	}
	pem, _, _ := deliverytest.DKIMKey(b)
	for b.Loop() {
		rep, err := Drain(context.Background(), DrainOptions{Store: sqlite(b), Signups: signups, Rate: rate}, pem)
		if rep.Sink != nil {
			rep.Sink.Close()
		}
		if err != nil {
			b.Fatal(err)
		}
		b.Log(rep)
		b.ReportMetric(rep.SignupRate, "signups/s")
		b.ReportMetric(rep.DrainRate, "mails/s")
		b.ReportMetric(float64(rep.SentDuringLoad), "sent-in-load")
		b.ReportMetric(rep.Lag.Seconds(), "lag-s")
	}
}
