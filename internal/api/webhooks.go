package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/herald-news/herald/client"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/webhook"
)

func webhookOut(e store.WebhookEndpointStats) client.WebhookEndpoint {
	out := client.WebhookEndpoint{ID: e.ID, URL: e.URL, Events: []string{}, Active: e.Active, Description: e.Description,
		Pending: e.Pending, Delivered: e.Delivered, Failed: e.Failed, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
	for _, ev := range e.Events {
		out.Events = append(out.Events, string(ev))
	}
	return out
}

func deliveryOut(d model.WebhookDelivery) client.WebhookDelivery {
	out := client.WebhookDelivery{ID: d.ID, Event: string(d.Event), Status: string(d.Status), Code: d.LastCode, Attempts: d.Attempts,
		Error: d.LastError, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
	if d.Status == model.WebhookPending {
		next := d.NextAttempt
		out.NextAttemptAt = &next
	}
	return out
}

// findWebhook returns one endpoint with its counts.
func (a *API) findWebhook(r *http.Request, id int64) (client.WebhookEndpoint, error) {
	eps, err := a.d.Store.WebhookEndpoints(r.Context())
	if err != nil {
		return client.WebhookEndpoint{}, err
	}
	for _, e := range eps {
		if e.ID == id {
			return webhookOut(e), nil
		}
	}
	return client.WebhookEndpoint{}, fmt.Errorf("webhook endpoint %d: %w", id, store.ErrNotFound)
}

// applyWebhook checks in and copies it into e.
func (a *API) applyWebhook(ctx context.Context, in client.WebhookInput, e *model.WebhookEndpoint) error {
	u, err := webhook.CheckReceiver(ctx, in.URL, a.d.WebhookAllow)
	if err != nil {
		return invalid("url: %s", err.Error())
	}
	events, err := webhook.ParseEvents(in.Events)
	if err != nil {
		return invalid("events: %s", err.Error())
	}
	e.URL, e.Events, e.Description, e.Secret = u, events, strings.TrimSpace(in.Description), strings.TrimSpace(in.Secret)
	if e.Secret != "" {
		if err := webhook.CheckSecret(e.Secret); err != nil {
			return invalid("secret: %s", err.Error())
		}
	}
	if in.Active != nil {
		e.Active = *in.Active
	}
	return nil
}

func (a *API) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	eps, err := a.d.Store.WebhookEndpoints(r.Context())
	if err != nil {
		return err
	}
	out := client.Page[client.WebhookEndpoint]{Data: []client.WebhookEndpoint{}, Total: int64(len(eps)), Limit: len(eps)}
	for _, e := range eps {
		out.Data = append(out.Data, webhookOut(e))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) createWebhook(w http.ResponseWriter, r *http.Request) error {
	var in client.WebhookInput
	if err := decode(r, &in); err != nil {
		return err
	}
	e := &model.WebhookEndpoint{Active: true}
	if err := a.applyWebhook(r.Context(), in, e); err != nil {
		return err
	}
	if e.Secret == "" {
		e.Secret = webhook.NewSecret()
	}
	if err := a.d.Store.CreateWebhookEndpoint(r.Context(), e); err != nil {
		return err
	}
	a.d.Log.Info("webhook endpoint added", "endpoint", e.ID, "by", identity(r).User.Email)
	out := webhookOut(store.WebhookEndpointStats{WebhookEndpoint: *e})
	out.Secret = e.Secret // shown this once
	return writeJSON(w, http.StatusCreated, out)
}

func (a *API) getWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	out, err := a.findWebhook(r, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) updateWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in client.WebhookInput
	if err := decode(r, &in); err != nil {
		return err
	}
	e, err := a.d.Store.WebhookEndpoint(r.Context(), id)
	if err != nil {
		return err
	}
	if err := a.applyWebhook(r.Context(), in, e); err != nil {
		return err
	}
	if err := a.d.Store.UpdateWebhookEndpoint(r.Context(), e); err != nil {
		return err
	}
	out, err := a.findWebhook(r, id)
	if err != nil {
		return err
	}
	out.Secret = e.Secret // the new one, when one was set
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := a.d.Store.DeleteWebhookEndpoint(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) webhookDeliveries(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := a.d.Store.WebhookEndpoint(r.Context(), id); err != nil {
		return err
	}
	limit, _ := paging(r)
	ds, err := a.d.Store.WebhookDeliveries(r.Context(), id, limit)
	if err != nil {
		return err
	}
	out := client.Page[client.WebhookDelivery]{Data: []client.WebhookDelivery{}, Total: int64(len(ds)), Limit: limit}
	for _, d := range ds {
		out.Data = append(out.Data, deliveryOut(d))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) testWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	e, err := a.d.Store.WebhookEndpoint(r.Context(), id)
	if err != nil {
		return err
	}
	if !e.Active {
		return &apiError{status: http.StatusConflict, code: "inactive", msg: "The endpoint is turned off: turn it on to send it a test event."}
	}
	did, err := a.d.Store.QueueWebhookTest(r.Context(), id)
	if err != nil {
		return err
	}
	ds, err := a.d.Store.WebhookDeliveries(r.Context(), id, 20)
	if err != nil {
		return err
	}
	for _, d := range ds {
		if d.ID == did {
			return writeJSON(w, http.StatusOK, deliveryOut(d))
		}
	}
	return fmt.Errorf("test delivery %d: %w", did, store.ErrNotFound)
}
