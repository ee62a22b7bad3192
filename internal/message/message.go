// Package message builds the RFC 5322 messages Herald sends: one
// multipart/alternative message per recipient (text/plain then text/html,
// UTF-8, quoted-printable) carrying the list headers receivers rely on
// (List-Unsubscribe with RFC 8058 one-click, List-Id, Feedback-ID), encoded
// with emersion/go-message and optionally DKIM-signed with emersion/go-msgauth.
//
// Contract: a Template holds what every message of one send shares and is
// built once; Template.Append is then called per recipient, concurrently if
// wanted, and appends the finished message to the caller's buffer so hot
// loops can reuse one buffer per worker. A campaign, whose bodies differ
// between readers only in a few spans, splices instead: Template.Splice
// encodes what is the same for every reader once, and Spliced.Append
// writes the same bytes as Append for each reader, encoding only the
// lines that hold the reader's own values. No value that comes from data can
// start a header line: any CR, LF or NUL in a header value is refused with an
// error wrapping ErrHeaderInjection.
package message

import (
	"errors"
	"fmt"
	"mime"
	"net/mail"
	nettextproto "net/textproto"
	"net/url"
	"strings"
	"time"

	gomessage "github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// ErrHeaderInjection is wrapped by every error about a header value that
// holds CR, LF or NUL, so callers can tell hostile data from other failures.
var ErrHeaderInjection = errors.New("header value contains a line break or NUL")

// ErrInvalid is wrapped by errors about values that are malformed in other
// ways (a missing address, a relative unsubscribe URL, a bad Message-ID).
var ErrInvalid = errors.New("invalid message field")

// Address is a mailbox with an optional display name. The name may hold any
// UTF-8; it is RFC 2047-encoded when needed.
type Address struct {
	Name  string
	Email string
}

// Field is one extra header field.
type Field struct {
	Key   string
	Value string
}

// Config is what every message of one send shares.
type Config struct {
	From    Address
	ReplyTo Address // optional: zero value means no Reply-To
	// Subject is used when Message.Subject is empty.
	Subject string
	// ListID is the list identifier of RFC 2919 (a dot-atom such as
	// "evening.briefing.example"); ListName is its optional description.
	ListID   string
	ListName string
	// FeedbackID is the Feedback-ID value (e.g. "c42:evening:herald"), used by
	// mailbox providers to group complaint reports.
	FeedbackID string
	// UnsubscribeMailto, when set, adds a mailto: target to List-Unsubscribe.
	// It is an address or a full mailto: URL.
	UnsubscribeMailto string
	// Headers are extra header fields added to every message.
	Headers []Field
	// DKIM signs every message when not nil.
	DKIM *DKIM
	// Boundary, when set, is the multipart boundary of every message (one
	// that no body can contain, such as a random one); empty draws a
	// random one per message, or per Splice. Tests set it to compare
	// messages built two ways byte for byte.
	Boundary string
	// Staff marks mail to the newsroom itself, not to readers (a series
	// reminder): it belongs to no list, so it has no List-Id and no
	// List-Unsubscribe, and needs no ListID or UnsubscribeURL.
	Staff bool
}

// Message is the per-recipient part of one message.
type Message struct {
	To Address
	// Subject overrides Config.Subject when not empty.
	Subject string
	// MessageID is the identifier without angle brackets. It must be stable
	// for one recipient of one campaign (see ID), so a resend folds.
	MessageID string
	// Date is the Date header; the zero time means time.Now.
	Date time.Time
	// UnsubscribeURL is the absolute http(s) one-click URL (RFC 8058). It is
	// required: every Herald message to readers can be unsubscribed from.
	UnsubscribeURL string
	// UnsubscribeMailto overrides Config.UnsubscribeMailto when not empty.
	UnsubscribeMailto string
	// Text and HTML are the bodies, UTF-8. At least one must be non-empty.
	Text []byte
	HTML []byte
	// Headers are extra header fields for this message only.
	Headers []Field
}

// Template builds messages for one send. It is immutable after New and safe
// for concurrent use.
type Template struct {
	common      []byte // pre-formatted shared header fields, CRLF-terminated
	subject     string // pre-encoded default subject
	mailto      string // pre-validated default mailto target, "" if none
	textHeader  gomessage.Header
	htmlHeader  gomessage.Header
	signOptions *signOptions
	staff       bool   // no list headers
	boundary    string // Config.Boundary
}

// reserved names the header fields Herald sets itself; extra headers may not
// replace them.
var reserved = map[string]bool{
	"From": true, "Reply-To": true, "To": true, "Cc": true, "Bcc": true,
	"Subject": true, "Date": true, "Message-Id": true, "Mime-Version": true,
	"Content-Type": true, "Content-Transfer-Encoding": true,
	"List-Unsubscribe": true, "List-Unsubscribe-Post": true, "List-Id": true,
	"Feedback-Id": true, "Dkim-Signature": true, "Sender": true, "Return-Path": true,
}

// New validates cfg and pre-formats every header field the messages share.
func New(cfg Config) (*Template, error) {
	t := &Template{staff: cfg.Staff, boundary: cfg.Boundary}
	var h textproto.Header
	// go-message writes fields in reverse order of addition, so add the
	// last one first.
	extras, err := formatExtra(cfg.Headers)
	if err != nil {
		return nil, err
	}
	for i := len(extras) - 1; i >= 0; i-- {
		h.Add(extras[i].Key, extras[i].Value)
	}
	if cfg.FeedbackID != "" {
		if err := checkValue("Feedback-ID", cfg.FeedbackID); err != nil {
			return nil, err
		}
		h.Add("Feedback-ID", cfg.FeedbackID)
	}
	if !cfg.Staff {
		if cfg.ListID == "" {
			return nil, fmt.Errorf("List-Id: missing list identifier: %w", ErrInvalid)
		}
		listID, err := formatListID(cfg.ListName, cfg.ListID)
		if err != nil {
			return nil, err
		}
		h.Add("List-Id", listID)
		h.Add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	}
	if cfg.ReplyTo != (Address{}) {
		rt, err := formatAddress("Reply-To", cfg.ReplyTo)
		if err != nil {
			return nil, err
		}
		h.Add("Reply-To", rt)
	}
	from, err := formatAddress("From", cfg.From)
	if err != nil {
		return nil, err
	}
	h.Add("From", from)

	var w appendWriter
	if err := textproto.WriteHeader(&w, h); err != nil {
		return nil, fmt.Errorf("format shared header: %w", err)
	}
	t.common = w.b[:len(w.b)-2] // drop the blank line that ends a header

	if cfg.Boundary != "" {
		if err := textproto.NewMultipartWriter(nil).SetBoundary(cfg.Boundary); err != nil {
			return nil, fmt.Errorf("multipart boundary %q: %v: %w", cfg.Boundary, err, ErrInvalid)
		}
	}
	if cfg.Subject != "" {
		if err := checkValue("Subject", cfg.Subject); err != nil {
			return nil, err
		}
		t.subject = mime.QEncoding.Encode("utf-8", cfg.Subject)
	}
	if cfg.UnsubscribeMailto != "" {
		t.mailto, err = formatMailto(cfg.UnsubscribeMailto)
		if err != nil {
			return nil, err
		}
	}
	t.textHeader = partHeader("text/plain")
	t.htmlHeader = partHeader("text/html")
	if cfg.DKIM != nil {
		t.signOptions, err = newSignOptions(cfg.DKIM)
		if err != nil {
			return nil, err
		}
	}
	return t, nil
}

func partHeader(mediaType string) gomessage.Header {
	var h gomessage.Header
	h.Set("Content-Transfer-Encoding", "quoted-printable")
	h.SetContentType(mediaType, map[string]string{"charset": "utf-8"})
	return h
}

// Append builds the message for m and appends it to dst, returning the
// extended slice. On error dst is returned unchanged (up to its length).
// Passing the previous result's dst[:0] reuses its memory.
func (t *Template) Append(dst []byte, m *Message) ([]byte, error) {
	start := len(dst)
	out, err := t.build(dst, m)
	if err != nil {
		return dst[:start], err
	}
	if t.signOptions != nil {
		out, err = t.signOptions.sign(out, start)
		if err != nil {
			return dst[:start], err
		}
	}
	return out, nil
}

func (t *Template) build(dst []byte, m *Message) ([]byte, error) {
	if len(m.Text) == 0 && len(m.HTML) == 0 {
		return dst, fmt.Errorf("body: no text and no HTML: %w", ErrInvalid)
	}
	subject := t.subject
	if m.Subject != "" {
		if err := checkValue("Subject", m.Subject); err != nil {
			return dst, err
		}
		subject = mime.QEncoding.Encode("utf-8", m.Subject)
	}
	if subject == "" {
		return dst, fmt.Errorf("Subject: empty: %w", ErrInvalid)
	}
	to, err := formatAddress("To", m.To)
	if err != nil {
		return dst, err
	}
	if err := checkMessageID(m.MessageID); err != nil {
		return dst, err
	}
	var unsub string
	if !t.staff {
		if unsub, err = t.listUnsubscribe(m); err != nil {
			return dst, err
		}
	}
	extras, err := formatExtra(m.Headers)
	if err != nil {
		return dst, err
	}
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}

	var h gomail.Header
	h.SetContentType("multipart/alternative", map[string]string{})
	h.Set("MIME-Version", "1.0")
	for i := len(extras) - 1; i >= 0; i-- {
		h.Add(extras[i].Key, extras[i].Value)
	}
	if unsub != "" {
		h.Set("List-Unsubscribe", unsub)
	}
	h.SetMessageID(m.MessageID)
	h.Set("Date", date.Format(time.RFC1123Z))
	h.Set("Subject", subject)
	h.Set("To", to)

	// The multipart framing is go-message's (its MultipartWriter, as
	// gomessage.CreateWriter uses it); the parts' quoted-printable is
	// appendQP, which writes what mime/quotedprintable's Writer would
	// without its byte-at-a-time loop, straight into the message.
	w := &appendWriter{b: append(dst, t.common...)}
	mw := textproto.NewMultipartWriter(w)
	if t.boundary != "" {
		if err := mw.SetBoundary(t.boundary); err != nil {
			return dst, fmt.Errorf("multipart boundary: %w", ErrInvalid)
		}
	}
	h.SetContentType("multipart/alternative", map[string]string{"boundary": mw.Boundary()})
	if err := textproto.WriteHeader(w, h.Header.Header); err != nil {
		return dst, fmt.Errorf("write header: %w", err)
	}
	for _, part := range []struct {
		h    gomessage.Header
		body []byte
	}{{t.textHeader, m.Text}, {t.htmlHeader, m.HTML}} {
		if len(part.body) == 0 {
			continue
		}
		if _, err := mw.CreatePart(part.h.Header); err != nil {
			return dst, fmt.Errorf("create part: %w", err)
		}
		w.b = appendQP(w.b, part.body)
	}
	if err := mw.Close(); err != nil {
		return dst, fmt.Errorf("close multipart: %w", err)
	}
	return w.b, nil
}

