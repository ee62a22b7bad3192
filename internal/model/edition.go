package model

import "time"

// Publication is the masthead an edition goes out under: its name and site,
// its look, the postal address the law wants in every footer, and the
// default sections a new edition starts with.
type Publication struct {
	Name          string `json:"name"`
	SiteURL       string `json:"site_url"`           // absolute http(s) URL of the publication's site
	LogoURL       string `json:"logo_url,omitempty"` // absolute URL of a logo image; the name is shown when empty
	Language      string `json:"language,omitempty"` // BCP 47 tag for lang attributes; "en" when empty
	Colors        Colors `json:"colors"`
	PostalAddress string `json:"postal_address"`
	// CreditPrefix introduces a picture's credit ("Photo:", "via") unless
	// the edition sets its own; "Photo:" when empty, nothing when
	// CreditPrefixNone.
	CreditPrefix string `json:"credit_prefix,omitempty"`
	// TimeZone (IANA name) is Herald's one time zone: readers without a
	// tz attribute get a local-time campaign at its hour, series go out
	// at their slots in it, the admin shows times in it; UTC when empty.
	// It is kept as its own setting, not in the publication's document,
	// so the newsroom and the publication never disagree.
	TimeZone string `json:"time_zone,omitempty"`
	// Sections lists the sections a new edition has, in order, with the
	// titles they show when an edition leaves its own title empty.
	Sections []SectionDefault `json:"sections,omitempty"`
	// AskFeedback ends every email with a line asking readers how the
	// edition was, with one-click ratings (docs/engagement.md).
	AskFeedback bool `json:"ask_feedback,omitempty"`
	// From and ReplyTo are the publication's sender identity: every
	// campaign, confirmation and series message goes out From it unless
	// the message or its list's brand has its own; empty, the
	// configuration's from stands in and replies go to From.
	From    string `json:"from,omitempty"`
	ReplyTo string `json:"reply_to,omitempty"`
}

// DefaultPublication is the publication until its settings are first
// saved: named "Herald" (what the admin's settings page shows), at
// siteURL. Every surface (public pages and feeds, mail, the admin) uses
// it, so a fresh install calls itself by one name.
func DefaultPublication(siteURL string) Publication {
	return Publication{Name: "Herald", SiteURL: siteURL}
}

// Colors are the publication's brand colours as CSS hex values ("#1a4d7a").
// Empty values fall back to the theme's own.
type Colors struct {
	Accent     string `json:"accent,omitempty"`
	Text       string `json:"text,omitempty"`
	Background string `json:"background,omitempty"`
}

// SectionDefault is a publication's default for one section: its kind and
// the title it shows.
type SectionDefault struct {
	Kind  SectionKind `json:"kind"`
	Title string      `json:"title"`
}

// DefaultTitle returns the publication's title for sections of kind k, or ""
// when the publication sets none.
func (p Publication) DefaultTitle(k SectionKind) string {
	for _, s := range p.Sections {
		if s.Kind == k {
			return s.Title
		}
	}
	return ""
}

// Slot names the time of day an edition goes out. Publications may use any
// short lowercase word; these are the common ones.
type Slot string

// Common slots.
const (
	SlotMorning Slot = "morning"
	SlotMidday  Slot = "midday"
	SlotEvening Slot = "evening"
)

// EditionStatus says whether an edition is still being written.
type EditionStatus string

// Edition statuses.
const (
	EditionDraft     EditionStatus = "draft"
	EditionPublished EditionStatus = "published"
)

// Valid reports whether s is a known edition status.
func (s EditionStatus) Valid() bool {
	return s == EditionDraft || s == EditionPublished
}

// Edition is one issue of a publication: a briefing with a subject, an
// optional hero image and an ordered list of sections.
type Edition struct {
	ID        int64  `json:"id,omitempty"`
	Slug      string `json:"slug"`                // URL-safe name, unique per publication
	Date      string `json:"date"`                // calendar date, YYYY-MM-DD
	Slot      Slot   `json:"slot,omitempty"`      // morning, evening, ...
	Subject   string `json:"subject"`             // one line, the email subject and page title
	Preheader string `json:"preheader,omitempty"` // the line mail clients show after the subject
	// Language (BCP 47) is the language of Herald's own words around the
	// edition (greeting, footer, dates); empty: its list's, else the
	// publication's.
	Language string        `json:"language,omitempty"`
	Hero     *Image        `json:"hero,omitempty"`
	Sections []Section     `json:"sections"`
	Status   EditionStatus `json:"status,omitempty"`
	Public   bool          `json:"public"` // shown in the public archive and feeds once published
	// Revision is the saved state this copy was read at (1 for the first).
	// An update that carries it is refused if the edition was saved again
	// since, so one editor cannot silently overwrite another; 0 skips the
	// check.
	Revision int `json:"revision,omitempty"`

	CreatedAt   time.Time `json:"created_at,omitzero"`
	UpdatedAt   time.Time `json:"updated_at,omitzero"`
	PublishedAt time.Time `json:"published_at,omitzero"`
}

