package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
	"github.com/herald-news/herald/internal/webhook"
)

const secret = "whsec_test_0123456789abcdef"

// post is one request the receiver took, after checking its signature.
type post struct {
	event, delivery, id string
	body                []byte
}

// receiver is a real HTTP endpoint that checks every post's signature the
// way the README tells receivers to, and answers with the codes it is
// given in turn (then 204).
type receiver struct {
	t   *testing.T
	srv *httptest.Server

	mu     sync.Mutex
	codes  []int
	posts  []post
	hold   chan struct{} // when set, the first post waits for it to close
	holdIn chan struct{} // closed when the held post arrived
}

func newReceiver(t *testing.T, codes ...int) *receiver {
	rc := &receiver{t: t, codes: codes}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	// The recipe: split the header, recompute the HMAC over "t.body".
	sig := r.Header.Get("Herald-Signature")
	var ts, v1 string
	for _, part := range strings.Split(sig, ",") {
		k, v, _ := strings.Cut(part, "=")
		if k == "t" {
			ts = v
		} else if k == "v1" {
			v1 = v
		}
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" ||
		!hmac.Equal([]byte(hex.EncodeToString(m.Sum(nil))), []byte(v1)) {
		rc.t.Errorf("bad post: %s %q signature %q", r.Method, r.Header.Get("Content-Type"), sig)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if err := webhook.Verify(secret, sig, body, time.Now(), 5*time.Minute); err != nil {
		rc.t.Errorf("Verify refused a good post: %v", err)
	}
	var b struct {
		ID string `json:"id"`
	}
	json.Unmarshal(body, &b)
	rc.mu.Lock()
	first := len(rc.posts) == 0
	rc.posts = append(rc.posts, post{event: r.Header.Get("Herald-Event"), delivery: r.Header.Get("Herald-Delivery"), id: b.ID, body: body})
	code := http.StatusNoContent
	if len(rc.codes) > 0 {
		code, rc.codes = rc.codes[0], rc.codes[1:]
	}
	hold := rc.hold
	rc.mu.Unlock()
	if first && hold != nil {
		close(rc.holdIn)
		<-hold
	}
	w.WriteHeader(code)
}

func (rc *receiver) got() []post {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]post(nil), rc.posts...)
}

// endpoint registers the receiver for every event.
func endpoint(t *testing.T, s *store.Store, url string) *model.WebhookEndpoint {
	t.Helper()
	e := &model.WebhookEndpoint{URL: url, Secret: secret, Events: model.WebhookEvents(), Active: true}
	if err := s.CreateWebhookEndpoint(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	return e
}

// run runs a sender until the test ends.
func run(t *testing.T, snd *webhook.Sender) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := snd.Run(ctx); err != nil {
			t.Errorf("sender: %v", err)
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// waitFor polls cond until it holds (a minute at most: the machine is shared).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func deliveries(t *testing.T, s *store.Store, endpointID int64) []model.WebhookDelivery {
	t.Helper()
	ds, err := s.WebhookDeliveries(context.Background(), endpointID, 100)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func fast(o webhook.Options) webhook.Options {
	if o.RetryBase == 0 {
		o.RetryBase = time.Millisecond
	}
	o.Poll = 10 * time.Millisecond
	if o.Allow == nil {
		o.Allow = loopback // the test receivers listen on 127.0.0.1
	}
	return o
}

// TestDeliveredSignedAndRetriedAfter500: a real receiver checks the
// signature of every post; a 500 is tried again with the same body and
// event ID, and the next 2xx delivers.
func TestDeliveredSignedAndRetriedAfter500(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		rc := newReceiver(t, http.StatusInternalServerError, http.StatusNoContent)
		e := endpoint(t, s, rc.srv.URL+"/hooks")
		sub := &model.Subscriber{Email: "ada@example.com", Name: "Ada"}
		if _, err := s.UpsertSubscriber(ctx, sub); err != nil {
			t.Fatal(err)
		}
		run(t, webhook.NewSender(s, fast(webhook.Options{})))
		waitFor(t, "the delivery", func() bool {
			ds := deliveries(t, s, e.ID)
			return len(ds) == 1 && ds[0].Status == model.WebhookDelivered
		})
		d := deliveries(t, s, e.ID)[0]
		if d.Attempts != 2 || d.LastCode != http.StatusNoContent || d.Event != model.EventSubscriberCreated {
			t.Fatalf("delivery = %+v", d)
		}
		ps := rc.got()
		if len(ps) != 2 {
			t.Fatalf("receiver got %d posts, want 2", len(ps))
		}
		for _, p := range ps {
			if p.event != "subscriber.created" || p.delivery != fmt.Sprint(d.ID) || p.id != ps[0].id || string(p.body) != string(ps[0].body) {
				t.Fatalf("post %+v differs from the first %+v", p, ps[0])
			}
		}
		if !strings.Contains(string(ps[0].body), `"email":"ada@example.com"`) || !strings.HasPrefix(ps[0].id, "evt_") {
			t.Fatalf("body = %s", ps[0].body)
		}
	})
}