func (t *Template) listUnsubscribe(m *Message) (string, error) {
	u := m.UnsubscribeURL
	if u == "" {
		return "", fmt.Errorf("List-Unsubscribe: missing one-click URL: %w", ErrInvalid)
	}
	if err := checkValue("List-Unsubscribe", u); err != nil {
		return "", err
	}
	if !(strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) ||
		strings.ContainsAny(u, "<>, \t\"") {
		return "", fmt.Errorf("List-Unsubscribe: %q is not an absolute, escaped http(s) URL: %w", u, ErrInvalid)
	}
	if _, err := url.Parse(u); err != nil {
		return "", fmt.Errorf("List-Unsubscribe: %q is not a URL: %w", u, ErrInvalid)
	}
	mailto := t.mailto
	if m.UnsubscribeMailto != "" {
		var err error
		if mailto, err = formatMailto(m.UnsubscribeMailto); err != nil {
			return "", err
		}
	}
	if mailto == "" {
		return "<" + u + ">", nil
	}
	return "<" + u + ">, <" + mailto + ">", nil
}

// ID returns the stable Message-ID (without angle brackets) for one
// recipient of one campaign: the same inputs always give the same ID, so a
// message resent after a crash can be folded by the receiver.
func ID(campaignID, subscriberID int64, domain string) string {
	return fmt.Sprintf("herald.c%d.s%d@%s", campaignID, subscriberID, domain)
}

