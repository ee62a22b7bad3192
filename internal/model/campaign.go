package model

import (
	"fmt"
	"strings"
	"time"
)

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
	Status     CampaignStatus
	From       string // "Name <address>"
	ReplyTo    string // optional address
	Relay      string // relay name; "" lets the mailer choose
	SendAt     time.Time
	Tracking   bool
	// PublishOnStart publishes the edition (as the admin's Publish button
	// does) when the campaign starts, so it appears in the archive and the
	// feeds, if it is public, as the mail goes out.
	PublishOnStart bool
	// LocalTime ("07:00"), when set, sends each recipient's copy at that
	// time of day in their zone (attribute tz, else the publication's),
	// the first such time after the campaign starts.
	LocalTime string
	// AB, when set, makes the campaign an A/B subject test.
	AB *ABTest
	// ABWinner is the winning variant (1-based) once chosen, else 0.
	ABWinner    int
	ABDecidedAt time.Time
	Total       int64 // recipients, once started
	// Problem says why a sending campaign's mail is waiting (its relay is
	// not configured on the nodes that send), or is empty.
	Problem   string
	CreatedAt time.Time
	UpdatedAt time.Time
	StartedAt time.Time
	DoneAt    time.Time
}

// ABMetric is what decides an A/B test.
type ABMetric string

// A/B test metrics: unique opens or unique clicks per variant.
const (
	ABOpens  ABMetric = "opens"
	ABClicks ABMetric = "clicks"
)

// ABTest sends 2 to 4 subject lines (and optionally preheaders) each to an
// equal share of a sample of the audience, then, Wait after the start, the
// rest with the variant that won by Metric.
type ABTest struct {
	Variants      []Variant     `json:"variants"`
	SamplePercent int           `json:"sample_percent"` // of the audience, 2 to 90
	Wait          time.Duration `json:"wait"`
	Metric        ABMetric      `json:"metric"`
}

// Variant is one subject line under test; an empty Preheader keeps the
// edition's.
type Variant struct {
	Subject   string `json:"subject"`
	Preheader string `json:"preheader,omitempty"`
}

// Check returns a message a person can act on when the test cannot run.
func (t *ABTest) Check() error {
	switch {
	case len(t.Variants) < 2 || len(t.Variants) > 4:
		return fmt.Errorf("an A/B test needs 2 to 4 subject lines (it has %d)", len(t.Variants))
	case t.SamplePercent < 2 || t.SamplePercent > 90:
		return fmt.Errorf("the A/B sample must be 2%% to 90%% of the audience (it is %d%%)", t.SamplePercent)
	case t.Wait < time.Minute || t.Wait > 7*24*time.Hour:
		return fmt.Errorf("the A/B test must wait from one minute to seven days before choosing (it waits %s)", t.Wait)
	case t.Metric != ABOpens && t.Metric != ABClicks:
		return fmt.Errorf("an A/B test is decided by opens or clicks (not %q)", t.Metric)
	}
	for i, v := range t.Variants {
		if strings.TrimSpace(v.Subject) == "" {
			return fmt.Errorf("A/B subject line %d is empty", i+1)
		}
		if strings.ContainsAny(v.Subject+v.Preheader, "\r\n") {
			return fmt.Errorf("A/B subject line %d has a line break", i+1)
		}
	}
	return nil
}

// CheckCampaignOptions refuses local-time and A/B settings that cannot
// work, with a message a person can act on.
func CheckCampaignOptions(c *Campaign) error {
	if c.LocalTime != "" {
		if _, _, err := ParseLocalTime(c.LocalTime); err != nil {
			return fmt.Errorf("local send time: %w", err)
		}
	}
	if c.AB != nil {
		if err := c.AB.Check(); err != nil {
			return err
		}
		if c.LocalTime != "" {
			return fmt.Errorf("an A/B test cannot be combined with sending at a local time")
		}
	}
	return nil
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
	// Variants are an A/B test's copies, variant i+1 at index i: the
	// edition rendered with each subject line and preheader.
	Variants []VariantCopy
}

// VariantCopy is one A/B variant, frozen.
type VariantCopy struct {
	Subject   string
	Preheader string
	HTML      []byte
	Text      []byte
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
	// Variant is the A/B variant (1-based) the row is sent with; 0 for a
	// campaign without a test.
	Variant int
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

// EventClass says who caused an open or a click (package engage decides).
type EventClass string

// Event classes.
const (
	// ClassHuman is a reader (and every event that is not an open or a
	// click).
	ClassHuman EventClass = "human"
	// ClassMachine is a security scanner, a link preview, a prefetch or a
	// HEAD request: never a reader.
	ClassMachine EventClass = "machine"
	// ClassPrivacy is an open preloaded by a privacy proxy (Apple Mail
	// Privacy Protection): neither a reader's open nor no open.
	ClassPrivacy EventClass = "privacy"
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
	// Class and Reason are an open's or a click's classification (empty
	// Class: human) and the rule that decided it ("" for a plain human).
	Class  EventClass
	Reason string
}

// FeedbackKind says what a reader's feedback is about.
type FeedbackKind string

// Feedback kinds.
const (
	FeedbackBriefing FeedbackKind = "briefing" // the whole edition
	FeedbackSection  FeedbackKind = "section"  // one section of it
	FeedbackLeaving  FeedbackKind = "leaving"  // why the reader unsubscribed
)

// Feedback is one reader's answer. Rating is 1 (poor) to 3 (great) for a
// briefing or a section; Reason is one of package feedback's reasons for
// leaving.
type Feedback struct {
	Kind         FeedbackKind
	CampaignID   int64 // 0 when unknown (leaving from a list link)
	SubscriberID int64
	Section      string // FeedbackSection: lead, cards, briefs or picks
	Rating       int
	Reason       string
	Comment      string
	At           time.Time
}
