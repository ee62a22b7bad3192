package admin

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/webhook"
)

// webhookForm reads an endpoint's URL, events and description from a form
// into e, saying in words what is wrong with them.
func (a *Admin) webhookForm(r *http.Request, e *model.WebhookEndpoint) string {
	u, err := webhook.CheckReceiver(r.Context(), r.FormValue("url"), a.d.WebhookAllow)
	if err != nil {
		return firstUpper(err.Error()) + "."
	}
	events, err := webhook.ParseEvents(r.Form["event"])
	if err != nil {
		return firstUpper(err.Error()) + "."
	}
	e.URL, e.Events = u, events
	e.Description = strings.TrimSpace(r.FormValue("description"))
	if secret := strings.TrimSpace(r.FormValue("secret")); secret != "" {
		if err := webhook.CheckSecret(secret); err != nil {
			return firstUpper(err.Error()) + "."
		}
		e.Secret = secret
	}
	return ""
}

func firstUpper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (a *Admin) webhooks(w http.ResponseWriter, r *http.Request) error {
	eps, err := a.d.Store.WebhookEndpoints(r.Context())
	if err != nil {
		return err
	}
	a.page(w, r, http.StatusOK, "webhooks", "Webhooks", "webhooks", map[string]any{"Endpoints": eps, "Events": model.WebhookEvents()})
	return nil
}

func (a *Admin) webhookCreate(w http.ResponseWriter, r *http.Request) error {
	e := &model.WebhookEndpoint{Active: true}
	if msg := a.webhookForm(r, e); msg != "" {
		return a.redirect(w, r, "/admin/webhooks", msg, true)
	}
	if e.Secret == "" {
		e.Secret = webhook.NewSecret()
	}
	if err := a.d.Store.CreateWebhookEndpoint(r.Context(), e); err != nil {
		return err
	}
	a.d.Log.Info("webhook endpoint added", "endpoint", e.ID, "by", identity(r).User.Email)
	return a.redirect(w, r, fmt.Sprintf("/admin/webhooks/%d", e.ID),
		"Endpoint added. Give its signing secret (below) to the receiver, then send a test event.", false)
}

func (a *Admin) pathWebhook(r *http.Request) (*model.WebhookEndpoint, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return a.d.Store.WebhookEndpoint(r.Context(), id)
}

func (a *Admin) webhookPage(w http.ResponseWriter, r *http.Request) error {
	e, err := a.pathWebhook(r)
	if err != nil {
		return err
	}
	ds, err := a.d.Store.WebhookDeliveries(r.Context(), e.ID, 50)
	if err != nil {
		return err
	}
	wants := map[model.WebhookEvent]bool{}
	for _, ev := range e.Events {
		wants[ev] = true
	}
	a.page(w, r, http.StatusOK, "webhook", "Webhook endpoint", "webhooks", map[string]any{
		"Endpoint": e, "Deliveries": ds, "Events": model.WebhookEvents(), "Wants": wants})
	return nil
}

func (a *Admin) webhookSave(w http.ResponseWriter, r *http.Request) error {
	e, err := a.pathWebhook(r)
	if err != nil {
		return err
	}
	back := fmt.Sprintf("/admin/webhooks/%d", e.ID)
	e.Secret = "" // kept unless a new one is given
	if msg := a.webhookForm(r, e); msg != "" {
		return a.redirect(w, r, back, msg, true)
	}
	e.Active = r.FormValue("active") == "on"
	if err := a.d.Store.UpdateWebhookEndpoint(r.Context(), e); err != nil {
		return err
	}
	return a.redirect(w, r, back, "Endpoint saved.", false)
}

func (a *Admin) webhookDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := a.d.Store.DeleteWebhookEndpoint(r.Context(), id); err != nil {
		return err
	}
	a.d.Log.Info("webhook endpoint deleted", "endpoint", id, "by", identity(r).User.Email)
	return a.redirect(w, r, "/admin/webhooks", "Endpoint deleted, with its deliveries.", false)
}

func (a *Admin) webhookTest(w http.ResponseWriter, r *http.Request) error {
	e, err := a.pathWebhook(r)
	if err != nil {
		return err
	}
	back := fmt.Sprintf("/admin/webhooks/%d", e.ID)
	if !e.Active {
		return a.redirect(w, r, back, "This endpoint is turned off: turn it on to send it a test event.", true)
	}
	if _, err := a.d.Store.QueueWebhookTest(r.Context(), e.ID); err != nil {
		return err
	}
	return a.redirect(w, r, back, "Test event queued: it goes out within seconds. Reload to see the answer below.", false)
}