// checkValue refuses values that could end a header line.
func checkValue(field, v string) error {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '\r' || c == '\n' || c == 0 {
			return fmt.Errorf("%s: %w", field, ErrHeaderInjection)
		}
	}
	return nil
}

func formatAddress(field string, a Address) (string, error) {
	if err := checkValue(field, a.Name); err != nil {
		return "", err
	}
	if err := checkValue(field, a.Email); err != nil {
		return "", err
	}
	at := strings.LastIndexByte(a.Email, '@')
	if at <= 0 || at == len(a.Email)-1 || strings.ContainsAny(a.Email, " \t<>,;\"()[]\\") {
		return "", fmt.Errorf("%s: %q is not a plain email address: %w", field, a.Email, ErrInvalid)
	}
	addr := mail.Address{Name: a.Name, Address: a.Email}
	return addr.String(), nil
}

func formatMailto(s string) (string, error) {
	if err := checkValue("List-Unsubscribe", s); err != nil {
		return "", err
	}
	if !strings.HasPrefix(strings.ToLower(s), "mailto:") {
		s = "mailto:" + s
	}
	if strings.ContainsAny(s, "<>, \t\"") || !strings.Contains(s, "@") {
		return "", fmt.Errorf("List-Unsubscribe: %q is not a mailto: URL: %w", s, ErrInvalid)
	}
	return s, nil
}

