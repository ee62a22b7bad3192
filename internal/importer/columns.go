package importer

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/herald-news/herald/internal/model"
)

// ErrNoEmailColumn is wrapped by the error Import returns when the header
// has no column Herald recognises as the email address.
var ErrNoEmailColumn = errors.New("no email column")

// ErrBadHeader is wrapped by every other header error (duplicate columns,
// invalid text).
var ErrBadHeader = errors.New("bad header row")

// role is what Herald does with one column of the file.
type role int

const (
	roleAttribute      role = iota // stored as an attribute under the header name
	roleIgnore                     // another platform's bookkeeping (ids, timestamps)
	roleEmail                      // the address
	roleName                       // the full name
	roleFirstName                  // joined with the last name when there is no name column
	roleLastName                   //
	roleAttributes                 // a JSON object merged into the attributes
	roleStatus                     // Herald's and listmonk's status, Mailchimp's API status
	roleEmailDisabled              // Substack: true when the reader stopped email
	roleUnsubscribedAt             // set when the person unsubscribed (Mailchimp's UNSUB_TIME)
	roleCleanedAt                  // Mailchimp: set when the address was cleaned (it bounced)
	roleSignup                     // when the person signed up: the subscription's start
)

// knownColumns maps a header, folded by foldHeader, to its role. The names
// come from the exports of Herald itself (email, name, status, created_at,
// attributes), listmonk (uuid, email, name, attributes, status, created_at,
// updated_at), Mailchimp audience exports ("Email Address", "First Name",
// "Last Name", merge fields, MEMBER_RATING, OPTIN_TIME, CONFIRM_TIME, ...,
// and UNSUB_TIME or CLEAN_TIME in the files of unsubscribed and cleaned
// members) and Substack (email, active_subscription, expiry, plan,
// email_disabled, created_at, first_payment_at), and from the names other
// tools give a signup or unsubscribe date.
var knownColumns = map[string]role{
	"email":                 roleEmail,
	"emailaddress":          roleEmail,
	"mail":                  roleEmail,
	"name":                  roleName,
	"fullname":              roleName,
	"firstname":             roleFirstName,
	"fname":                 roleFirstName,
	"givenname":             roleFirstName,
	"lastname":              roleLastName,
	"lname":                 roleLastName,
	"surname":               roleLastName,
	"familyname":            roleLastName,
	"attributes":            roleAttributes,
	"attribs":               roleAttributes,
	"status":                roleStatus,
	"emaildisabled":         roleEmailDisabled,
	"unsubtime":             roleUnsubscribedAt,
	"unsubscribedat":        roleUnsubscribedAt,
	"unsubscribedate":       roleUnsubscribedAt,
	"unsubscribeddate":      roleUnsubscribedAt,
	"cleantime":             roleCleanedAt,
	"optintime":             roleSignup,
	"confirmtime":           roleSignup,
	"createdat":             roleSignup,
	"subscribedat":          roleSignup,
	"subscriptiondate":      roleSignup,
	"subscriptioncreatedat": roleSignup,
	"signupdate":            roleSignup,
	"signedupat":            roleSignup,
	"joinedat":              roleSignup,
	"uuid":                  roleIgnore,
	"updatedat":             roleIgnore,
}

// signupRank orders the signup-date columns of one file: the first
// non-empty one, by rank and then by position, is the subscription's
// start. A signup or opt-in date comes before a record's creation date,
// which comes before Mailchimp's confirmation time (when the person
// confirmed, after they signed up).
var signupRank = map[string]int{"createdat": 1, "confirmtime": 2}

// keepAsAttribute lists the columns read for a status or a date that also
// carry information worth keeping with the subscriber (Mailchimp's record
// of consent), so they are stored as attributes as well.
var keepAsAttribute = map[string]bool{"optintime": true, "confirmtime": true, "unsubtime": true, "cleantime": true}

