package api_test

import (
	"context"
	"errors"
	"github.com/herald-news/herald/internal/unfurl"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/herald-news/herald/client"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/store/storetest"
	"github.com/herald-news/herald/internal/webhook"
)

// TestWebhooksThroughTheClient: an owner registers an endpoint (a URL that
// is not http(s) is refused with a clear message), gets its secret once,
// sends it a test event that a real sender posts signed, sees the delivery,
// changes the endpoint and deletes it; an editor may not touch webhooks.
func TestWebhooksThroughTheClient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, storetest.SQLite(t), false)
	owner := e.client(auth.Owner)

	var mu sync.Mutex
	var bodies [][]byte
	var secret string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := webhook.Verify(secret, r.Header.Get("Herald-Signature"), body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("signature: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		bodies = append(bodies, body)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(recv.Close)

	_, err := owner.CreateWebhook(ctx, client.WebhookInput{URL: "gopher://hooks.example.net/", Events: []string{"subscriber.created"}})
	var ae *client.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusUnprocessableEntity || ae.Message != "url: the webhook URL must start with https:// or http://, not gopher://" {
		t.Fatalf("gopher URL: %v", err)
	}
	if _, err := owner.CreateWebhook(ctx, client.WebhookInput{URL: recv.URL, Events: []string{"nope"}}); !errors.As(err, &ae) || ae.Status != 422 {
		t.Fatalf("unknown event: %v", err)
	}
	if _, err := e.client(auth.Editor).CreateWebhook(ctx, client.WebhookInput{URL: recv.URL, Events: []string{"subscriber.created"}}); !errors.As(err, &ae) || ae.Status != http.StatusForbidden {
		t.Fatalf("editor: %v", err)
	}

	ep, err := owner.CreateWebhook(ctx, client.WebhookInput{URL: recv.URL, Events: []string{"subscriber.created", "campaign.sent"}, Description: "CRM"})
	if err != nil {
		t.Fatal(err)
	}
	if !ep.Active || len(ep.Events) != 2 || len(ep.Secret) < 16 || ep.Description != "CRM" {
		t.Fatalf("created = %+v", ep)
	}
	mu.Lock()
	secret = ep.Secret
	mu.Unlock()
	got, err := owner.Webhook(ctx, ep.ID)
	if err != nil || got.Secret != "" || got.URL != recv.URL {
		t.Fatalf("read back = %+v, %v (the secret must not be shown again)", got, err)
	}

	d, err := owner.TestWebhook(ctx, ep.ID)
	if err != nil || d.Event != "webhook.test" || d.Status != "pending" || d.NextAttemptAt == nil {
		t.Fatalf("test = %+v, %v", d, err)
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- webhook.NewSender(e.st, webhook.Options{Poll: 10 * time.Millisecond, Allow: unfurl.Everywhere}).Run(sctx)
	}()
	deadline := time.Now().Add(time.Minute)
	for {
		ds, err := owner.WebhookDeliveries(ctx, ep.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 1 && ds[0].Status == "delivered" {
			if ds[0].Code != 204 || ds[0].Attempts != 1 || ds[0].NextAttemptAt != nil {
				t.Fatalf("delivery = %+v", ds[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not delivered: %+v", ds)
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	list, err := owner.Webhooks(ctx)
	if err != nil || len(list) != 1 || list[0].Delivered != 1 || list[0].Secret != "" {
		t.Fatalf("list = %+v, %v", list, err)
	}

	off := false
	upd, err := owner.UpdateWebhook(ctx, ep.ID, client.WebhookInput{URL: recv.URL + "/v2", Events: []string{"subscriber.bounced"}, Active: &off})
	if err != nil || upd.Active || upd.URL != recv.URL+"/v2" || len(upd.Events) != 1 || upd.Secret != "" {
		t.Fatalf("update = %+v, %v", upd, err)
	}
	if _, err := owner.TestWebhook(ctx, ep.ID); !errors.As(err, &ae) || ae.Status != http.StatusConflict {
		t.Fatalf("test of an endpoint that is off: %v", err)
	}
	if err := owner.DeleteWebhook(ctx, ep.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.Webhook(ctx, ep.ID); !client.IsNotFound(err) {
		t.Fatalf("after delete: %v", err)
	}
}