// TestFailedAfterTheLastAttempt: an endpoint that keeps failing (errors
// and timeouts alike) is tried MaxAttempts times, then the delivery is
// failed with the last reason.
func TestFailedAfterTheLastAttempt(t *testing.T) {
	s := storetest.SQLite(t)
	rc := newReceiver(t, http.StatusBadGateway, http.StatusNotFound, http.StatusServiceUnavailable, http.StatusOK)
	e := endpoint(t, s, rc.srv.URL)
	if _, err := s.QueueWebhookTest(context.Background(), e.ID); err != nil {
		t.Fatal(err)
	}
	var obs counter
	run(t, webhook.NewSender(s, fast(webhook.Options{MaxAttempts: 3, Observer: &obs})))
	waitFor(t, "the delivery to fail", func() bool {
		ds := deliveries(t, s, e.ID)
		return ds[0].Status == model.WebhookFailed
	})
	d := deliveries(t, s, e.ID)[0]
	if d.Attempts != 3 || d.LastCode != 503 || d.LastError != "answered 503 Service Unavailable" || len(rc.got()) != 3 {
		t.Fatalf("delivery = %+v after %d posts", d, len(rc.got()))
	}
	if obs.get("retried") != 2 || obs.get("failed") != 1 {
		t.Fatalf("observer = %v", obs.m)
	}
}

// TestTimeoutIsRetried: an endpoint that does not answer in time is tried
// again.
func TestTimeoutIsRetried(t *testing.T) {
	s := storetest.SQLite(t)
	slow := make(chan struct{})
	var calls sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Lock()
		n++
		first := n == 1
		calls.Unlock()
		if first {
			select { // never answers the first try
			case <-r.Context().Done():
			case <-slow:
			}
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(slow) })
	e := endpoint(t, s, srv.URL)
	s.QueueWebhookTest(context.Background(), e.ID)
	run(t, webhook.NewSender(s, fast(webhook.Options{Timeout: 200 * time.Millisecond})))
	waitFor(t, "the delivery", func() bool { return deliveries(t, s, e.ID)[0].Status == model.WebhookDelivered })
	if d := deliveries(t, s, e.ID)[0]; d.Attempts != 2 {
		t.Fatalf("delivery = %+v", d)
	}
}

