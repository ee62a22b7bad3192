package client

import "time"

// EditionStatus says whether an edition is still being written.
type EditionStatus string

// Edition statuses.
const (
	EditionDraft     EditionStatus = "draft"
	EditionPublished EditionStatus = "published"
)

// Slot names the time of day an edition goes out: any short lower-case
// word; these are the common ones.
type Slot string

// Common slots.
const (
	SlotMorning Slot = "morning"
	SlotMidday  Slot = "midday"
	SlotEvening Slot = "evening"
)

// SectionKind says what a section holds, and so which of its item fields
// is set.
type SectionKind string

// Section kinds.
const (
	KindLead   SectionKind = "lead"   // the main story: Lead
	KindCards  SectionKind = "cards"  // links to the publication's own articles: Cards
	KindBriefs SectionKind = "briefs" // short news items: Briefs
	KindPicks  SectionKind = "picks"  // links to other publications: Picks
	KindText   SectionKind = "text"   // free Markdown: Text
)

// CreditPrefixNone as an image's credit prefix shows the credit with no
// word before it.
const CreditPrefixNone = "none"

// Edition is one issue of the publication: a subject, an optional hero
// image and an ordered list of sections.
type Edition struct {
	ID        int64  `json:"id,omitempty"`
	Slug      string `json:"slug"`                // URL-safe name, unique
	Date      string `json:"date"`                // calendar date, YYYY-MM-DD
	Slot      Slot   `json:"slot,omitempty"`      // morning, evening, ...
	Subject   string `json:"subject"`             // one line: the email subject and page title
	Preheader string `json:"preheader,omitempty"` // the line mail clients show after the subject
	// Language (BCP 47) of Herald's own words around the edition; empty:
	// its list's, else the publication's.
	Language string        `json:"language,omitempty"`
	Hero     *Image        `json:"hero,omitempty"`
	Sections []Section     `json:"sections"`
	Status   EditionStatus `json:"status,omitempty"`
	Public   bool          `json:"public"` // in the public archive and feeds once published
	// Revision is the saved state this copy was read at. An update that
	// carries it is refused (409 stale) if the edition was saved again
	// since; 0 skips the check.
	Revision int `json:"revision,omitempty"`

	CreatedAt   time.Time `json:"created_at,omitzero"`
	UpdatedAt   time.Time `json:"updated_at,omitzero"`
	PublishedAt time.Time `json:"published_at,omitzero"`
}

// Image is a picture with the text that stands in for it and its credit.
type Image struct {
	URL    string `json:"url"`
	Alt    string `json:"alt"`
	Credit string `json:"credit,omitempty"`
	// CreditPrefix introduces the credit ("Photo:", "via"); empty takes
	// the publication's, CreditPrefixNone shows the credit alone.
	CreditPrefix string `json:"credit_prefix,omitempty"`
	Width        int    `json:"width,omitempty"` // display width in CSS pixels; the theme's when 0
}

// Section is one part of an edition; only the item field that matches
// Kind is set.
type Section struct {
	Kind    SectionKind `json:"kind"`
	Title   string      `json:"title,omitempty"`    // the publication's default for Kind when empty
	NoTitle bool        `json:"no_title,omitempty"` // no heading at all
	Lead    *Lead       `json:"lead,omitempty"`
	Cards   []Card      `json:"cards,omitempty"`
	Briefs  []Brief     `json:"briefs,omitempty"`
	Picks   []Pick      `json:"picks,omitempty"`
	Text    *Text       `json:"text,omitempty"`
}

// Lead is the edition's main story.
type Lead struct {
	Headline string `json:"headline,omitempty"`
	Body     string `json:"body"` // Markdown
	Byline   Byline `json:"byline"`
}

// Byline names the writer of a piece and their role.
type Byline struct {
	Name string `json:"name,omitempty"`
	Role string `json:"role,omitempty"`
}

