package client

import "time"

// Page is one page of a listing.
type Page[T any] struct {
	Data   []T   `json:"data"`
	Total  int64 `json:"total"`
	Limit  int   `json:"limit"`
	Offset int   `json:"offset"`
}

// Me is who a token belongs to and the role it carries.
type Me struct {
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
}

// List is a mailing list with its subscription counts.
type List struct {
	ID           int64     `json:"id"`
	Slug         string    `json:"slug"`
	Name         string    `json:"name"`
	Description  string    `json:"description"`
	OptIn        string    `json:"opt_in"` // single or double
	Public       bool      `json:"public"`
	Language     string    `json:"language"` // BCP 47; "" is the publication's
	Brand        *Brand    `json:"brand,omitempty"`
	Confirmed    int64     `json:"confirmed"`
	Unconfirmed  int64     `json:"unconfirmed"`
	Unsubscribed int64     `json:"unsubscribed"`
	CreatedAt    time.Time `json:"created_at"`
}

// ListInput creates or changes a list (the slug is set once).
type ListInput struct {
	Slug        string `json:"slug,omitempty"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	OptIn       string `json:"opt_in,omitempty"`
	Public      bool   `json:"public"`
	// Language (BCP 47, such as fr or pt-BR) of the list's briefing and
	// of Herald's words to its readers; "" is the publication's, and
	// leaving it out keeps the list's.
	Language *string `json:"language,omitempty"`
	// Brand replaces the list's brand (an empty object removes it);
	// leaving it out keeps the list's.
	Brand *Brand `json:"brand,omitempty"`
}

// Brand is a list's own identity; an empty field takes the publication's.
type Brand struct {
	Name          string `json:"name,omitempty"`
	LogoURL       string `json:"logo_url,omitempty"` // absolute http(s) URL
	Accent        string `json:"accent,omitempty"`   // CSS hex colour
	Background    string `json:"background,omitempty"`
	ThemeDir      string `json:"theme_dir,omitempty"` // a theme folder on the server
	From          string `json:"from,omitempty"`      // "Name <address>"
	ReplyTo       string `json:"reply_to,omitempty"`  // a bare address
	PostalAddress string `json:"postal_address,omitempty"`
}

// Subscription is one subscriber's state on one list.
type Subscription struct {
	ListID int64  `json:"list_id"`
	List   string `json:"list"`
	Status string `json:"status"` // confirmed, unconfirmed, unsubscribed
}

// Subscriber is one address with its lists.
type Subscriber struct {
	ID         int64          `json:"id"`
	Email      string         `json:"email"`
	Name       string         `json:"name"`
	Attributes map[string]any `json:"attributes"`
	Status     string         `json:"status"` // active or blocklisted
	Lists      []Subscription `json:"lists,omitempty"`
	CreatedAt  time.Time      `json:"created_at"`
	UpdatedAt  time.Time      `json:"updated_at"`
}

// SubscriptionInput sets a subscriber's status on a list.
type SubscriptionInput struct {
	ListID int64  `json:"list_id"`
	Status string `json:"status"`
}

// SubscriberInput creates a subscriber, or changes one (PATCH: empty
// fields stay as they are; Attributes replace the old ones when given).
type SubscriberInput struct {
	Email         string              `json:"email,omitempty"`
	Name          string              `json:"name,omitempty"`
	Attributes    map[string]any      `json:"attributes,omitempty"`
	Status        string              `json:"status,omitempty"`
	Subscriptions []SubscriptionInput `json:"subscriptions,omitempty"`
}

// SubscriberQuery filters a subscriber listing.
type SubscriberQuery struct {
	Search    string // part of the email or name
	ListID    int64
	SubStatus string // with ListID
	Status    string // active or blocklisted
	Attribute string // "name=value"; anything else is refused (400 bad_filter)
	Limit     int
	Offset    int
}

// ExportQuery chooses what a list's export holds; zero values select
// everyone on the list.
type ExportQuery struct {
	Status    string // one subscription status: confirmed, unconfirmed or unsubscribed
	Attribute string // "name=value": only subscribers with that attribute
}

// BulkRequest applies one action to many addresses: "upsert" (with
// Subscribers, optionally subscribing them to ListID), "subscribe",
// "unsubscribe" (to ListID), "blocklist", "unblock" or "erase" (with
// Emails).
type BulkRequest struct {
	Action      string            `json:"action"`
	ListID      int64             `json:"list_id,omitempty"`
	Emails      []string          `json:"emails,omitempty"`
	Subscribers []SubscriberInput `json:"subscribers,omitempty"`
}

// BulkResult counts what a bulk request did; each address that failed is
// listed with why.
type BulkResult struct {
	Done   int           `json:"done"`
	Failed []BulkFailure `json:"failed"`
}

// BulkFailure is one address a bulk request could not handle.
type BulkFailure struct {
	Email string `json:"email"`
	Error string `json:"error"`
}

// ImportOptions control a CSV import.
type ImportOptions struct {
	Status string // confirmed, unconfirmed, or "" for the file's own status column
	Mode   string // upsert (default) or skip-existing
}

// ImportResult counts what an import did, with the rejected rows.
// Suppressed counts the rows the file marks as people who left
// (unsubscribed, cleaned, blocklisted): they were put on the suppression
// list, not subscribed.
type ImportResult struct {
	Rows       int      `json:"rows"`
	Imported   int      `json:"imported"`
	Updated    int      `json:"updated"`
	Skipped    int      `json:"skipped"`
	Suppressed int      `json:"suppressed"`
	Rejected   int      `json:"rejected"`
	Rejects    []Reject `json:"rejects"`
}

// Reject is one row an import refused.
type Reject struct {
	Line   int      `json:"line"`
	Reason string   `json:"reason"`
	Fields []string `json:"fields,omitempty"`
}

// Campaign is an edition sent to lists.
type Campaign struct {
	ID        int64   `json:"id"`
	Name      string  `json:"name"`
	EditionID int64   `json:"edition_id"`
	ListIDs   []int64 `json:"list_ids"`
	// SegmentIDs are saved segments the campaign also sends to.
	SegmentIDs []int64    `json:"segment_ids"`
	Status     string     `json:"status"`
	From       string     `json:"from"`
	ReplyTo    string     `json:"reply_to,omitempty"`
	SendAt     *time.Time `json:"send_at,omitempty"`
	Tracking   bool       `json:"tracking"`
	// PublishOnStart publishes the edition when the campaign starts.
	PublishOnStart bool       `json:"publish_on_start"`
	Total          int64      `json:"total"`
	CreatedAt      time.Time  `json:"created_at"`
	StartedAt      *time.Time `json:"started_at,omitempty"`
	DoneAt         *time.Time `json:"done_at,omitempty"`
	// Problem says why the campaign's mail is waiting (its relay is not
	// configured on the servers that send), when it is.
	Problem string `json:"problem,omitempty"`
	// LocalTime ("07:00") sends each reader's copy at that time of day
	// in their zone (attribute tz, else the publication's).
	LocalTime string  `json:"local_time,omitempty"`
	ABTest    *ABTest `json:"ab_test,omitempty"`
	// ABWinner is the winning A/B variant (1-based) once chosen.
	ABWinner int `json:"ab_winner,omitempty"`
}

// ABTest sends 2 to 4 subject lines (optionally with preheaders) to a
// sample, then the rest with the one that won by unique opens or clicks.
type ABTest struct {
	Variants      []ABVariant `json:"variants"`
	SamplePercent int         `json:"sample_percent"` // 2 to 90
	WaitMinutes   int         `json:"wait_minutes"`   // from the start to the choice
	Metric        string      `json:"metric"`         // opens or clicks
}

// ABVariant is one subject line under test.
type ABVariant struct {
	Subject   string `json:"subject"`
	Preheader string `json:"preheader,omitempty"`
}

// ABResult is one variant's figures.
type ABResult struct {
	Variant      int    `json:"variant"`
	Subject      string `json:"subject"`
	Preheader    string `json:"preheader,omitempty"`
	Recipients   int64  `json:"recipients"`
	Sent         int64  `json:"sent"`
	UniqueOpens  int64  `json:"unique_opens"`
	UniqueClicks int64  `json:"unique_clicks"`
}

// HourCount is how many recipients' copies become due in one hour (UTC).
type HourCount struct {
	Hour time.Time `json:"hour"`
	Rows int64     `json:"rows"`
}

// CampaignInput creates a campaign.
type CampaignInput struct {
	Name      string  `json:"name"`
	EditionID int64   `json:"edition_id"`
	ListIDs   []int64 `json:"list_ids"`
	// SegmentIDs: saved segments to send to, with or instead of lists.
	SegmentIDs []int64    `json:"segment_ids,omitempty"`
	From       string     `json:"from,omitempty"`
	ReplyTo    string     `json:"reply_to,omitempty"`
	SendAt     *time.Time `json:"send_at,omitempty"`
	Tracking   *bool      `json:"tracking,omitempty"`
	// PublishOnStart publishes the edition (as PublishEdition does, so it
	// appears in the archive and feeds if it is public) when the campaign
	// starts. It needs the publish permission.
	PublishOnStart bool `json:"publish_on_start,omitempty"`
	// LocalTime ("07:00"): send at that time of day in each reader's zone.
	LocalTime string `json:"local_time,omitempty"`
	// ABTest makes the campaign an A/B subject test.
	ABTest *ABTest `json:"ab_test,omitempty"`
}

// Schedule sets or (with a null time) clears a campaign's send time.
type Schedule struct {
	SendAt *time.Time `json:"send_at"`
}

// StartOptions are the optional body of POST /api/campaigns/{id}/start.
// With neither field the campaign starts at once, as before pre-send
// checks existed (scripts keep working). Precheck runs the checks first
// and, when they warn, answers 409 precheck_warnings and starts nothing;
// AcknowledgeWarnings starts it all the same.
type StartOptions struct {
	Precheck            bool `json:"precheck,omitempty"`
	AcknowledgeWarnings bool `json:"acknowledge_warnings,omitempty"`
}

// PrecheckFinding is one thing the pre-send checks want a person to see.
type PrecheckFinding struct {
	Check   string `json:"check"` // links, images, size, contrast, subject, preheader, duplicate links, local links
	Message string `json:"message"`
	URL     string `json:"url,omitempty"`
}

// PrecheckFetch is how one link or image answered.
type PrecheckFetch struct {
	URL       string   `json:"url"`
	Text      string   `json:"text,omitempty"`
	Status    int      `json:"status,omitempty"`
	Redirects []string `json:"redirects,omitempty"`
	Problem   string   `json:"problem,omitempty"`
}

// Precheck is the pre-send checks' report on a campaign's edition.
type Precheck struct {
	Findings  []PrecheckFinding `json:"findings"`
	Links     []PrecheckFetch   `json:"links"`
	Images    []PrecheckFetch   `json:"images"`
	HTMLBytes int               `json:"html_bytes"`
	Took      int64             `json:"took_ns"`
}

// Progress counts a campaign's recipients by delivery state.
type Progress struct {
	Total    int64 `json:"total"`
	Pending  int64 `json:"pending"`
	Sending  int64 `json:"sending"`
	Sent     int64 `json:"sent"`
	Deferred int64 `json:"deferred"`
	Failed   int64 `json:"failed"`
	Skipped  int64 `json:"skipped"`
	Done     bool  `json:"done"`
}

// Stats is a campaign's delivery and engagement.
type Stats struct {
	Status   string   `json:"status"`
	Progress Progress `json:"progress"`
	// Opens and Clicks count every open and click recorded (human plus
	// machine, plus privacy-protected for opens); UniqueOpens and
	// UniqueClicks the distinct subscribers behind them.
	Opens        int64 `json:"opens"`
	UniqueOpens  int64 `json:"unique_opens"`
	Clicks       int64 `json:"clicks"`
	UniqueClicks int64 `json:"unique_clicks"`
	// Distinct subscribers by class (docs/engagement.md): readers' opens,
	// security scanners' and proxies' opens, opens preloaded by Apple Mail
	// Privacy Protection (whether the reader opened cannot be known);
	// readers' clicks and machines' clicks.
	HumanOpens    int64         `json:"human_opens"`
	MachineOpens  int64         `json:"machine_opens"`
	PrivacyOpens  int64         `json:"privacy_opens"`
	HumanClicks   int64         `json:"human_clicks"`
	MachineClicks int64         `json:"machine_clicks"`
	Bounces       int64         `json:"bounces"`
	Complaints    int64         `json:"complaints"`
	Unsubscribes  int64         `json:"unsubscribes"`
	Series        []SeriesPoint `json:"series"`
	TopLinks      []LinkCount   `json:"top_links"`
	// Waiting counts rows due later (local-time delivery) by hour.
	Waiting []HourCount `json:"waiting"`
	// AB is an A/B test's figures per variant; ABHeld the rows held for,
	// or sent with, the winner.
	AB     []ABResult `json:"ab,omitempty"`
	ABHeld int64      `json:"ab_held,omitempty"`
}

// SeriesPoint is one kind of event in one hour.
type SeriesPoint struct {
	At    time.Time `json:"at"`
	Kind  string    `json:"kind"`
	Count int64     `json:"count"`
}

// LinkCount is one link's clicks: all of them, distinct subscribers, and
// distinct subscribers whose clicks were a reader's (human) or a
// machine's.
type LinkCount struct {
	URL     string `json:"url"`
	Clicks  int64  `json:"clicks"`
	Unique  int64  `json:"unique"`
	Human   int64  `json:"human"`
	Machine int64  `json:"machine"`
}

// Suppression is an address that is never mailed.
type Suppression struct {
	Email     string    `json:"email"`
	Reason    string    `json:"reason"`
	Detail    string    `json:"detail,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// SuppressionInput suppresses an address by hand.
type SuppressionInput struct {
	Email  string `json:"email"`
	Detail string `json:"detail,omitempty"`
}

// WebhookEndpoint is a URL Herald posts signed notices of events to.
type WebhookEndpoint struct {
	ID          int64    `json:"id"`
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Active      bool     `json:"active"`
	Description string   `json:"description,omitempty"`
	// Secret is the signing secret: only in the answer that created the
	// endpoint or set a new secret.
	Secret string `json:"secret,omitempty"`
	// Deliveries kept (finished ones for 30 days), by status.
	Pending   int64     `json:"pending"`
	Delivered int64     `json:"delivered"`
	Failed    int64     `json:"failed"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// WebhookInput creates or changes an endpoint. URL (http or https) and
// Events are required.
type WebhookInput struct {
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Active      *bool    `json:"active,omitempty"` // default true on create; unchanged when absent
	Description string   `json:"description,omitempty"`
	// Secret signs the posts; empty makes one (create) or keeps the old
	// one (change). At least 16 characters.
	Secret string `json:"secret,omitempty"`
}

// WebhookDelivery is one event's notice to one endpoint.
type WebhookDelivery struct {
	ID       int64  `json:"id"`
	Event    string `json:"event"`
	Status   string `json:"status"` // pending, delivered or failed
	Code     int    `json:"code"`   // the endpoint's last HTTP status, 0 when none came
	Attempts int    `json:"attempts"`
	// NextAttemptAt is when a pending delivery is tried next.
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	Error         string     `json:"error,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// ErrorBody is the one shape of every API error.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong: a stable code and a sentence, and for
// input a check refused (code "invalid"), the field it concerns when one
// does ("reply_to", "slug").
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// MessageInput is one transactional message to one subscriber (POST
// /api/messages): an edition (EditionID, or Edition, its slug), rendered
// for the reader as a campaign renders it, or a Template with Variables.
// The edition must be published; the reader confirmed on List (with no
// List, on some list), neither suppressed nor blocklisted: every reader
// the server will not mail is refused alike, with code "cannot_send".
type MessageInput struct {
	To   string `json:"to"`
	Name string `json:"name,omitempty"` // default: the subscriber's name
	// From and ReplyTo default to the server's From and none; From's
	// address must be one the server sends from (its From, a series').
	From    string `json:"from,omitempty"`
	ReplyTo string `json:"reply_to,omitempty"`
	// List, a list's slug, names the message's List-Id and the list its
	// unsubscribe link leaves (without it, the link leaves every list). A
	// reader not confirmed on that list is refused.
	List      string           `json:"list,omitempty"`
	EditionID int64            `json:"edition_id,omitempty"`
	Edition   string           `json:"edition,omitempty"`
	Template  *MessageTemplate `json:"template,omitempty"`
	// Variables fill the template's {{.name}} variables. Herald gives
	// name, email, unsubscribe_url and preferences_url unless set here.
	Variables map[string]string `json:"variables,omitempty"`
}

// MessageTemplate is an inline template: a subject and a text body, an
// HTML body or both, with {{.name}} variables only (values are
// HTML-escaped in the HTML body).
type MessageTemplate struct {
	Subject string `json:"subject"`
	Text    string `json:"text,omitempty"`
	HTML    string `json:"html,omitempty"`
}

// MessageResult is a message handed to the mail transport.
type MessageResult struct {
	MessageID string    `json:"message_id"` // without angle brackets
	To        string    `json:"to"`
	Subject   string    `json:"subject"`
	Transport string    `json:"transport"` // "smtp": a relay took it; "outbox": kept in the built-in outbox
	SentAt    time.Time `json:"sent_at"`
	// Replayed is set when this is the kept answer to an earlier request
	// with the same Idempotency-Key: nothing was sent again.
	Replayed bool `json:"-"`
}

// SourceInput adds a source.
type SourceInput struct {
	Name        string `json:"name"`
	URL         string `json:"url"`
	Own         bool   `json:"own"`                   // the publication's own site: items become cards
	Publication string `json:"publication,omitempty"` // credited in picks; the name when empty
	Interval    int    `json:"interval_minutes,omitempty"`
}

// SourcePoll is what reading a source now found.
type SourcePoll struct {
	NewItems int    `json:"new_items"`         // items not seen before
	Problem  string `json:"problem,omitempty"` // why the feed could not be read, in words
}

// UnfurlInput asks Herald to read a page.
type UnfurlInput struct {
	URL string `json:"url"`
}

// Unfurled is what a page says about itself.
type Unfurled struct {
	URL         string `json:"url"`
	Title       string `json:"title"`
	Author      string `json:"author,omitempty"`
	Publication string `json:"publication,omitempty"`
	Image       string `json:"image,omitempty"`
	Description string `json:"description,omitempty"`
}

// Series is a recurring briefing. Weekdays are 0 (Sunday) to 6; SlotTime
// is HH:MM in the newsroom's time zone; Template is the skeleton each
// day's draft starts from ("{date}" in its subject becomes the day).
type Series struct {
	ID            int64   `json:"id,omitempty"`
	Name          string  `json:"name"`
	Weekdays      []int   `json:"weekdays"`
	SlotTime      string  `json:"slot_time"`
	Slot          string  `json:"slot,omitempty"`
	ListIDs       []int64 `json:"list_ids"`
	From          string  `json:"from,omitempty"`
	Template      Edition `json:"template"`
	Automatic     bool    `json:"automatic"`
	SourceID      int64   `json:"source_id,omitempty"`
	RemindMinutes int     `json:"remind_minutes"`
	RemindTo      string  `json:"remind_to,omitempty"`
	Active        bool    `json:"active"`
	// NextSlot is the next time it goes out (read only).
	NextSlot  time.Time `json:"next_slot,omitzero"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// Ready marks a series draft ready (or back to draft).
type Ready struct {
	Ready bool `json:"ready"`
}

// Segment is a saved audience: the subscribers its query selects (see
// docs/audience.md). Count is how many it selects now.
type Segment struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Query     string    `json:"query"`
	Count     int64     `json:"count"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SegmentInput creates or changes a segment.
type SegmentInput struct {
	Name  string `json:"name"`
	Query string `json:"query"`
}

// SegmentCount is how many subscribers a query selects now.
type SegmentCount struct {
	Query string `json:"query"` // the query in canonical form
	Count int64  `json:"count"`
}

// AuditEntry is one row of the audit log: a change a person made through
// the admin, the API or the command line.
type AuditEntry struct {
	ID      int64                  `json:"id"`
	At      time.Time              `json:"at"`
	Actor   string                 `json:"actor"` // a user's email, a token's name, or "cli:" and the OS user
	Via     string                 `json:"via"`   // admin, api or cli
	IP      string                 `json:"ip,omitempty"`
	Action  string                 `json:"action"` // e.g. campaign.start, settings.update, token.create
	Object  string                 `json:"object"` // kind/id, e.g. campaign/12
	Changes map[string]AuditChange `json:"changes"`
}

// AuditChange is one field's value before and after a change (secrets
// read "(hidden)").
type AuditChange struct {
	Before any `json:"before,omitempty"`
	After  any `json:"after,omitempty"`
}

// AuditPage is a page of the audit log, newest first. NextBefore, when
// not zero, asks for the page after this one (AuditQuery.Before).
type AuditPage struct {
	Data       []AuditEntry `json:"data"`
	NextBefore int64        `json:"next_before,omitempty"`
}

// AuditQuery selects audit entries; zero fields select everything.
type AuditQuery struct {
	Action string // exact, or a prefix ending in "." ("campaign.")
	User   string // the actor, or the email of the user behind it
	Object string // exact ("campaign/12"), or a kind ("campaign")
	Since  string // a duration back ("24h", "7d"), a date or an RFC 3339 time
	Until  string // a date or an RFC 3339 time
	Before int64  // entries older than this ID (paging)
	Limit  int    // at most 1000 (default 100)
}

// AuditRetention is how many days audit rows are kept (0: for ever).
type AuditRetention struct {
	Days int `json:"days"`
}

// TokenInput creates an API token. User (an email) makes it for another
// user, which needs the manage-users permission; empty: the caller's own.
type TokenInput struct {
	Name string `json:"name"`
	Role string `json:"role"`
	User string `json:"user,omitempty"`
}

// Token is an API token. Token, the secret itself, is only in the answer
// that created it.
type Token struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Prefix    string    `json:"prefix"`
	User      string    `json:"user"`
	Token     string    `json:"token,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// User is an admin user.
type User struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
}

// UserInput changes a user's role.
type UserInput struct {
	Role string `json:"role"`
}

// Media is a picture uploaded with UploadMedia: its public address (for an
// edition's hero or a Markdown image), and what was stored. Scaled: it was
// wider than 1200 pixels and was scaled down.
type Media struct {
	URL         string `json:"url"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	Scaled      bool   `json:"scaled"`
	Bytes       int    `json:"bytes"`
}
