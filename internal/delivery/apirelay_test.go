package delivery_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/delivery/deliverytest"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestCampaignThroughAPIRelays sends a campaign through HTTP API relays:
// the first (SendGrid) answers 503 to everything and is failed over,
// the second (Mailgun) takes every message as Herald built it, and the
// one address it refuses fails its row without suppressing it.
func TestCampaignThroughAPIRelays(t *testing.T) {
	s := storetest.SQLite(t)
	f := newFixture(t, s, 20, smtpsink.Faults{}, nil)
	f.stop()
	ctx := context.Background()

	var primaryHits atomic.Int64
	primary := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		primaryHits.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer primary.Close()
	var mu sync.Mutex
	got := map[string][][]byte{}
	backup := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		form, err := multipart.NewReader(r.Body, params["boundary"]).ReadForm(1 << 20)
		if err != nil || r.URL.Path != "/v3/mg.example.com/messages.mime" {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		to := form.Value["to"][0]
		if to == "reader0007@example.com" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"message": "to parameter is not a valid address"})
			return
		}
		file, _ := form.File["message"][0].Open()
		raw, _ := io.ReadAll(file)
		mu.Lock()
		got[to] = append(got[to], raw)
		mu.Unlock()
		json.NewEncoder(w).Encode(map[string]string{"id": "<" + to + ">", "message": "Queued. Thank you."})
	}))
	defer backup.Close()
	first, err := mailer.ParseRelay("sendgrid://SG.k@api?name=sendgrid&priority=0&endpoint=" + url.QueryEscape(primary.URL))
	if err != nil {
		t.Fatal(err)
	}
	second, err := mailer.ParseRelay("mailgun://key-k@api/mg.example.com?name=mailgun&priority=5&endpoint=" + url.QueryEscape(backup.URL))
	if err != nil {
		t.Fatal(err)
	}
	m, err := mailer.New(mailer.Config{Relays: []mailer.RelayConfig{first, second}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	f.engine, err = delivery.New(s, delivery.Config{Sender: m, Signer: deliverytest.Signer(t), BaseURL: "https://news.example.com",
		Freeze: sampleFreeze(t), FlushAfter: 20 * time.Millisecond, Poll: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	f.run()
	if _, err := f.engine.Start(ctx, f.camp.ID); err != nil {
		t.Fatal(err)
	}
	p := f.waitFor("the campaign to finish", sent)
	if p.Sent != 19 || p.Failed != 1 || len(got) != 19 || primaryHits.Load() == 0 {
		t.Fatalf("progress %+v, backup got %d readers, primary asked %d times", p, len(got), primaryHits.Load())
	}
	for to, copies := range got {
		msg, err := mail.ReadMessage(bytes.NewReader(copies[0]))
		if len(copies) != 1 || err != nil || !strings.HasPrefix(msg.Header.Get("List-Unsubscribe"), "<https://news.example.com/unsubscribe/") ||
			!strings.Contains(msg.Header.Get("To"), to) {
			t.Errorf("%s: %d copies, %v", to, len(copies), err)
		}
	}
	fails, err := s.DeliveryFailures(ctx, f.camp.ID, 10)
	if err != nil || len(fails) != 1 || fails[0].Email != "reader0007@example.com" || !strings.Contains(fails[0].Reply, "Mailgun answered HTTP 400") {
		t.Errorf("failures %+v, %v", fails, err)
	}
	if _, err := s.Suppression(ctx, "reader0007@example.com"); err == nil {
		t.Error("a refused message suppressed its address")
	}
	if st := m.Stats(); st[0].Breaker != mailer.BreakerOpen || st[1].Sent != 19 {
		t.Errorf("relay stats %+v", st)
	}
}