func formatListID(name, id string) (string, error) {
	if err := checkValue("List-Id", name); err != nil {
		return "", err
	}
	if err := checkValue("List-Id", id); err != nil {
		return "", err
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-_+", c) >= 0
		if !ok {
			return "", fmt.Errorf("List-Id: %q is not a dot-atom such as news.example.org: %w", id, ErrInvalid)
		}
	}
	if !strings.Contains(id, ".") {
		return "", fmt.Errorf("List-Id: %q needs a domain part such as news.example.org: %w", id, ErrInvalid)
	}
	if name == "" {
		return "<" + id + ">", nil
	}
	// A phrase: quote plain ASCII, encode anything else (RFC 2047 allows
	// encoded-words in a phrase).
	return mime.QEncoding.Encode("utf-8", quotePhrase(name)) + " <" + id + ">", nil
}

// quotePhrase quotes an ASCII phrase; non-ASCII phrases are returned as they
// are because mime.QEncoding will encode them whole.
func quotePhrase(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return s
		}
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func checkMessageID(id string) error {
	if err := checkValue("Message-ID", id); err != nil {
		return err
	}
	at := strings.IndexByte(id, '@')
	if id == "" || at <= 0 || at == len(id)-1 || strings.ContainsAny(id, " \t<>\"") {
		return fmt.Errorf("Message-ID: %q must look like left@right without brackets: %w", id, ErrInvalid)
	}
	return nil
}

