package bounce

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/herald-news/herald/internal/model"
)

// Report is one bounce or complaint about one address, from a mail provider's
// webhook or read out of a report that came back by mail.
type Report struct {
	// Kind is model.EventBounce (hard), model.EventSoftBounce or
	// model.EventComplaint.
	Kind model.EventKind
	// Email is the address the report is about (a DSN's Final-Recipient,
	// an ARF report's Original-Rcpt-To, the address a server's own words
	// name).
	Email string
	// Status is the enhanced status code ("5.1.1") when one was given.
	Status string
	// Detail is the reporting server's words, for people to read.
	Detail string
	// MessageID is the Message-ID of the message the report is about, when
	// the report carries it (Herald's own: herald.cN.sM@domain).
	MessageID string
	// ReturnPath is the envelope sender of the message the report is
	// about, when the report quotes it (ARF reports usually do): with VERP
	// it holds the signed token.
	ReturnPath string

	// SubscriberID and CampaignID, when set, say whom the report is about:
	// the VERP token's or a Message-ID that agrees with Email. Zero lets
	// Record look the subscriber up by Email (the webhooks, whose senders
	// are authenticated).
	SubscriberID int64
	CampaignID   int64
}

// Errors of Parse for mail that is not a report to act on. Callers treat
// both as "nothing to record" (the mail is still taken and filed).
var (
	// ErrAutoReply is an out-of-office or other automatic answer (RFC
	// 3834), which says nothing about whether the address works.
	ErrAutoReply = errors.New("an automatic reply, not a bounce")
	// ErrNotReport is mail in which no bounce or complaint was found.
	ErrNotReport = errors.New("no bounce or complaint found in the message")
)

// MaxSize is the largest report Herald reads (the listener refuses larger
// mail; the mailbox poller files it unread). Real reports, with the
// original message attached, are far smaller.
const MaxSize = 4 << 20

// part is one leaf of a MIME tree, decoded.
type part struct {
	mediaType string
	params    map[string]string
	body      []byte
}

// Parse reads one mail message and returns the bounces and complaints it
// reports: RFC 3464 delivery status notifications (5.x.x hard, 4.x.x soft;
// delays and successful deliveries are not bounces), RFC 5965 ARF
// complaint reports, and the plain-text bounces of servers that send no
// DSN (Exchange, Gmail, qmail, Yahoo and the like). Automatic replies give
// ErrAutoReply, anything else without a report ErrNotReport.
func Parse(raw []byte) ([]Report, error) {
	if len(raw) > MaxSize {
		return nil, fmt.Errorf("the message is larger than %d bytes", MaxSize)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("not a mail message: %w", err)
	}
	var parts []part
	if err := walk(textproto.MIMEHeader(msg.Header), msg.Body, 0, &parts); err != nil {
		return nil, err
	}
	orig := original(parts)
	var reps []Report
	for _, p := range parts {
		switch p.mediaType {
		case "message/delivery-status", "message/global-delivery-status":
			reps = append(reps, deliveryStatus(p.body)...)
		case "message/feedback-report":
			if r, ok := feedbackReport(p.body); ok {
				reps = append(reps, r)
			}
		}
	}
	structured := len(reps) > 0 || hasPart(parts, "message/delivery-status", "message/global-delivery-status", "message/feedback-report")
	if !structured {
		if autoReply(msg.Header) {
			return nil, ErrAutoReply
		}
		reps = plainBounce(msg.Header, parts, orig)
	}
	if len(reps) == 0 {
		return nil, ErrNotReport
	}
	for i := range reps {
		if reps[i].MessageID == "" {
			reps[i].MessageID = orig.messageID
		}
		if reps[i].ReturnPath == "" {
			reps[i].ReturnPath = orig.returnPath
		}
		reps[i].Detail = oneLine(reps[i].Detail, 500)
	}
	return reps, nil
}

// walk collects the leaves of a MIME tree, decoded, down to a bounded depth.
func walk(h textproto.MIMEHeader, body io.Reader, depth int, out *[]part) error {
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain"
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		mt, params = "text/plain", map[string]string{} // read it as text rather than lose it
	}
	if strings.HasPrefix(mt, "multipart/") && depth < 8 {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				// A truncated report (a server that cut the original
				// short) still has its first parts.
				return nil
			}
			if err := walk(p.Header, p, depth+1, out); err != nil {
				return err
			}
		}
	}
	var r io.Reader = io.LimitReader(body, MaxSize)
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))) {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, &newlineSkipper{r: r})
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	if err != nil && len(b) == 0 && !strings.HasPrefix(mt, "text/") {
		return nil // an undecodable attachment says nothing
	}
	*out = append(*out, part{mediaType: mt, params: params, body: b})
	return nil
}

