package cli

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	hmodel "github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/webhook"
)

// TestServeMetricsAndWebhooks runs herald serve with a relay and a metrics
// token: a reader signs up on the public form, the confirmation goes out
// through the relay (a real SMTP server) and the subscriber.created
// notice reaches a registered endpoint, signed; /metrics, scraped with the
// token and parsed, shows the message sent through the relay and the
// request by its route. Without the token it answers 401.
func TestServeMetricsAndWebhooks(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "d")
	const token = "scrape-me-with-this-token"
	if _, errs, code := herald(t, nil, nil, "--data", dir, "lists", "create", "daily", "--name", "Daily", "--double-opt-in", "--public"); code != 0 {
		t.Fatalf("lists create: %s", errs)
	}
	// A receiver, registered before the start.
	var mu sync.Mutex
	var notices []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify("receiver-secret-0123456789", r.Header.Get(webhook.SignatureHeader), body, time.Now(), time.Minute); err != nil {
			t.Errorf("webhook signature: %v", err)
		}
		mu.Lock()
		notices = append(notices, string(body))
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(recv.Close)
	st, err := store.Open(context.Background(), store.Options{SQLitePath: filepath.Join(dir, "herald.db")})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateWebhookEndpoint(context.Background(), &hmodel.WebhookEndpoint{URL: recv.URL, Secret: "receiver-secret-0123456789",
		Events: []hmodel.WebhookEvent{hmodel.EventSubscriberCreated}, Active: true}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	sink, err := smtpsink.Start(smtpsink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })

	// An explicit base_url: mail to readers through a relay needs one.
	vars := map[string]string{"HERALD_BASE_URL": "http://127.0.0.1:8080", "HERALD_METRICS_TOKEN": token, "HERALD_RELAY_URL": sink.URL(), "HERALD_ADMIN_PASSWORD": "a long enough password",
		"HERALD_WEBHOOK_ALLOW_PRIVATE": "true", "HERALD_ADMIN_EMAIL": "desk@courier.example"}
	base, stop := serve(t, vars, "--data", dir)
	defer stop()
	// The first owner has the address the operator chose, not a
	// predictable one.
	if out, errs, code := herald(t, vars, nil, "--data", dir, "user", "ls"); code != 0 ||
		!strings.Contains(out, "desk@courier.example") || strings.Contains(out, "admin@herald.local") {
		t.Fatalf("user ls: %d %q %q", code, out, errs)
	}

	res, err := http.PostForm(base+"/subscribe/daily/embed", url.Values{"email": {"ada@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("subscribe: %d", res.StatusCode)
	}
	deadline := time.Now().Add(time.Minute)
	for sink.Count() < 1 || func() bool { mu.Lock(); defer mu.Unlock(); return len(notices) < 1 }() {
		if time.Now().After(deadline) {
			t.Fatalf("confirmation sent: %d; notices: %v", sink.Count(), notices)
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	if !strings.Contains(notices[0], `"type":"subscriber.created"`) || !strings.Contains(notices[0], `"email":"ada@example.com"`) {
		t.Errorf("notice = %s", notices[0])
	}
	mu.Unlock()

	get := func(auth string) *http.Response {
		req, _ := http.NewRequest("GET", base+"/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := get(""); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("metrics without the token: %d", res.StatusCode)
	} else {
		res.Body.Close()
	}
	res = get("Bearer " + token)
	defer res.Body.Close()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	find := func(name string, kv ...string) float64 {
	next:
		for _, m := range fams[name].GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(kv); i += 2 {
				if labels[kv[i]] != kv[i+1] {
					continue next
				}
			}
			if m.Counter != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
		return -1
	}
	if v := find("herald_mail_messages_total", "relay", "default", "result", "sent"); v != 1 {
		t.Errorf("messages sent through the relay = %v, want 1", v)
	}
	if v := find("herald_http_requests_total", "route", "POST /subscribe/{slug}/embed", "code", "200"); v != 1 {
		t.Errorf("subscribe requests = %v, want 1", v)
	}
	if v := find("herald_webhook_attempts_total", "result", "delivered"); v != 1 {
		t.Errorf("webhooks delivered = %v, want 1", v)
	}
	if v := find("herald_relay_in_rotation", "relay", "default"); v != 1 {
		t.Errorf("relay in rotation = %v", v)
	}
}

// serve starts herald serve in-process on a free port and returns its
// base URL and a function that stops it and checks it exited cleanly.
func serve(t *testing.T, vars map[string]string, args ...string) (string, func()) {
	t.Helper()
	return serveLogging(t, vars, &syncBuffer{}, args...)
}

// serveLogging is serve with its log written to errb.
func serveLogging(t *testing.T, vars map[string]string, errb *syncBuffer, args ...string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		e := &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: errb, getenv: func(k string) string { return vars[k] }}
		done <- e.exitCode(e.dispatch(ctx, append([]string{"serve", "--http", "127.0.0.1:0"}, args...)))
	}()
	serving := regexp.MustCompile(`msg="herald is serving" addr=(http://127\.0\.0\.1:[0-9]+)`)
	deadline := time.Now().Add(time.Minute)
	for {
		select {
		case code := <-done:
			t.Fatalf("serve exited %d before serving:\n%s", code, errb.String())
		default:
		}
		if m := serving.FindStringSubmatch(errb.String()); m != nil {
			return m[1], func() {
				cancel()
				select {
				case code := <-done:
					if code != 0 {
						t.Errorf("serve exited %d: %s", code, errb.String())
					}
				case <-time.After(time.Minute):
					t.Error("serve did not shut down")
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start within a minute:\n%s", errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
