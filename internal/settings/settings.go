// Package settings reads and writes what the newsroom changes while Herald
// runs: tracking and privacy, the DKIM key generated in the admin, the
// publication's brand (name, colours, sections) and how long the audit log
// is kept. They live in the store
// (the settings table and the publication row); this package owns their
// keys, their types, their defaults before anything is saved, and how the
// configuration file's fixed choices rank above them.
//
// Contract: every reader (delivery, the public web, the admin, the CLI)
// goes through this package, so a setting means the same thing everywhere;
// nothing here caches, so a change saved on one node is seen by the next
// read on every node.
package settings

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/message"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/validator"
)

// Keys of the settings table.
const (
	KeyTrackOpens    = "tracking.opens"     // "on" or "off": new campaigns track opens
	KeyTrackClicks   = "tracking.clicks"    // "on" or "off": new campaigns track clicks
	KeyAnonymous     = "tracking.anonymous" // "on": events are recorded without the subscriber
	KeyTrackingSaved = "tracking.saved"     // when the tracking settings were last saved (RFC 3339)
	KeyDKIM          = "dkim.key"           // PKCS#8 PEM
	KeyDKIMSelector  = "dkim.selector"
	KeyDKIMDomain    = "dkim.domain"
	KeySecret        = "secret_key"   // the token signing key when the configuration sets none
	KeyCSRF          = "web_csrf_key" // the public forms' CSRF key, one for every node
	KeyServeTheme    = "serve.theme"  // the theme folder herald serve renders with ("" built in)
	// KeySenderTested is when a test copy last went out and the transport
	// took it (RFC 3339): the first-run checklist's proof that the sender
	// identity and the relay work.
	KeySenderTested = "sender.tested"
	// KeyAuditRetention is how many days audit log rows are kept ("0":
	// for ever).
	KeyAuditRetention = "audit_retention_days"
)

// Reader is the part of the store settings are read from.
type Reader interface {
	KeyReader
	PublicationReader
}

// KeyReader reads keys of the settings table.
type KeyReader interface {
	Settings(ctx context.Context, keys ...string) (map[string]string, error)
}

// PublicationReader reads the publication row.
type PublicationReader interface {
	GetPublication(ctx context.Context) (model.Publication, error)
}

// Store is the part of the store settings live in (*store.Store).
type Store interface {
	Reader
	PutSettings(ctx context.Context, values map[string]string) error
	SavePublication(ctx context.Context, p model.Publication) error
}

// TrackingMode is the configuration's tracking mode: the most that opens
// and clicks record, whatever the admin's settings say.
type TrackingMode string

// Tracking modes.
const (
	// TrackFull records opens and clicks with the subscriber.
	TrackFull TrackingMode = "full"
	// TrackAnonymous counts opens and clicks per campaign without linking
	// them to the subscriber.
	TrackAnonymous TrackingMode = "anonymous"
	// TrackOff records nothing; the click redirect still works.
	TrackOff TrackingMode = "off"
)

// Tracking is the tracking and privacy settings.
type Tracking struct {
	Opens, Clicks bool // defaults for new campaigns
	Anonymous     bool // record events without who caused them
}

// LoadTracking reads the tracking settings; before they are saved, opens
// and clicks are tracked and events are not anonymous.
func LoadTracking(ctx context.Context, st Reader) (Tracking, error) {
	v, err := st.Settings(ctx, KeyTrackOpens, KeyTrackClicks, KeyAnonymous)
	if err != nil {
		return Tracking{}, err
	}
	t := Tracking{Opens: true, Clicks: true}
	for k, b := range map[string]*bool{KeyTrackOpens: &t.Opens, KeyTrackClicks: &t.Clicks, KeyAnonymous: &t.Anonymous} {
		if s, ok := v[k]; ok {
			*b = s == "on"
		}
	}
	return t, nil
}

// SaveTracking stores the tracking settings, saved at at, in one
// transaction.
func SaveTracking(ctx context.Context, st Store, t Tracking, at time.Time) error {
	onOff := func(b bool) string {
		if b {
			return "on"
		}
		return "off"
	}
	return st.PutSettings(ctx, map[string]string{KeyTrackOpens: onOff(t.Opens), KeyTrackClicks: onOff(t.Clicks),
		KeyAnonymous: onOff(t.Anonymous), KeyTrackingSaved: at.UTC().Format(time.RFC3339)})
}