// newlineSkipper drops the line breaks of a base64 body, which the standard
// decoder refuses.
type newlineSkipper struct{ r io.Reader }

func (n *newlineSkipper) Read(p []byte) (int, error) {
	k, err := n.r.Read(p)
	j := 0
	for _, c := range p[:k] {
		if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
			p[j] = c
			j++
		}
	}
	return j, err
}

func hasPart(parts []part, types ...string) bool {
	for _, p := range parts {
		for _, t := range types {
			if p.mediaType == t {
				return true
			}
		}
	}
	return false
}

// origin is what a report says of the message it is about.
type origin struct {
	messageID, returnPath, to string
}

var (
	messageIDLine  = regexp.MustCompile(`(?im)^message-id:[ \t]*<?([^>\s]+)>?`)
	returnPathLine = regexp.MustCompile(`(?im)^return-path:[ \t]*<?([^>\s]*)>?`)
	toLine         = regexp.MustCompile(`(?im)^to:[ \t]*(.+)$`)
)

// original finds the reported message's headers: an attached message/rfc822
// or text/rfc822-headers part, or else the copy of the original that
// plain-text bounces quote after their own words.
func original(parts []part) origin {
	var o origin
	for _, p := range parts {
		switch p.mediaType {
		case "message/rfc822", "text/rfc822-headers", "message/rfc822-headers", "message/global", "message/global-headers":
			if h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(p.body))).ReadMIMEHeader(); err == nil || len(h) > 0 {
				o.messageID = strings.Trim(h.Get("Message-Id"), "<> \t")
				o.returnPath = strings.Trim(h.Get("Return-Path"), "<> \t")
				o.to = h.Get("To")
			}
			if o.messageID != "" {
				return o
			}
		}
	}
	for _, p := range parts {
		if !strings.HasPrefix(p.mediaType, "text/") && p.mediaType != "message/rfc822" {
			continue
		}
		if m := messageIDLine.FindSubmatch(p.body); m != nil && o.messageID == "" {
			o.messageID = string(m[1])
		}
		if m := returnPathLine.FindSubmatch(p.body); m != nil && o.returnPath == "" {
			o.returnPath = string(m[1])
		}
		if m := toLine.FindSubmatch(p.body); m != nil && o.to == "" {
			o.to = strings.TrimSpace(string(m[1]))
		}
	}
	return o
}

// deliveryStatus reads the fields of an RFC 3464 delivery-status part: one
// block for the message, then one per recipient. Only failed recipients are
// bounces: "delayed" is a warning (the relay still tries, and reports the
// failure when it gives up), "delivered", "relayed" and "expanded" are not
// failures.
func deliveryStatus(body []byte) []Report {
	var reps []Report
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(body)))
	for range 1000 {
		h, err := r.ReadMIMEHeader()
		if len(h) > 0 {
			if rep, ok := recipientStatus(h); ok {
				reps = append(reps, rep)
			}
		}
		if err != nil {
			break
		}
	}
	return reps
}

func recipientStatus(h textproto.MIMEHeader) (Report, bool) {
	rcpt := typedAddress(h.Get("Final-Recipient"))
	if rcpt == "" {
		rcpt = typedAddress(h.Get("Original-Recipient"))
	}
	if rcpt == "" {
		return Report{}, false
	}
	action := strings.ToLower(strings.TrimSpace(h.Get("Action")))
	if action != "failed" && action != "" {
		return Report{}, false
	}
	diag := strings.TrimSpace(h.Get("Diagnostic-Code"))
	if _, text, ok := strings.Cut(diag, ";"); ok {
		diag = strings.TrimSpace(text)
	}
	status := statusCode.FindString(h.Get("Status"))
	if status == "" {
		status = statusCode.FindString(diag)
	}
	kind, ok := classify(status, diag)
	if !ok {
		if action != "failed" {
			return Report{}, false
		}
		kind = model.EventBounce // failed for good, with no code to say otherwise
	}
	return Report{Kind: kind, Email: rcpt, Status: status, Detail: withStatus(status, diag)}, true
}

// withStatus is the server's words, led by the status code unless they
// hold it already.
func withStatus(status, diag string) string {
	if strings.Contains(diag, status) {
		return diag
	}
	return strings.TrimSpace(status + " " + diag)
}

