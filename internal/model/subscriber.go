package model

import "time"

// SubscriberStatus says whether an address may be mailed at all.
type SubscriberStatus string

// Subscriber statuses.
const (
	SubscriberActive      SubscriberStatus = "active"
	SubscriberBlocklisted SubscriberStatus = "blocklisted"
)

// Valid reports whether s is a known subscriber status.
func (s SubscriberStatus) Valid() bool {
	return s == SubscriberActive || s == SubscriberBlocklisted
}

// Subscriber is one person on one address, across all lists.
type Subscriber struct {
	ID         int64
	Email      string // normalised: see package address
	Name       string
	Attributes map[string]any
	Status     SubscriberStatus
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// OptIn says how a list confirms new subscriptions.
type OptIn string

// Opt-in modes.
const (
	OptInSingle OptIn = "single"
	OptInDouble OptIn = "double"
)

// List is a mailing list that subscribers join.
type List struct {
	ID          int64
	Slug        string
	Name        string
	Description string
	OptIn       OptIn
	Public      bool
	// Language (BCP 47) is the language of the list's briefing: its mails,
	// pages and Herald's words around its editions. Empty: the
	// publication's.
	Language string
	// Brand, when set, is the list's own identity in place of the
	// publication's.
	Brand     *Brand
	CreatedAt time.Time
	UpdatedAt time.Time
}

// SubscriptionStatus is the state of one subscriber on one list.
type SubscriptionStatus string

// Subscription statuses.
const (
	SubUnconfirmed  SubscriptionStatus = "unconfirmed"
	SubConfirmed    SubscriptionStatus = "confirmed"
	SubUnsubscribed SubscriptionStatus = "unsubscribed"
)

// Valid reports whether s is a known subscription status.
func (s SubscriptionStatus) Valid() bool {
	return s == SubUnconfirmed || s == SubConfirmed || s == SubUnsubscribed
}

// Source says where a subscription change came from.
type Source string

// Sources of subscription changes.
const (
	SourceImport   Source = "import"
	SourceForm     Source = "form"
	SourceAPI      Source = "api"
	SourceAdmin    Source = "admin"
	SourceOneClick Source = "one-click"
)

// Subscription is one subscriber's membership of one list, with the time and
// source of its latest change (the full history is kept by the store).
type Subscription struct {
	SubscriberID int64
	ListID       int64
	ListSlug     string
	Status       SubscriptionStatus
	Source       Source
	UpdatedAt    time.Time
}

// SuppressionReason says why an address must never be mailed.
type SuppressionReason string

// Suppression reasons.
const (
	SuppressHardBounce  SuppressionReason = "hard_bounce"
	SuppressComplaint   SuppressionReason = "complaint"
	SuppressUnsubscribe SuppressionReason = "unsubscribe"
	SuppressManual      SuppressionReason = "manual"
)

// Valid reports whether r is a known suppression reason.
func (r SuppressionReason) Valid() bool {
	switch r {
	case SuppressHardBounce, SuppressComplaint, SuppressUnsubscribe, SuppressManual:
		return true
	}
	return false
}

// Suppression blocks an address across every list.
type Suppression struct {
	Email     string
	Reason    SuppressionReason
	Detail    string
	CreatedAt time.Time
}

// MailKind names a message Herald sends to one reader about one list,
// outside any campaign.
type MailKind string

// Transactional messages.
const (
	// MailConfirm asks a reader to confirm a double opt-in subscription.
	MailConfirm MailKind = "confirm"
	// MailWelcome greets a reader whose subscription is confirmed.
	MailWelcome MailKind = "welcome"
	// MailPasswordReset sends an admin user a link to choose a new
	// password. It is about a user, not a reader (MailJob.ResetID).
	MailPasswordReset MailKind = "password-reset"
)
