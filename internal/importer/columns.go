package importer

import (
	"errors"
	"fmt"
	"sort"
	"strings"
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
	roleUnsubscribedAt             // Mailchimp: set when the contact unsubscribed or was cleaned
)

// knownColumns maps a header, folded by foldHeader, to its role. The names
// come from the exports of Herald itself (email, name, status, created_at,
// attributes), listmonk (uuid, email, name, attributes, status, created_at,
// updated_at), Mailchimp audience exports ("Email Address", "First Name",
// "Last Name", merge fields, MEMBER_RATING, OPTIN_TIME, ..., UNSUB_TIME,
// CLEAN_TIME) and Substack (email, active_subscription, expiry, plan,
// email_disabled, created_at, first_payment_at).
var knownColumns = map[string]role{
	"email":         roleEmail,
	"emailaddress":  roleEmail,
	"mail":          roleEmail,
	"name":          roleName,
	"fullname":      roleName,
	"firstname":     roleFirstName,
	"fname":         roleFirstName,
	"givenname":     roleFirstName,
	"lastname":      roleLastName,
	"lname":         roleLastName,
	"surname":       roleLastName,
	"familyname":    roleLastName,
	"attributes":    roleAttributes,
	"attribs":       roleAttributes,
	"status":        roleStatus,
	"emaildisabled": roleEmailDisabled,
	"unsubtime":     roleUnsubscribedAt,
	"cleantime":     roleUnsubscribedAt,
	"uuid":          roleIgnore,
	"createdat":     roleIgnore,
	"updatedat":     roleIgnore,
}

// keepAsAttribute lists the status-like columns that also carry information
// worth keeping (when and why someone left), so they are stored as
// attributes as well as read for the status.
var keepAsAttribute = map[role]bool{roleUnsubscribedAt: true}

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
		r, known := knownColumns[foldHeader(h)]
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
		}
		if err == nil && keepAsAttribute[r] {
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
	return l, nil
}

// statusSignal is what a row's status columns say.
type statusSignal int

const (
	signalNone         statusSignal = iota // nothing: the import's status applies
	signalSubscribed                       // subscribed, confirmation unknown
	signalConfirmed                        //
	signalUnconfirmed                      //
	signalUnsubscribed                     // left, blocklisted, bounced or cleaned
)

// statusValues maps the values of a status column, lower-cased, to a
// signal: Herald's own statuses, listmonk's subscriber statuses and
// Mailchimp's member statuses.
var statusValues = map[string]statusSignal{
	"":             signalNone,
	"confirmed":    signalConfirmed,
	"unconfirmed":  signalUnconfirmed,
	"unsubscribed": signalUnsubscribed,
	"enabled":      signalSubscribed,
	"subscribed":   signalSubscribed,
	"active":       signalSubscribed,
	"pending":      signalUnconfirmed,
	"blocklisted":  signalUnsubscribed,
	"blacklisted":  signalUnsubscribed,
	"disabled":     signalUnsubscribed,
	"cleaned":      signalUnsubscribed,
	"archived":     signalUnsubscribed,
}

// rowStatus reads the status columns of one record.
func (l *layout) rowStatus(rec []string) (statusSignal, string) {
	sig := signalNone
	if l.status >= 0 {
		v := strings.ToLower(strings.TrimSpace(rec[l.status]))
		s, ok := statusValues[v]
		if !ok {
			return 0, fmt.Sprintf("unknown status %q (expected confirmed, unconfirmed or unsubscribed)", rec[l.status])
		}
		sig = s
	}
	if l.disabled >= 0 {
		switch strings.ToLower(strings.TrimSpace(rec[l.disabled])) {
		case "true", "1", "yes", "t":
			sig = signalUnsubscribed
		case "false", "0", "no", "f", "":
		default:
			return 0, fmt.Sprintf("%s is %q; expected true or false", l.header[l.disabled], rec[l.disabled])
		}
	}
	for _, i := range l.unsubAt {
		if strings.TrimSpace(rec[i]) != "" {
			sig = signalUnsubscribed
		}
	}
	return sig, ""
}

// resolve turns a row's signal into the subscription status it is imported
// with; forced is the status the person importing asked for ("" if none).
func (s statusSignal) resolve(forced model.SubscriptionStatus) model.SubscriptionStatus {
	switch {
	case s == signalUnsubscribed:
		return model.SubUnsubscribed
	case forced != "":
		return forced
	case s == signalUnconfirmed:
		return model.SubUnconfirmed
	default:
		return DefaultStatus
	}
}
