package model

import "time"

// WebhookEvent names something that happened, which outgoing webhooks
// report to the endpoints that asked for it.
type WebhookEvent string

// Webhook events.
const (
	EventSubscriberCreated      WebhookEvent = "subscriber.created"
	EventSubscriberConfirmed    WebhookEvent = "subscriber.confirmed"
	EventSubscriberUnsubscribed WebhookEvent = "subscriber.unsubscribed"
	EventSubscriberBounced      WebhookEvent = "subscriber.bounced"
	EventSubscriberComplained   WebhookEvent = "subscriber.complained"
	EventCampaignStarted        WebhookEvent = "campaign.started"
	EventCampaignSent           WebhookEvent = "campaign.sent"
	// EventAudit is every audit log entry (a change a person made); each
	// notice's type is "audit." and the entry's action.
	EventAudit WebhookEvent = "audit.*"
	// EventWebhookTest is the "send test event" button's: it goes to the
	// one endpoint it was asked for and cannot be subscribed to.
	EventWebhookTest WebhookEvent = "webhook.test"
)

// WebhookEvents returns the events an endpoint can subscribe to, in the
// order pages list them.
func WebhookEvents() []WebhookEvent {
	return []WebhookEvent{EventSubscriberCreated, EventSubscriberConfirmed, EventSubscriberUnsubscribed,
		EventSubscriberBounced, EventSubscriberComplained, EventCampaignStarted, EventCampaignSent, EventAudit}
}

// Valid reports whether e is an event an endpoint can subscribe to.
func (e WebhookEvent) Valid() bool {
	for _, k := range WebhookEvents() {
		if e == k {
			return true
		}
	}
	return false
}

// WebhookEndpoint is a URL that receives signed POSTs for the events it
// subscribed to.
type WebhookEndpoint struct {
	ID          int64
	URL         string
	Secret      string // HMAC-SHA256 key of the signature; never shown after creation
	Events      []WebhookEvent
	Active      bool
	Description string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Wants reports whether the endpoint subscribed to e.
func (w *WebhookEndpoint) Wants(e WebhookEvent) bool {
	for _, k := range w.Events {
		if k == e {
			return true
		}
	}
	return false
}

// WebhookStatus is where one webhook delivery stands.
type WebhookStatus string

// Webhook delivery statuses.
const (
	WebhookPending   WebhookStatus = "pending"   // waiting for its first try or a retry (or being sent)
	WebhookDelivered WebhookStatus = "delivered" // the endpoint answered 2xx
	WebhookFailed    WebhookStatus = "failed"    // every try failed; no more tries
)

// WebhookDelivery is one event on its way to one endpoint.
type WebhookDelivery struct {
	ID         int64
	EndpointID int64
	Event      WebhookEvent
	Payload    []byte // the JSON body, the same on every try
	Status     WebhookStatus
	Attempts   int
	// NextAttempt is when a pending delivery is tried next (or, while a
	// sender holds it, when its claim runs out).
	NextAttempt time.Time
	LastCode    int    // the endpoint's last HTTP status, 0 when none came
	LastError   string // why the last try failed
	CreatedAt   time.Time
	UpdatedAt   time.Time
}