// foldHeader reduces a column name to lower-case letters and digits, so
// "Email Address", "email_address" and "E-mail address" compare equal.
func foldHeader(h string) string {
	var b strings.Builder
	for _, r := range h {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// layout is a header row, resolved into what each column means.
type layout struct {
	header     []string
	email      int
	name       int // -1 when absent
	first      int
	last       int
	attributes int
	status     int
	disabled   int
	unsubAt    []int
	cleanedAt  []int
	signup     []int // signup-date columns, in signupRank order
	// attrCols are the columns stored as attributes, sorted by key so the
	// JSON written is canonical.
	attrCols []attrCol
}

type attrCol struct {
	index int
	key   string
}

// parseHeader resolves a header row. It fails when there is no email
// column, or when a column Herald reads appears twice.
func parseHeader(header []string) (*layout, error) {
	l := &layout{header: header, email: -1, name: -1, first: -1, last: -1, attributes: -1, status: -1, disabled: -1}
	for i, h := range header {
		if !utf8.ValidString(h) {
			return nil, fmt.Errorf("%w: column %d's name is not valid UTF-8 text (save the file as UTF-8)", ErrBadHeader, i+1)
		}
	}
	seenKeys := make(map[string]int)
	addAttr := func(i int) error {
		key := strings.TrimSpace(header[i])
		if key == "" {
			return nil // an unnamed column has nowhere to go
		}
		if j, dup := seenKeys[key]; dup {
			return fmt.Errorf("%w: columns %d and %d are both named %q", ErrBadHeader, j+1, i+1, key)
		}
		seenKeys[key] = i
		l.attrCols = append(l.attrCols, attrCol{index: i, key: key})
		return nil
	}
	single := func(dst *int, i int, what string) error {
		if *dst >= 0 {
			return fmt.Errorf("%w: two %s columns, %q (column %d) and %q (column %d)",
				ErrBadHeader, what, header[*dst], *dst+1, header[i], i+1)
		}
		*dst = i
		return nil
	}
	var firstLast []int
	for i, h := range header {
		folded := foldHeader(h)
		r, known := knownColumns[folded]
		if !known {
			r = roleAttribute
		}
		var err error
		switch r {
		case roleAttribute:
			err = addAttr(i)
		case roleIgnore:
		case roleEmail:
			err = single(&l.email, i, "email")
		case roleName:
			err = single(&l.name, i, "name")
		case roleFirstName:
			err = single(&l.first, i, "first-name")
			firstLast = append(firstLast, i)
		case roleLastName:
			err = single(&l.last, i, "last-name")
			firstLast = append(firstLast, i)
		case roleAttributes:
			err = single(&l.attributes, i, "attributes")
		case roleStatus:
			err = single(&l.status, i, "status")
		case roleEmailDisabled:
			err = single(&l.disabled, i, "email_disabled")
		case roleUnsubscribedAt:
			l.unsubAt = append(l.unsubAt, i)
		case roleCleanedAt:
			l.cleanedAt = append(l.cleanedAt, i)
		case roleSignup:
			l.signup = append(l.signup, i)
		}
		if err == nil && keepAsAttribute[folded] {
			err = addAttr(i)
		}
		if err != nil {
			return nil, err
		}
	}
	if l.email < 0 {
		found := make([]string, len(header))
		for i, h := range header {
			found[i] = fmt.Sprintf("%q", h)
		}
		return nil, fmt.Errorf("%w: the header row needs a column named email (or \"Email Address\"); the columns found are %s",
			ErrNoEmailColumn, strings.Join(found, ", "))
	}
	// With a full-name column, first and last names are kept as attributes.
	if l.name >= 0 {
		for _, i := range firstLast {
			if err := addAttr(i); err != nil {
				return nil, err
			}
		}
		l.first, l.last = -1, -1
	}
	sort.Slice(l.attrCols, func(a, b int) bool { return l.attrCols[a].key < l.attrCols[b].key })
	sort.SliceStable(l.signup, func(a, b int) bool {
		return signupRank[foldHeader(header[l.signup[a]])] < signupRank[foldHeader(header[l.signup[b]])]
	})
	return l, nil
}

// statusSignal is what a row's status columns say.
type statusSignal int

const (
	signalNone         statusSignal = iota // nothing: the import's status applies
	signalSubscribed                       // subscribed, confirmation unknown
	signalConfirmed                        //
	signalUnconfirmed                      //
	signalArchived                         // Mailchimp: archived, neither subscribed nor opted out
	signalUnsubscribed                     // left: suppressed as an unsubscribe
	signalBlocklisted                      // blocklisted or disabled: suppressed by hand
	signalCleaned                          // Mailchimp: cleaned after bounces, suppressed as a hard bounce
)

// statusValues maps the values of a status column, lower-cased, to a
// signal: Herald's own statuses (the subscription's), listmonk's
// subscriber statuses and Mailchimp's member statuses.
var statusValues = map[string]statusSignal{
	"":             signalNone,
	"confirmed":    signalConfirmed,
	"unconfirmed":  signalUnconfirmed,
	"unsubscribed": signalUnsubscribed,
	"enabled":      signalSubscribed,
	"subscribed":   signalSubscribed,
	"active":       signalSubscribed,
	"pending":      signalUnconfirmed,
	"blocklisted":  signalBlocklisted,
	"blacklisted":  signalBlocklisted,
	"disabled":     signalBlocklisted,
	"cleaned":      signalCleaned,
	"archived":     signalArchived,
}

// leaving maps the signals of people who left to their suppression.
var leaving = map[statusSignal]model.SuppressionReason{
	signalUnsubscribed: model.SuppressUnsubscribe,
	signalBlocklisted:  model.SuppressManual,
	signalCleaned:      model.SuppressHardBounce,
}

// rowStatus reads the status columns of one record: the signal that
// decides, what the file says in its words, or why the record is refused.
// When several columns speak, the strongest wins: cleaned, then
// blocklisted, then unsubscribed.
func (l *layout) rowStatus(rec []string) (sig statusSignal, said string, reason string) {
	raise := func(s statusSignal, what string) {
		if s > sig {
			sig, said = s, what
		}
	}
	if l.status >= 0 {
		v := strings.TrimSpace(rec[l.status])
		s, ok := statusValues[strings.ToLower(v)]
		if !ok {
			return 0, "", fmt.Sprintf("unknown status %q (expected confirmed, unconfirmed or unsubscribed)", rec[l.status])
		}
		raise(s, l.header[l.status]+" "+v)
	}
	if l.disabled >= 0 {
		switch v := strings.TrimSpace(rec[l.disabled]); strings.ToLower(v) {
		case "true", "1", "yes", "t":
			raise(signalUnsubscribed, l.header[l.disabled]+" "+v)
		case "false", "0", "no", "f", "":
		default:
			return 0, "", fmt.Sprintf("%s is %q; expected true or false", l.header[l.disabled], rec[l.disabled])
		}
	}
	for _, cols := range []struct {
		idx []int
		sig statusSignal
	}{{l.unsubAt, signalUnsubscribed}, {l.cleanedAt, signalCleaned}} {
		for _, i := range cols.idx {
			if v := strings.TrimSpace(rec[i]); v != "" {
				raise(cols.sig, l.header[i]+" "+v)
			}
		}
	}
	return sig, said, ""
}

// resolve turns a row's signal into the subscription status it is imported
// with; forced is the status the person importing asked for ("" if none).
// Signals of people who left are not resolved: they are suppressed.
func (s statusSignal) resolve(forced model.SubscriptionStatus) model.SubscriptionStatus {
	switch {
	case forced != "":
		return forced
	case s == signalUnconfirmed:
		return model.SubUnconfirmed
	default:
		return DefaultStatus
	}
}

// futureSlack is how far past now a signup date may be (clocks and time
// zones differ) before it is refused as in the future.
const futureSlack = 24 * time.Hour

// dateLayouts are the forms of a date Herald reads: RFC 3339 (Herald's
// export, Substack), PostgreSQL's text form with a short offset
// (listmonk), a date and time without a zone, taken as UTC (Mailchimp),
// and a bare date. Fractions of a second are accepted after the seconds.
var dateLayouts = []string{
	time.RFC3339,
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05Z07",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
}

// parseDate reads one date of the file.
func parseDate(v string) (time.Time, bool) {
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// signupTime reads a record's signup-date columns: the first non-empty
// one is the subscription's start (zero when none is filled in). Every
// non-empty one must be a date, not in the future.
func (l *layout) signupTime(rec []string, now time.Time) (time.Time, string) {
	var start time.Time
	for _, i := range l.signup {
		v := strings.TrimSpace(rec[i])
		if v == "" {
			continue
		}
		t, ok := parseDate(v)
		if !ok {
			return time.Time{}, fmt.Sprintf("%s %q is not a date Herald reads: write it as 2024-03-01, 2024-03-01 10:00:00 (UTC) or 2024-03-01T10:00:00+01:00",
				l.header[i], rec[i])
		}
		if t.After(now.Add(futureSlack)) {
			return time.Time{}, fmt.Sprintf("%s %q is in the future", l.header[i], rec[i])
		}
		if start.IsZero() {
			start = t
		}
	}
	return start, ""
}