// TestLeaseTakenOverBySecondSender: a sender that claimed deliveries and
// died leaves them to another once the lease runs out; the dead claim's
// late news changes nothing. On PostgreSQL two live senders share a
// stream of events without posting any twice.
func TestLeaseTakenOverBySecondSender(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		rc := newReceiver(t)
		e := endpoint(t, s, rc.srv.URL)
		if _, err := s.QueueWebhookTest(ctx, e.ID); err != nil {
			t.Fatal(err)
		}
		// The first sender claims and dies before it posts.
		dead, err := s.ClaimWebhooks(ctx, 10, 300*time.Millisecond)
		if err != nil || len(dead) != 1 {
			t.Fatalf("claim = %v, %v", dead, err)
		}
		run(t, webhook.NewSender(s, fast(webhook.Options{})))
		waitFor(t, "the second sender to deliver", func() bool { return deliveries(t, s, e.ID)[0].Status == model.WebhookDelivered })
		if err := s.SettleWebhooks(ctx, []store.WebhookResult{{Job: dead[0], Status: model.WebhookFailed, Error: "late"}}); err != nil {
			t.Fatal(err)
		}
		if d := deliveries(t, s, e.ID)[0]; d.Status != model.WebhookDelivered || d.Attempts != 2 || len(rc.got()) != 1 {
			t.Fatalf("after the dead claim's late news: %+v, %d posts", d, len(rc.got()))
		}

		// Two live senders, one stream of events: each posted once.
		run(t, webhook.NewSender(s, fast(webhook.Options{Workers: 2})))
		const n = 40
		for i := range n {
			if _, err := s.UpsertSubscriber(ctx, &model.Subscriber{Email: fmt.Sprintf("r%02d@example.com", i)}); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, "every event", func() bool { return len(rc.got()) >= n+1 })
		seen := map[string]int{}
		for _, p := range rc.got() {
			seen[p.id]++
		}
		for id, c := range seen {
			if c != 1 {
				t.Errorf("event %s posted %d times", id, c)
			}
		}
		if len(seen) != n+1 {
			t.Fatalf("%d distinct events, want %d", len(seen), n+1)
		}
	})
}

// TestStopGivesBackUnstartedDeliveries: a sender told to stop finishes the
// post in progress and gives back the rest of its batch untried.
func TestStopGivesBackUnstartedDeliveries(t *testing.T) {
	s := storetest.SQLite(t)
	rc := newReceiver(t)
	rc.hold, rc.holdIn = make(chan struct{}), make(chan struct{})
	e := endpoint(t, s, rc.srv.URL)
	ctx := context.Background()
	first, _ := s.QueueWebhookTest(ctx, e.ID)
	second, _ := s.QueueWebhookTest(ctx, e.ID)
	runCtx, stop := context.WithCancel(ctx)
	stopped := make(chan error, 1)
	go func() { stopped <- webhook.NewSender(s, fast(webhook.Options{Workers: 1})).Run(runCtx) }()
	<-rc.holdIn // the first post is at the receiver
	stop()      // the sender is told to stop before the receiver answers
	close(rc.hold)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	byID := map[int64]model.WebhookDelivery{}
	for _, d := range deliveries(t, s, e.ID) {
		byID[d.ID] = d
	}
	if d := byID[first]; d.Status != model.WebhookDelivered {
		t.Fatalf("the post in progress: %+v", d)
	}
	if d := byID[second]; d.Status != model.WebhookPending || d.Attempts != 0 || d.NextAttempt.After(time.Now()) || len(rc.got()) != 1 {
		t.Fatalf("the unstarted one: %+v (%d posts)", d, len(rc.got()))
	}
}

func TestSignAndVerify(t *testing.T) {
	body := []byte(`{"id":"evt_1","type":"webhook.test"}`)
	at := time.Unix(1_800_000_000, 0)
	sig := webhook.Sign(secret, at, body)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("1800000000." + string(body)))
	if want := "t=1800000000,v1=" + hex.EncodeToString(m.Sum(nil)); sig != want {
		t.Fatalf("Sign = %q, want %q", sig, want)
	}
	if err := webhook.Verify(secret, sig, body, at.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatalf("good signature: %v", err)
	}
	for name, c := range map[string]struct {
		secret, header string
		body           []byte
		now            time.Time
		want           error
	}{
		"other body":    {secret, sig, []byte(`{"id":"evt_2"}`), at, webhook.ErrBadSignature},
		"other secret":  {"another secret!!", sig, body, at, webhook.ErrBadSignature},
		"no header":     {secret, "", body, at, webhook.ErrBadSignature},
		"garbled":       {secret, "v1=zz,t=x", body, at, webhook.ErrBadSignature},
		"replayed late": {secret, sig, body, at.Add(time.Hour), webhook.ErrTooOld},
	} {
		if err := webhook.Verify(c.secret, c.header, c.body, c.now, 5*time.Minute); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}

