package model

import "time"

// FeedStatus says how a source's last poll went.
type FeedStatus string

// Source statuses.
const (
	SourceNew   FeedStatus = "new"   // not polled yet
	SourceOK    FeedStatus = "ok"    // the last poll read the feed
	SourceError FeedStatus = "error" // the last poll failed; LastError says why
)

// Feed is a source: a feed (RSS, Atom or JSON Feed) the desk reads: the
// publication's own site (Own: its items become cards) or another
// publication (its items become picks, credited to Publication).
type Feed struct {
	ID          int64         `json:"id"`
	Name        string        `json:"name"`
	URL         string        `json:"url"`
	Own         bool          `json:"own"`
	Publication string        `json:"publication,omitempty"`
	Interval    time.Duration `json:"-"` // time between polls
	// IntervalMinutes is Interval as the API shows it (the store fills it).
	IntervalMinutes int        `json:"interval_minutes"`
	Status          FeedStatus `json:"status"`
	LastError       string     `json:"last_error,omitempty"`
	PolledAt        time.Time  `json:"polled_at,omitzero"`
	NextPollAt      time.Time  `json:"next_poll_at"`
	CreatedAt       time.Time  `json:"created_at"`
	// ETag and LastModified are the validators of the last response, sent
	// back on the next poll as a conditional GET.
	ETag         string `json:"-"`
	LastModified string `json:"-"`
}

// FeedItem is one entry of a source's feed, stored once per GUID.
type FeedItem struct {
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
	// Filled when listing for the desk: the source's name, publication and
	// kind, and the dates of recent editions that already link to URL.
	SourceName  string   `json:"source_name,omitempty"`
	Publication string   `json:"publication,omitempty"`
	Own         bool     `json:"own"`
	UsedIn      []string `json:"used_in,omitempty"`
}

// Series is a recurring briefing: on Weekdays at SlotTime (HH:MM in the
// newsroom's time zone) an edition built from Template goes to ListIDs.
// A manual series sends the day's draft once an editor marks it ready; an
// automatic one builds the edition itself from SourceID's new items.
type Series struct {
	ID       int64          `json:"id"`
	Name     string         `json:"name"`
	Weekdays []time.Weekday `json:"weekdays"`
	SlotTime string         `json:"slot_time"`      // "18:00"
	Slot     Slot           `json:"slot,omitempty"` // the editions' slot word; from SlotTime when empty
	ListIDs  []int64        `json:"list_ids"`
	From     string         `json:"from,omitempty"`
	// Template is the skeleton each draft starts from: subject (where
	// "{date}" becomes the day, as "Monday 2 March 2026"), preheader and
	// sections with their titles and fixed text.
	Template  Edition `json:"template"`
	Automatic bool    `json:"automatic"`
	SourceID  int64   `json:"source_id,omitempty"`
	// RemindBefore is how long before the slot an unready draft earns a
	// reminder to RemindTo (an address; empty: none).
	RemindBefore time.Duration `json:"remind_before"`
	RemindTo     string        `json:"remind_to,omitempty"`
	// ItemCursor is the newest source item an automatic series has sent.
	ItemCursor int64 `json:"item_cursor,omitempty"`
	// Problem is why an automatic series' last slot sent nothing although
	// there was something new (its template cannot make a sendable
	// edition), in words; "" once a day goes out.
	Problem   string    `json:"problem,omitempty"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
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

// SeriesRun is one day of a series.
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
