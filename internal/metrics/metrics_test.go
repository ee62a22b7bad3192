package metrics_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/herald-news/herald/internal/importer"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/metrics"
	hmodel "github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

const token = "metrics-token-for-tests-0123"

// scrape reads /metrics as Prometheus does and parses it.
func scrape(t *testing.T, url string) map[string]family {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("scrape: %d", res.StatusCode)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parse the scrape: %v", err)
	}
	out := map[string]family{}
	for name, f := range fams {
		var ss []sample
		for _, m := range f.GetMetric() {
			s := sample{labels: map[string]string{}}
			for _, l := range m.GetLabel() {
				s.labels[l.GetName()] = l.GetValue()
			}
			switch {
			case m.Counter != nil:
				s.value = m.GetCounter().GetValue()
			case m.Gauge != nil:
				s.value = m.GetGauge().GetValue()
			case m.Histogram != nil:
				s.value = float64(m.GetHistogram().GetSampleCount())
			}
			ss = append(ss, s)
		}
		out[name] = family{samples: ss}
	}
	return out
}

type sample struct {
	labels map[string]string
	value  float64
}

type family struct{ samples []sample }

// get returns the value of the sample with these labels (-1 when none).
func (f family) get(kv ...string) float64 {
next:
	for _, s := range f.samples {
		for i := 0; i+1 < len(kv); i += 2 {
			if s.labels[kv[i]] != kv[i+1] {
				continue next
			}
		}
		return s.value
	}
	return -1
}