// SaveServeTheme records the theme folder `herald serve` renders with
// ("" for the built-in theme), so that commands run against the same
// database (herald send, campaign start) freeze campaigns in the look the
// admin's previews and test copies show.
func SaveServeTheme(ctx context.Context, st Store, dir string) error {
	return st.PutSettings(ctx, map[string]string{KeyServeTheme: dir})
}

// ServeTheme is the theme folder `herald serve` last started with, or "".
func ServeTheme(ctx context.Context, st Reader) (string, error) {
	m, err := st.Settings(ctx, KeyServeTheme)
	if err != nil {
		return "", fmt.Errorf("read the serve theme: %w", err)
	}
	return m[KeyServeTheme], nil
}

// InvalidError is a value a person gave a setting that it refuses, with
// a message written for them.
type InvalidError struct {
	Key string
	Msg string
}

func (e *InvalidError) Error() string { return e.Msg }

// DefaultAuditRetentionDays is how long audit rows are kept until an
// owner says otherwise; MaxAuditRetentionDays is the longest allowed.
const (
	DefaultAuditRetentionDays = 365
	MaxAuditRetentionDays     = 36500
)

// ParseAuditRetention reads a retention in days as a person typed it.
func ParseAuditRetention(raw string) (int, error) {
	days, err := strconv.Atoi(strings.TrimSpace(raw))
	if err != nil {
		return 0, &InvalidError{Key: KeyAuditRetention, Msg: fmt.Sprintf("The audit log retention is a whole number of days, not %q.", raw)}
	}
	return days, checkAuditRetention(days)
}

func checkAuditRetention(days int) error {
	if days < 0 || days > MaxAuditRetentionDays {
		return &InvalidError{Key: KeyAuditRetention,
			Msg: fmt.Sprintf("The audit log retention must be from 0 (keep for ever) to %d days, not %d.", MaxAuditRetentionDays, days)}
	}
	return nil
}

// LoadAuditRetention returns how many days audit rows are kept (0: for
// ever).
func LoadAuditRetention(ctx context.Context, st KeyReader) (int, error) {
	v, err := st.Settings(ctx, KeyAuditRetention)
	if err != nil {
		return 0, err
	}
	raw, ok := v[KeyAuditRetention]
	if !ok {
		return DefaultAuditRetentionDays, nil
	}
	days, err := ParseAuditRetention(raw)
	if err != nil {
		return 0, fmt.Errorf("stored audit retention: %w", err)
	}
	return days, nil
}

// SaveAuditRetention stores how many days audit rows are kept, refusing
// a number outside 0 to MaxAuditRetentionDays with an InvalidError.
func SaveAuditRetention(ctx context.Context, st Store, days int) error {
	if err := checkAuditRetention(days); err != nil {
		return err
	}
	return st.PutSettings(ctx, map[string]string{KeyAuditRetention: strconv.Itoa(days)})
}

// LoadDKIM returns the DKIM key generated in the admin's settings, or nil
// when none was generated.
func LoadDKIM(ctx context.Context, st Reader) (*message.DKIM, error) {
	// One read for the three, written together: a key never meets the
	// selector of the key before it.
	v, err := st.Settings(ctx, KeyDKIM, KeyDKIMSelector, KeyDKIMDomain)
	if err != nil {
		return nil, err
	}
	pem, ok := v[KeyDKIM]
	if !ok {
		return nil, nil
	}
	key, err := message.ParseKey([]byte(pem))
	if err != nil {
		return nil, fmt.Errorf("stored DKIM key: %w", err)
	}
	return &message.DKIM{Domain: v[KeyDKIMDomain], Selector: v[KeyDKIMSelector], Key: key}, nil
}

// SaveDKIM stores a DKIM key (PKCS#8 PEM) with its selector and domain,
// the three together.
func SaveDKIM(ctx context.Context, st Store, pem []byte, selector, domain string) error {
	return st.PutSettings(ctx, map[string]string{KeyDKIM: string(pem), KeyDKIMSelector: selector, KeyDKIMDomain: domain})
}

// LoadPublication returns the saved publication settings, or fallback
// before they are first saved.
func LoadPublication(ctx context.Context, st PublicationReader, fallback model.Publication) (model.Publication, error) {
	p, err := st.GetPublication(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return fallback, nil
	}
	return p, err
}

// SavePublication stores the publication settings, replacing any before,
// once they pass validator.Publication (every problem at once, as
// validator.Errors).
func SavePublication(ctx context.Context, st Store, p model.Publication) error {
	if err := validator.Publication(p); err != nil {
		return err
	}
	return st.SavePublication(ctx, p)
}

