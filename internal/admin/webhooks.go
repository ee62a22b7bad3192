package admin

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/webhook"
)

// webhookForm reads an endpoint's URL, events, description and new secret
// from a form into e (as typed, so a form that comes back keeps them), and
// returns what is wrong with them, by field ("url", "events", "secret").
func (a *Admin) webhookForm(r *http.Request, e *model.WebhookEndpoint) fieldErrors {
	errs := fieldErrors{}
	e.URL = strings.TrimSpace(r.FormValue("url"))
	if u, err := webhook.CheckReceiver(r.Context(), e.URL, a.d.WebhookAllow); err != nil {
		errs["url"] = firstUpper(err.Error()) + "."
	} else {
		e.URL = u
	}
	e.Events = nil
	for _, v := range r.Form["event"] {
		e.Events = append(e.Events, model.WebhookEvent(v))
	}
	if events, err := webhook.ParseEvents(r.Form["event"]); err != nil {
		errs["events"] = firstUpper(err.Error()) + "."
	} else {
		e.Events = events
	}
	e.Description = strings.TrimSpace(r.FormValue("description"))
	if secret := strings.TrimSpace(r.FormValue("secret")); secret != "" {
		if err := webhook.CheckSecret(secret); err != nil {
			errs["secret"] = firstUpper(err.Error()) + "."
		}
		e.Secret = secret
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func firstUpper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (a *Admin) webhooks(w http.ResponseWriter, r *http.Request) error {
	return a.webhooksPage(w, r, http.StatusOK, &model.WebhookEndpoint{Events: defaultWebhookEvents()}, nil)
}

// defaultWebhookEvents are the events a new endpoint offers checked: all
// but the audit log's.
func defaultWebhookEvents() []model.WebhookEvent {
	var out []model.WebhookEvent
	for _, ev := range model.WebhookEvents() {
		if ev != model.EventAudit {
			out = append(out, ev)
		}
	}
	return out
}

// wanted is the set of events e asks for, for the forms' checkboxes.
func wanted(e *model.WebhookEndpoint) map[model.WebhookEvent]bool {
	wants := map[model.WebhookEvent]bool{}
	for _, ev := range e.Events {
		wants[ev] = true
	}
	return wants
}

// webhooksPage shows the endpoints and the new-endpoint form filled with
// in, and errs beside their fields and above the form (status 422 then).
func (a *Admin) webhooksPage(w http.ResponseWriter, r *http.Request, status int, in *model.WebhookEndpoint, errs fieldErrors) error {
	eps, err := a.d.Store.WebhookEndpoints(r.Context())
	if err != nil {
		return err
	}
	a.page(w, r, status, "webhooks", a.lang(r).T("admin.nav.webhooks"), "webhooks", map[string]any{"Endpoints": eps, "Events": model.WebhookEvents(),
		"In": in, "Wants": wanted(in), "Errors": errs})
	return nil
}

func (a *Admin) webhookCreate(w http.ResponseWriter, r *http.Request) error {
	e := &model.WebhookEndpoint{Active: true}
	if errs := a.webhookForm(r, e); errs != nil {
		return a.webhooksPage(w, r, http.StatusUnprocessableEntity, e, errs)
	}
	if e.Secret == "" {
		e.Secret = webhook.NewSecret()
	}
	if err := a.d.Store.CreateWebhookEndpoint(r.Context(), e); err != nil {
		return err
	}
	a.d.Log.Info("webhook endpoint added", "endpoint", e.ID, "by", identity(r).User.Email)
	return a.redirect(w, r, fmt.Sprintf("/admin/webhooks/%d", e.ID), a.lang(r).T("admin.settings.webhooks.added"), false)
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
	return a.webhookEndpointPage(w, r, http.StatusOK, e, "", nil)
}

// webhookEndpointPage shows endpoint e's deliveries and its form filled
// with e (as typed when errs are set), the new secret typed, and errs
// beside their fields and above the form (status 422 then).
func (a *Admin) webhookEndpointPage(w http.ResponseWriter, r *http.Request, status int, e *model.WebhookEndpoint, newSecret string, errs fieldErrors) error {
	ds, err := a.d.Store.WebhookDeliveries(r.Context(), e.ID, 50)
	if err != nil {
		return err
	}
	a.page(w, r, status, "webhook", a.lang(r).T("admin.settings.webhooks.endpoint"), "webhooks", map[string]any{
		"Endpoint": e, "Deliveries": ds, "Events": model.WebhookEvents(), "Wants": wanted(e), "NewSecret": newSecret, "Errors": errs})
	return nil
}

func (a *Admin) webhookSave(w http.ResponseWriter, r *http.Request) error {
	e, err := a.pathWebhook(r)
	if err != nil {
		return err
	}
	back := fmt.Sprintf("/admin/webhooks/%d", e.ID)
	stored := e.Secret
	e.Secret = "" // kept unless a new one is given
	errs := a.webhookForm(r, e)
	e.Active = r.FormValue("active") == "on"
	if errs != nil {
		typed := e.Secret
		e.Secret = stored
		return a.webhookEndpointPage(w, r, http.StatusUnprocessableEntity, e, typed, errs)
	}
	if err := a.d.Store.UpdateWebhookEndpoint(r.Context(), e); err != nil {
		return err
	}
	return a.redirect(w, r, back, a.lang(r).T("admin.settings.webhooks.saved"), false)
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
	return a.redirect(w, r, "/admin/webhooks", a.lang(r).T("admin.settings.webhooks.deleted"), false)
}

func (a *Admin) webhookTest(w http.ResponseWriter, r *http.Request) error {
	e, err := a.pathWebhook(r)
	if err != nil {
		return err
	}
	back := fmt.Sprintf("/admin/webhooks/%d", e.ID)
	if !e.Active {
		return a.redirect(w, r, back, a.lang(r).T("admin.settings.webhooks.test_off"), true)
	}
	if _, err := a.d.Store.QueueWebhookTest(r.Context(), e.ID); err != nil {
		return err
	}
	return a.redirect(w, r, back, a.lang(r).T("admin.settings.webhooks.test_queued"), false)
}