func formatExtra(fields []Field) ([]Field, error) {
	if len(fields) == 0 {
		return nil, nil
	}
	out := make([]Field, 0, len(fields))
	for _, f := range fields {
		if f.Key == "" {
			return nil, fmt.Errorf("extra header: empty name: %w", ErrInvalid)
		}
		for i := 0; i < len(f.Key); i++ {
			if c := f.Key[i]; c <= ' ' || c >= 0x7f || c == ':' {
				if c == '\r' || c == '\n' || c == 0 {
					return nil, fmt.Errorf("header name %q: %w", f.Key, ErrHeaderInjection)
				}
				return nil, fmt.Errorf("header name %q: %w", f.Key, ErrInvalid)
			}
		}
		if reserved[nettextproto.CanonicalMIMEHeaderKey(f.Key)] {
			return nil, fmt.Errorf("header %s is set by Herald and cannot be overridden: %w", f.Key, ErrInvalid)
		}
		if err := checkValue(f.Key, f.Value); err != nil {
			return nil, err
		}
		out = append(out, Field{Key: f.Key, Value: mime.QEncoding.Encode("utf-8", f.Value)})
	}
	return out, nil
}

// appendWriter is an io.Writer that appends to a byte slice.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// appendQP appends p encoded as quoted-printable (RFC 2045) to dst: byte
// for byte what mime/quotedprintable's Writer (text mode) writes and its
// Close flushes, lines of at most 76 characters, line breaks as CRLF,
// whitespace before a line break encoded. Runs of bytes that need no
// encoding are copied whole.
func appendQP(dst, p []byte) []byte {
	q := qpState{ls: len(dst)}
	return q.finish(q.add(dst, p))
}

// qpState is where a quoted-printable encoding stands between calls to
// add, so a body can be encoded in pieces (see Spliced): the pieces give
// the same bytes as the whole would. Its state is the start of the
// current encoded line in dst and whether the last line break was a CR.
// After an input LF it is clean: a line starts, and no CR is pending.
type qpState struct {
	ls int  // where the current encoded line starts in dst
	cr bool // the last line break was a CR: skip its LF
}

// add appends p encoded, leaving the last line open for what follows.
func (q *qpState) add(dst, p []byte) []byte {
	const maxLine = 75 // characters before a soft line break's "="
	for i := 0; i < len(p); {
		b := p[i]
		switch {
		case b == '\n' || b == '\r':
			i++
			if q.cr && b == '\n' {
				q.cr = false
				continue
			}
			q.cr = b == '\r'
			dst = qpLastWhitespace(dst, &q.ls)
			dst = append(dst, '\r', '\n')
			q.ls = len(dst)
		case qpLiteral(b):
			j := i + 1
			for j < len(p) && qpLiteral(p[j]) {
				j++
			}
			for run := p[i:j]; len(run) > 0; {
				if len(dst)-q.ls == maxLine {
					dst = append(dst, '=', '\r', '\n')
					q.ls = len(dst)
				}
				n := min(len(run), maxLine-(len(dst)-q.ls))
				dst = append(dst, run[:n]...)
				run = run[n:]
			}
			q.cr = false
			i = j
		default:
			dst = qpEncode(dst, &q.ls, b) // leaves cr as it was, as the Writer does
			i++
		}
	}
	return dst
}

// finish ends the encoding: a space or tab that ends the last line is
// encoded.
func (q *qpState) finish(dst []byte) []byte {
	return qpLastWhitespace(dst, &q.ls)
}

// qpLiteral reports whether b is written as itself: printable ASCII but
// "=", and space and tab (encoded only at the end of a line).
func qpLiteral(b byte) bool {
	return b >= '!' && b <= '~' && b != '=' || b == ' ' || b == '\t'
}

// qpEncode appends b as =XX, breaking the line first if it would not fit.
func qpEncode(dst []byte, ls *int, b byte) []byte {
	const upperhex = "0123456789ABCDEF"
	if 75-(len(dst)-*ls) < 3 {
		dst = append(dst, '=', '\r', '\n')
		*ls = len(dst)
	}
	return append(dst, '=', upperhex[b>>4], upperhex[b&0x0f])
}

// qpLastWhitespace encodes a space or tab that ends the current line.
func qpLastWhitespace(dst []byte, ls *int) []byte {
	if n := len(dst); n > *ls && (dst[n-1] == ' ' || dst[n-1] == '\t') {
		b := dst[n-1]
		return qpEncode(dst[:n-1], ls, b)
	}
	return dst
}