// Settings are the settings as a running Herald reads them: the stored
// ones under what the configuration fixes. Build one at start-up and hand
// it to every package that reads settings; its methods read the store
// each time.
type Settings struct {
	Store Reader
	// DKIM, when set, is the configuration file's key: it signs instead
	// of any key generated in the admin.
	DKIM *message.DKIM
	// Tracking is the configured tracking mode (default full).
	Tracking TrackingMode
	// Publication stands in until publication settings are saved (default
	// model.DefaultPublication of BaseURL).
	Publication model.Publication
	// BaseURL is the public site's URL.
	BaseURL string
}

// New returns the settings kept in st, with no fixed choices: full
// tracking, the admin's DKIM key, the default publication of baseURL.
func New(st Reader, baseURL string) *Settings {
	return &Settings{Store: st, Tracking: TrackFull, Publication: model.DefaultPublication(baseURL), BaseURL: baseURL}
}

// SigningKey is the DKIM key that signs mail now: the configuration's,
// else the one generated in the admin, else nil (unsigned).
func (s *Settings) SigningKey(ctx context.Context) (*message.DKIM, error) {
	if s.DKIM != nil {
		return s.DKIM, nil
	}
	return LoadDKIM(ctx, s.Store)
}

// KeySource says where SigningKey's key comes from: "configuration file"
// or "generated here".
func (s *Settings) KeySource() string {
	if s.DKIM != nil {
		return "configuration file"
	}
	return "generated here"
}

// NoTracking reports whether the configuration turns tracking off.
func (s *Settings) NoTracking() bool { return s.Tracking == TrackOff }

// Anonymous reports whether events are recorded without the subscriber
// now: the configuration says so, or the admin's privacy setting does.
func (s *Settings) Anonymous(ctx context.Context) (bool, error) {
	if s.Tracking == TrackAnonymous {
		return true, nil
	}
	t, err := LoadTracking(ctx, s.Store)
	return t.Anonymous, err
}

// Brand returns the publication settings: the saved ones, else the
// default.
func (s *Settings) Brand(ctx context.Context) (model.Publication, error) {
	fallback := s.Publication
	if fallback.Name == "" {
		fallback = model.DefaultPublication(s.BaseURL)
	}
	return LoadPublication(ctx, s.Store, fallback)
}

// SenderSource is where a campaign's sender is read from: its first list's
// brand and the publication's settings (the store).
type SenderSource interface {
	ListByID(ctx context.Context, id int64) (*model.List, error)
	PublicationReader
}

// FillSender fills in a campaign's From and Reply-To when they are empty,
// each from the first that has one: the brand of the campaign's first
// list, the publication's sender (Admin → Settings), and for the From def
// (the configuration's from). Campaigns from the admin, the API, the CLI
// and series all take their sender here.
func FillSender(ctx context.Context, src SenderSource, c *model.Campaign, def string) error {
	if c.From != "" && c.ReplyTo != "" {
		return nil
	}
	var b model.Brand
	if len(c.ListIDs) > 0 {
		l, err := src.ListByID(ctx, c.ListIDs[0])
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("campaign sender: %w", err)
		}
		if l != nil && l.Brand != nil {
			b = *l.Brand
		}
	}
	pub, err := LoadPublication(ctx, src, model.Publication{})
	if err != nil {
		return fmt.Errorf("campaign sender: %w", err)
	}
	if c.From == "" {
		c.From = cmp.Or(b.From, pub.From, def)
	}
	if c.ReplyTo == "" {
		c.ReplyTo = cmp.Or(b.ReplyTo, pub.ReplyTo)
	}
	return nil
}

// MarkSenderTested records that a test copy went out at at (the
// transport took it).
func MarkSenderTested(ctx context.Context, st Store, at time.Time) error {
	return st.PutSettings(ctx, map[string]string{KeySenderTested: at.UTC().Format(time.RFC3339)})
}

// SenderTested returns when a test copy last went out, or the zero time
// when none has.
func SenderTested(ctx context.Context, st KeyReader) (time.Time, error) {
	v, err := st.Settings(ctx, KeySenderTested)
	if err != nil {
		return time.Time{}, err
	}
	if v[KeySenderTested] == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v[KeySenderTested])
	if err != nil {
		return time.Time{}, nil // an unreadable mark is no proof
	}
	return t, nil
}