// typedAddress reads an RFC 3464 address field, "rfc822; someone@example.org".
func typedAddress(v string) string {
	if typ, addr, ok := strings.Cut(v, ";"); ok {
		if !strings.EqualFold(strings.TrimSpace(typ), "rfc822") && !strings.EqualFold(strings.TrimSpace(typ), "utf-8") {
			return ""
		}
		v = addr
	}
	return strings.Trim(strings.TrimSpace(v), "<>")
}

var (
	// statusCode is an RFC 3463 enhanced status code.
	statusCode = regexp.MustCompile(`\b[245]\.\d{1,3}\.\d{1,3}\b`)
	// replyCode is an SMTP reply code at the head of a server's answer.
	replyCode = regexp.MustCompile(`(?:^|[\s'"(:])([45]\d\d)[\s\-:]`)
)

// classify tells a hard bounce (5.x.x, 5yz) from a soft one (4.x.x, 4yz).
func classify(status, diag string) (model.EventKind, bool) {
	if status == "" {
		status = statusCode.FindString(diag)
	}
	code := status
	if code == "" {
		if m := replyCode.FindStringSubmatch(diag); m != nil {
			code = m[1]
		}
	}
	switch {
	case strings.HasPrefix(code, "5"):
		return model.EventBounce, true
	case strings.HasPrefix(code, "4"):
		return model.EventSoftBounce, true
	}
	return "", false
}

// feedbackReport reads an RFC 5965 feedback-report part. Every feedback
// type but "not-spam" is a complaint (abuse, fraud, virus, other).
func feedbackReport(body []byte) (Report, bool) {
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(append(body, "\r\n\r\n"...)))).ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		return Report{}, false
	}
	typ := strings.ToLower(strings.TrimSpace(h.Get("Feedback-Type")))
	if typ == "" || typ == "not-spam" {
		return Report{}, false
	}
	rcpt := strings.Trim(strings.TrimSpace(h.Get("Original-Rcpt-To")), "<>")
	if rcpt == "" {
		rcpt = typedAddress(h.Get("Removal-Recipient"))
	}
	detail := "complaint (" + typ + ")"
	if ua := strings.TrimSpace(h.Get("User-Agent")); ua != "" {
		detail += " from " + ua
	}
	return Report{Kind: model.EventComplaint, Email: rcpt, Detail: detail,
		ReturnPath: strings.Trim(strings.TrimSpace(h.Get("Original-Mail-From")), "<>")}, true
}

// autoReply reports whether a message without a delivery or feedback report
// is an automatic answer: RFC 3834's Auto-Submitted, or the headers and
// subjects vacation responders use.
func autoReply(h mail.Header) bool {
	if as := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))); as != "" && as != "no" {
		// A bounce from a server that sends no DSN is auto-replied too;
		// tell them apart by who sent it.
		return !fromDaemon(h)
	}
	for _, k := range []string{"X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"} {
		if h.Get(k) != "" && !fromDaemon(h) {
			return true
		}
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Precedence"))) {
	case "auto_reply":
		return true
	}
	subject := strings.ToLower(h.Get("Subject"))
	for _, s := range []string{"out of office", "out of the office", "automatic reply", "auto-reply", "autoreply", "auto reply", "on vacation", "abwesenheit", "absence"} {
		if strings.Contains(subject, s) {
			return true
		}
	}
	return false
}

// fromDaemon reports whether the message comes from a mail server rather
// than a person: MAILER-DAEMON, postmaster, an empty or null sender.
func fromDaemon(h mail.Header) bool {
	from := strings.ToLower(h.Get("From"))
	for _, s := range []string{"mailer-daemon", "postmaster", "mail delivery", "mail.delivery", "microsoftexchange", "noreply-dmarc"} {
		if strings.Contains(from, s) {
			return true
		}
	}
	rp := strings.TrimSpace(h.Get("Return-Path"))
	return rp == "<>"
}

// The phrases of the bounces that come as plain text, each with whether it
// means a permanent failure.
var bouncePhrases = []struct {
	phrase    string
	permanent bool
}{
	{"this is a permanent error", true},                              // qmail
	{"i'm afraid i wasn't able to deliver", true},                    // qmail, Yahoo's old servers
	{"sorry, we were unable to deliver your message", true},          // Yahoo
	{"delivery has failed to these recipients", true},                // Exchange, Outlook
	{"your message couldn't be delivered", true},                     // Exchange Online
	{"delivery to the following recipient failed permanently", true}, // Gmail
	{"delivery to the following recipients failed permanently", true},
	{"address not found", true},                                  // Gmail
	{"the following addresses had permanent fatal errors", true}, // sendmail
	{"could not be delivered to one or more recipients", true},   // Postfix without DSN
	{"message could not be delivered", true},
	{"undeliverable", true},
	{"this message has been in the queue too long", false}, // qmail, giving up after temporary failures
	{"temporary failure", false},
}