// TestScrapeAfterRealSends: messages sent through a real SMTP server move
// the counters by relay and result, the transactions are timed, HTTP
// requests count by route pattern, imports by result, and the scrape reads
// the live ledger and the queues from the store. The endpoint wants its
// token, and shows no address or secret.
func TestScrapeAfterRealSends(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	sink, err := smtpsink.Start(smtpsink.Options{Faults: smtpsink.Faults{Rules: []*smtpsink.Rule{
		{Recipient: "gone@readers.example", Stage: smtpsink.AtRcpt, Code: 550, Enhanced: [3]int{5, 1, 1}, Text: "no such user"},
		{Recipient: "later@readers.example", Stage: smtpsink.AtRcpt, Code: 451, Text: "try later"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	rc, err := mailer.ParseRelay(sink.URL() + "&name=sink")
	if err != nil {
		t.Fatal(err)
	}
	var m *mailer.Mailer
	met := metrics.New(metrics.Options{Store: st, Relays: func() []mailer.RelayStats { return m.Stats() }})
	m, err = mailer.New(mailer.Config{Relays: []mailer.RelayConfig{rc}, Observer: met})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", met.Handler(token))
	mux.HandleFunc("GET /things/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	srv := httptest.NewServer(met.Instrument(mux))
	t.Cleanup(srv.Close)

	before := scrape(t, srv.URL+"/metrics")
	if v := before["herald_mail_messages_total"].get("relay", "sink", "result", "sent"); v > 0 {
		t.Fatalf("sent before any send: %v", v)
	}

	send := func(to string) {
		msg := "From: desk@ledger.example\r\nTo: " + to + "\r\nSubject: Evening\r\n\r\nGood evening.\r\n"
		m.Send(ctx, mailer.Envelope{From: "desk@ledger.example", To: to}, []byte(msg))
	}
	for _, to := range []string{"a@readers.example", "b@readers.example", "gone@readers.example", "later@readers.example"} {
		send(to)
	}
	if sink.Count() != 2 {
		t.Fatalf("sink took %d messages", sink.Count())
	}
	for _, p := range []string{"/things/1", "/things/22", "/nowhere"} {
		res, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	// A live campaign, a queued confirmation and an import.
	l := &hmodel.List{Slug: "daily", Name: "Daily", OptIn: hmodel.OptInDouble, Public: true}
	if err := st.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	csv := "email\nada@example.com\nben@example.com\nnot-an-address\n"
	if _, err := importer.Import(ctx, strings.NewReader(csv), st, importer.Options{ListID: l.ID, Observer: met}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Signup(ctx, "cy@example.com", "Cy", l, hmodel.SourceForm, false); err != nil {
		t.Fatal(err)
	}
	c := &hmodel.Campaign{Name: "Evening", EditionID: 1, ListIDs: []int64{l.ID}, From: "News <news@example.com>"}
	if err := st.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := st.StartCampaign(ctx, c.ID, hmodel.Frozen{Subject: "x", HTML: []byte("h"), Text: []byte("t")}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ClaimDeliveries(ctx, c.ID, 1, time.Minute); err != nil {
		t.Fatal(err)
	}

	after := scrape(t, srv.URL+"/metrics")
	checks := []struct {
		name string
		kv   []string
		want float64
	}{
		{"herald_mail_messages_total", []string{"relay", "sink", "result", "sent"}, 2},
		{"herald_mail_messages_total", []string{"relay", "sink", "result", "failed"}, 1},
		{"herald_mail_messages_total", []string{"relay", "sink", "result", "deferred"}, 1},
		{"herald_smtp_transaction_seconds", []string{"relay", "sink"}, 4},
		{"herald_relay_in_rotation", []string{"relay", "sink"}, 1},
		{"herald_http_requests_total", []string{"route", "GET /things/{id}", "code", "418"}, 2},
		{"herald_http_requests_total", []string{"route", "unmatched", "code", "404"}, 1},
		{"herald_http_requests_total", []string{"route", "GET /metrics", "code", "200"}, 1},
		{"herald_import_rows_total", []string{"result", "imported"}, 2},
		{"herald_import_rows_total", []string{"result", "rejected"}, 1},
		{"herald_imports_running", nil, 0},
		{"herald_ledger_rows", []string{"campaign", "1", "state", "pending"}, 1},
		{"herald_ledger_rows", []string{"campaign", "1", "state", "sending"}, 1},
		{"herald_ledger_rows", []string{"campaign", "1", "state", "deferred"}, 0},
		{"herald_mail_queue_messages", nil, 1},
		{"herald_webhook_queue_deliveries", nil, 0},
	}
	for _, c := range checks {
		if got := after[c.name].get(c.kv...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.kv, got, c.want)
		}
	}
	if _, ok := after["go_goroutines"]; !ok {
		t.Error("no Go runtime metrics")
	}

	// The token guards the endpoint, and nothing private is in it.
	for _, auth := range []string{"", "Bearer wrong-token-of-some-length", "Basic " + token, token} {
		req, _ := http.NewRequest("GET", srv.URL+"/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized || res.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("Authorization %q: %d, want 401", auth, res.StatusCode)
		}
	}
	req, _ := http.NewRequest("GET", srv.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, private := range []string{"@", token, "/things/1"} {
		if strings.Contains(string(body), private) {
			t.Errorf("the scrape shows %q", private)
		}
	}
}

// TestRelayChangesAreKept: rotation changes are counted and kept for the
// admin, newest first, up to the limit.
func TestRelayChangesAreKept(t *testing.T) {
	met := metrics.New(metrics.Options{KeepChanges: 2})
	at := time.Date(2026, 3, 4, 18, 0, 0, 0, time.UTC)
	met.Rotation(mailer.RotationEvent{Relay: "primary", At: at, Reason: "connection refused"})
	met.Rotation(mailer.RotationEvent{Relay: "primary", In: true, At: at.Add(time.Minute)})
	met.Rotation(mailer.RotationEvent{Relay: "backup", At: at.Add(2 * time.Minute), Reason: "421 busy"})
	got := met.RelayChanges()
	if len(got) != 2 || got[0].Relay != "backup" || got[1].Relay != "primary" || !got[1].In {
		t.Fatalf("changes = %+v", got)
	}
	srv := httptest.NewServer(met.Handler(token))
	t.Cleanup(srv.Close)
	f := scrape(t, srv.URL)["herald_relay_rotation_changes_total"]
	if f.get("relay", "primary", "change", "out") != 1 || f.get("relay", "primary", "change", "in") != 1 || f.get("relay", "backup", "change", "out") != 1 {
		t.Fatalf("rotation counters = %+v", f)
	}
}

// The store satisfies what a scrape reads.
var _ metrics.Source = (*store.Store)(nil)