func TestCheckURLAndEvents(t *testing.T) {
	for raw, want := range map[string]string{
		" https://hooks.example.net/in ": "",
		"http://10.0.0.5:8080/x":         "",
		"ftp://hooks.example.net/":       "must start with https:// or http://, not ftp://",
		"hooks.example.net/in":           "must start with https:// or http://",
		"javascript:alert(1)":            "not javascript://",
		"https:///path":                  "has no host name",
		"":                               "give the URL",
		"https://hooks.example.net/#x":   "#fragment",
	} {
		got, err := webhook.CheckURL(raw)
		switch {
		case want == "" && (err != nil || got != strings.TrimSpace(raw)):
			t.Errorf("CheckURL(%q) = %q, %v", raw, got, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("CheckURL(%q) error = %v, want %q", raw, err, want)
		}
	}
	evs, err := webhook.ParseEvents([]string{"subscriber.created", " campaign.sent", "subscriber.created"})
	if err != nil || len(evs) != 2 {
		t.Fatalf("ParseEvents = %v, %v", evs, err)
	}
	if _, err := webhook.ParseEvents([]string{"subscriber.deleted"}); err == nil || !strings.Contains(err.Error(), `unknown event "subscriber.deleted" (choose from subscriber.created,`) {
		t.Fatalf("unknown event: %v", err)
	}
	if _, err := webhook.ParseEvents([]string{"webhook.test"}); err == nil {
		t.Fatal("the test event can be subscribed to")
	}
	if _, err := webhook.ParseEvents(nil); err == nil || !strings.Contains(err.Error(), "at least one") {
		t.Fatalf("no events: %v", err)
	}
}

// counter is an Observer.
type counter struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *counter) WebhookTried(result string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[result]++
}

func (c *counter) get(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[k]
}

// loopback lets the tests' receivers on 127.0.0.1 be posted to.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

// TestReceiversOnPrivateNetworksAreRefused: without an explicit allowance
// the sender never reaches a receiver on loopback (an endpoint saved
// before the rule, or a name that changed its address), and what it
// stores says which rule refused it; a receiver that cannot be reached
// is stored as a class, not the dial error that would map the network.
func TestReceiversOnPrivateNetworksAreRefused(t *testing.T) {
	s := storetest.SQLite(t)
	rc := newReceiver(t)
	e := endpoint(t, s, rc.srv.URL)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	ctx := context.Background()
	s.QueueWebhookTest(ctx, e.ID)
	run(t, webhook.NewSender(s, fast(webhook.Options{Allow: []netip.Prefix{}})))
	waitFor(t, "the refusal", func() bool { return deliveries(t, s, e.ID)[0].LastError != "" })
	if d := deliveries(t, s, e.ID)[0]; !strings.Contains(d.LastError, "loopback address") || d.Status == model.WebhookDelivered {
		t.Errorf("loopback receiver: %+v", d)
	}
	if n := len(rc.got()); n != 0 {
		t.Errorf("the loopback receiver got %d posts", n)
	}

	s2 := storetest.SQLite(t)
	closed2 := endpoint(t, s2, "http://"+ln.Addr().String()+"/hook")
	s2.QueueWebhookTest(ctx, closed2.ID)
	run(t, webhook.NewSender(s2, fast(webhook.Options{})))
	waitFor(t, "the failed post", func() bool { return deliveries(t, s2, closed2.ID)[0].LastError != "" })
	if d := deliveries(t, s2, closed2.ID)[0]; d.LastError != "could not post: could not connect" {
		t.Errorf("closed port stored as %q, want a class", d.LastError)
	}
}

func TestCheckReceiverResolvesAndRefuses(t *testing.T) {
	ctx := context.Background()
	for raw, want := range map[string]string{
		"http://localhost:9000/in":      "loopback address",
		"http://169.254.169.254/latest": "link-local address",
		"http://[64:ff9b::a9fe:a9fe]/":  "reserved address",
		"https://10.1.2.3/in":           "private address",
		"ftp://hooks.example.net/":      "not ftp://",
	} {
		if _, err := webhook.CheckReceiver(ctx, raw, nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckReceiver(%q) = %v, want %q", raw, err, want)
		}
	}
	if got, err := webhook.CheckReceiver(ctx, " http://localhost:9000/in ", loopback); err != nil || got != "http://localhost:9000/in" {
		t.Errorf("allowed loopback: %q %v", got, err)
	}
}
