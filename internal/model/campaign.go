package model

import "time"

// CampaignStatus is where a campaign is in its life.
type CampaignStatus string

// Campaign statuses. A campaign goes draft -> (scheduled ->) sending ->
// sent, may be paused and resumed while sending, and may be cancelled at any
// point before it is sent; cancelled and sent are final.
const (
	CampaignDraft     CampaignStatus = "draft"
	CampaignScheduled CampaignStatus = "scheduled"
	CampaignSending   CampaignStatus = "sending"
	CampaignPaused    CampaignStatus = "paused"
	CampaignSent      CampaignStatus = "sent"
	CampaignCancelled CampaignStatus = "cancelled"
)

// Final reports whether no further change is possible.
func (s CampaignStatus) Final() bool { return s == CampaignSent || s == CampaignCancelled }

// Campaign is an edition sent to an audience.
type Campaign struct {
	ID        int64
	Name      string
	EditionID int64
	ListIDs   []int64
	// SegmentIDs are saved segments the campaign also targets: recipients
	// are everyone confirmed on one of its lists or in one of its segments,
	// each address once. Segments are worked out when the campaign starts.
	SegmentIDs []int64
	Status        CampaignStatus
	From      string // "Name <address>"
	ReplyTo   string // optional address
	Relay     string // relay name; "" lets the mailer choose
	SendAt    time.Time
	Tracking  bool
	// PublishOnStart publishes the edition (as the admin's Publish button
	// does) when the campaign starts, so it appears in the archive and the
	// feeds, if it is public, as the mail goes out.
	PublishOnStart bool
	Total          int64 // recipients, once started
	// Problem says why a sending campaign's mail is waiting (its relay is
	// not configured on the nodes that send), or is empty.
	Problem   string
	CreatedAt time.Time
	UpdatedAt time.Time
	StartedAt time.Time
	DoneAt    time.Time
}

// Frozen is what a campaign sends, fixed when it starts: delivery never
// re-reads the (mutable) edition. HTML and Text hold the rendered edition
// with per-subscriber placeholders still in them.
type Frozen struct {
	Subject string
	Prefix  string // marks the placeholders in HTML and Text
	HTML    []byte
	Text    []byte
	Links   []string // every URL in the edition: the click redirect goes only to these
	// Transport is the kind of transport the campaign started with
	// (mailer.TransportSMTP or TransportOutbox; empty for campaigns from
	// before it was recorded): its mail goes out through that kind only.
	Transport string
}

// DeliveryStatus is the state of one recipient's row in a campaign's ledger.
type DeliveryStatus string

// Delivery statuses. pending -> sending (leased) -> sent | deferred (retry
// later) | failed; skipped means the address was suppressed or unsubscribed
// after the campaign started.
const (
	DeliveryPending  DeliveryStatus = "pending"
	DeliverySending  DeliveryStatus = "sending"
	DeliverySent     DeliveryStatus = "sent"
	DeliveryDeferred DeliveryStatus = "deferred"
	DeliveryFailed   DeliveryStatus = "failed"
	DeliverySkipped  DeliveryStatus = "skipped"
)

// Delivery is one recipient of one campaign, as claimed by a worker.
type Delivery struct {
	ID           int64
	CampaignID   int64
	SubscriberID int64
	Email        string
	Name         string
	Attempts     int
}

// Progress counts a campaign's ledger by status.
type Progress struct {
	Total, Pending, Sending, Sent, Deferred, Failed, Skipped int64
}

// Done reports whether every row reached a final state.
func (p Progress) Done() bool { return p.Pending == 0 && p.Sending == 0 && p.Deferred == 0 }

// EventKind is what a reader or a mail provider told us.
type EventKind string

// Event kinds.
const (
	EventOpen        EventKind = "open"
	EventClick       EventKind = "click"
	EventBounce      EventKind = "bounce" // hard bounce reported asynchronously
	EventSoftBounce  EventKind = "soft_bounce"
	EventComplaint   EventKind = "complaint"
	EventUnsubscribe EventKind = "unsubscribe"
)

// Event is one open, click, bounce, complaint or unsubscribe. SubscriberID
// is zero in anonymous tracking mode or when the subscriber is unknown.
type Event struct {
	Kind         EventKind
	CampaignID   int64
	SubscriberID int64
	URL          string // clicks: the target
	Detail       string // bounces and complaints: the provider's words
	At           time.Time
}