// Image is a picture with the text that stands in for it and its credit.
type Image struct {
	URL    string `json:"url"`
	Alt    string `json:"alt"`              // what the picture shows, for screen readers and blocked images
	Credit string `json:"credit,omitempty"` // photographer, agency, picture ID
	// CreditPrefix introduces the credit ("Photo:", "via"); empty takes
	// the publication's, CreditPrefixNone shows the credit alone.
	CreditPrefix string `json:"credit_prefix,omitempty"`
	Width        int    `json:"width,omitempty"` // display width in CSS pixels; the theme's column width when 0
}

// CreditPrefixNone as a credit prefix shows a picture's credit with no
// word before it.
const CreditPrefixNone = "none"

// DefaultCreditPrefix introduces a picture's credit when neither the
// edition nor the publication sets a prefix.
const DefaultCreditPrefix = "Photo:"

// CreditLine returns the credit as readers see it, introduced by the
// image's prefix, else the publication's (pubPrefix), else
// DefaultCreditPrefix; "" when there is no credit.
func (i Image) CreditLine(pubPrefix string) string {
	if i.Credit == "" {
		return ""
	}
	prefix := i.CreditPrefix
	if prefix == "" {
		prefix = pubPrefix
	}
	switch prefix {
	case "":
		prefix = DefaultCreditPrefix
	case CreditPrefixNone:
		return i.Credit
	}
	return prefix + " " + i.Credit
}

// SectionKind says what a section holds and so which of its item fields are
// used.
type SectionKind string

// Section kinds.
const (
	KindLead   SectionKind = "lead"   // the main story: Lead
	KindCards  SectionKind = "cards"  // links to the publication's own articles: Cards
	KindBriefs SectionKind = "briefs" // short news items: Briefs
	KindPicks  SectionKind = "picks"  // links to other publications: Picks
	KindText   SectionKind = "text"   // free Markdown: Text
)

// Valid reports whether k is a known section kind.
func (k SectionKind) Valid() bool {
	switch k {
	case KindLead, KindCards, KindBriefs, KindPicks, KindText:
		return true
	}
	return false
}

// Section is one part of an edition. Only the item field that matches Kind
// is set.
type Section struct {
	Kind  SectionKind `json:"kind"`
	Title string      `json:"title,omitempty"` // the publication's default for Kind when empty
	// NoTitle shows the section with no heading at all, not even the
	// publication's default title.
	NoTitle bool    `json:"no_title,omitempty"`
	Lead    *Lead   `json:"lead,omitempty"`
	Cards   []Card  `json:"cards,omitempty"`
	Briefs  []Brief `json:"briefs,omitempty"`
	Picks   []Pick  `json:"picks,omitempty"`
	Text    *Text   `json:"text,omitempty"`
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

// Pick recommends a piece from another publication, credited as "Title.
// Author in Publication.", or with a Verb as "Title, reports Publication."
// ("Title, argues Author in Publication.").
type Pick struct {
	Title       string `json:"title"`
	Verb        string `json:"verb,omitempty"` // such as "reports" or "argues"; see Pick
	Author      string `json:"author,omitempty"`
	Publication string `json:"publication"`
	URL         string `json:"url"`
}

// Text is a free section of Markdown.
type Text struct {
	Body string `json:"body"` // Markdown
}

// EditionRevision is a saved earlier state of an edition, kept each time it
// is updated.
type EditionRevision struct {
	EditionID int64     `json:"edition_id"`
	Revision  int       `json:"revision"`         // 1 for the first saved state, counting up
	Edition   Edition   `json:"edition"`          // the edition as it was saved
	Author    string    `json:"author,omitempty"` // who saved it: a user's address, or empty
	CreatedAt time.Time `json:"created_at"`
}