// Card points to one of the publication's own articles.
type Card struct {
	Author   string `json:"author,omitempty"`
	Headline string `json:"headline"`
	URL      string `json:"url"`
	CTA      string `json:"cta,omitempty"` // call to action, such as "Read here"
}

// Brief is a short news item: a headline and one paragraph.
type Brief struct {
	Headline string `json:"headline"`
	Body     string `json:"body"` // Markdown, one paragraph
}

// Pick recommends a piece from another publication.
type Pick struct {
	Title       string `json:"title"`
	Verb        string `json:"verb,omitempty"` // such as "reports" or "argues"
	Author      string `json:"author,omitempty"`
	Publication string `json:"publication"`
	URL         string `json:"url"`
}

// Text is a free section of Markdown.
type Text struct {
	Body string `json:"body"` // Markdown
}

// EditionRevision is a kept saved state of an edition, with who saved it.
type EditionRevision struct {
	EditionID int64     `json:"edition_id"`
	Revision  int       `json:"revision"`         // 1 for the first saved state, counting up
	Edition   Edition   `json:"edition"`          // the edition as it was saved
	Author    string    `json:"author,omitempty"` // who saved it: a user's address, or empty
	CreatedAt time.Time `json:"created_at"`
}

// SourceStatus says how a source's last poll went.
type SourceStatus string

// Source statuses.
const (
	SourceNew   SourceStatus = "new"   // not polled yet
	SourceOK    SourceStatus = "ok"    // the last poll read the feed
	SourceError SourceStatus = "error" // the last poll failed; LastError says why
)

// Source is a feed the desk reads (RSS, Atom or JSON Feed): the
// publication's own site (Own: its items become cards) or another
// publication (its items become picks, credited to Publication).
type Source struct {
	ID              int64        `json:"id"`
	Name            string       `json:"name"`
	URL             string       `json:"url"`
	Own             bool         `json:"own"`
	Publication     string       `json:"publication,omitempty"`
	IntervalMinutes int          `json:"interval_minutes"`
	Status          SourceStatus `json:"status"`
	LastError       string       `json:"last_error,omitempty"`
	PolledAt        time.Time    `json:"polled_at,omitzero"`
	NextPollAt      time.Time    `json:"next_poll_at"`
	CreatedAt       time.Time    `json:"created_at"`
}

// Item is one entry of a source's feed; UsedIn lists the dates of recent
// editions that already link to it.
type Item struct {
	ID          int64     `json:"id"`
	SourceID    int64     `json:"source_id"`
	GUID        string    `json:"guid"`
	URL         string    `json:"url"`
	Title       string    `json:"title"`
	Author      string    `json:"author,omitempty"`
	Summary     string    `json:"summary,omitempty"`
	ImageURL    string    `json:"image_url,omitempty"`
	PublishedAt time.Time `json:"published_at,omitzero"`
	FetchedAt   time.Time `json:"fetched_at"`
	SourceName  string    `json:"source_name,omitempty"`
	Publication string    `json:"publication,omitempty"`
	Own         bool      `json:"own"`
	UsedIn      []string  `json:"used_in,omitempty"`
}

// RunStatus is where one day of a series is.
type RunStatus string

// Run statuses.
const (
	RunDraft RunStatus = "draft" // the day's draft exists and is being written
	RunReady RunStatus = "ready" // an editor marked it ready: it goes at the slot
	RunSent  RunStatus = "sent"  // its campaign was created for the slot
	RunEmpty RunStatus = "empty" // automatic, nothing new: nothing sent
)

// SeriesRun is one day of a series: its draft, status and campaign.
type SeriesRun struct {
	ID         int64     `json:"id"`
	SeriesID   int64     `json:"series_id"`
	Date       string    `json:"date"`    // YYYY-MM-DD in the newsroom's zone
	SlotAt     time.Time `json:"slot_at"` // the slot as an instant
	EditionID  int64     `json:"edition_id,omitempty"`
	Status     RunStatus `json:"status"`
	RemindedAt time.Time `json:"reminded_at,omitzero"`
	CampaignID int64     `json:"campaign_id,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}