// warnings are the words of a notice that delivery is only delayed: the
// server still tries, and reports the failure if it gives up.
var warnings = []string{"has been delayed", "delivery delayed", "will keep trying", "will retry", "this is a warning message only",
	"no action is required on your part"}

var (
	angleAddress = regexp.MustCompile(`<([^<>@\s]+@[^<>@\s]+\.[^<>@\s]+)>`)
	bareAddress  = regexp.MustCompile(`[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+`)
	// copyMarker starts the copy of the original that plain bounces append.
	copyMarker = regexp.MustCompile(`(?im)^(?:-+ ?below this line is a copy of the message|-+ ?original message|-+ ?the header of the original message|original message headers|-+ ?this is a copy of)`)
)

// plainBounce reads a bounce that carries no delivery-status part: from a
// mail server (by its sender or its words), naming the failed address
// before the copy of the original, with an SMTP code or its words to tell
// hard from soft.
func plainBounce(h mail.Header, parts []part, orig origin) []Report {
	var text []byte
	for _, p := range parts {
		if p.mediaType == "text/plain" {
			text = append(text, p.body...)
			text = append(text, '\n')
		}
	}
	if len(text) == 0 {
		for _, p := range parts {
			if p.mediaType == "text/html" {
				text = append(text, stripTags(p.body)...)
			}
		}
	}
	own := text
	if loc := copyMarker.FindIndex(own); loc != nil {
		own = own[:loc[0]]
	}
	lower := strings.ToLower(string(own))
	subject := strings.ToLower(h.Get("Subject"))
	for _, w := range warnings {
		if strings.Contains(lower, w) || strings.Contains(subject, w) {
			return nil
		}
	}
	permanent, known := false, false
	for _, p := range bouncePhrases {
		if strings.Contains(lower, p.phrase) || strings.Contains(subject, p.phrase) {
			permanent, known = p.permanent, true
			break
		}
	}
	if !known && !fromDaemon(h) {
		return nil
	}
	rcpt := failedAddress(string(own), h, orig)
	if rcpt == "" {
		return nil
	}
	status := statusCode.FindString(string(own))
	diag := diagnostic(string(own))
	kind, ok := classify(status, diag)
	if !ok {
		if !known {
			return nil // a message from a mail server that reports no failure
		}
		kind = model.EventSoftBounce
		if permanent {
			kind = model.EventBounce
		}
	}
	return []Report{{Kind: kind, Email: rcpt, Status: status, Detail: withStatus(status, diag)}}
}

// failedAddress is the address a plain bounce names: in angle brackets (qmail,
// Yahoo), else the first bare address in the bounce's own words that is
// neither its sender's nor its recipient's (the envelope sender it was
// returned to), preferring the original's To.
func failedAddress(own string, h mail.Header, orig origin) string {
	sender := strings.ToLower(h.Get("From") + " " + h.Get("To"))
	var found []string
	for _, m := range angleAddress.FindAllStringSubmatch(own, -1) {
		found = append(found, m[1])
	}
	found = append(found, bareAddress.FindAllString(own, -1)...)
	to := strings.ToLower(orig.to)
	for _, a := range found {
		if to != "" && strings.Contains(to, strings.ToLower(a)) {
			return a
		}
	}
	for _, a := range found {
		la := strings.ToLower(a)
		if strings.Contains(sender, la) || strings.HasPrefix(la, "postmaster@") || strings.HasPrefix(la, "mailer-daemon@") {
			continue
		}
		return a
	}
	return ""
}

// diagnostic is the server's answer a plain bounce quotes: the line with
// an SMTP or enhanced status code.
func diagnostic(own string) string {
	for _, line := range strings.Split(own, "\n") {
		line = strings.TrimSpace(line)
		if statusCode.MatchString(line) || replyCode.MatchString(" "+line) {
			return line
		}
	}
	return ""
}

var tag = regexp.MustCompile(`<[^>]*>`)

func stripTags(b []byte) []byte {
	return tag.ReplaceAll(b, []byte(" "))
}

// oneLine folds s onto one line of at most n bytes (Clean).
func oneLine(s string, n int) string {
	return Clean(strings.Join(strings.Fields(s), " "), n)
}

// Clean makes text from a report (a provider's webhook, a bounce by mail)
// safe to store and show: invalid UTF-8 and NUL (which PostgreSQL
// refuses, failing the whole write) are dropped, and the text is cut to at
// most n bytes at a character boundary. Record passes every text of a
// report through it.
func Clean(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, ""), "\x00", "")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
