package mailer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-smtp"
)

// Class says what the caller should do with a recipient after a failed send.
type Class int

// The classes of failure.
const (
	// Temporary: a 4xx reply, a dropped connection, a timeout or no relay
	// available. Defer the recipient and retry later.
	Temporary Class = iota + 1
	// Permanent: a 5xx reply that is not about the recipient's address
	// (policy, content, size). Fail the recipient; do not retry.
	Permanent
	// HardBounce: a permanent recipient error (5.1.x bad mailbox, 5.2.1
	// disabled mailbox, ...). Fail the recipient and suppress the address.
	HardBounce
)

func (c Class) String() string {
	switch c {
	case Temporary:
		return "temporary"
	case Permanent:
		return "permanent"
	case HardBounce:
		return "hard bounce"
	}
	return "unknown"
}

// Stage names the step of the SMTP session that failed. An HTTP API relay
// reports its failures in the same terms: StageConnect when the API could
// not be reached or refused the relay's credentials or account (another
// relay may take the message), StageLimit for its rate limits (429),
// StageMail for a refusal of the sender, StageRcpt for a refusal of the
// recipient, StageData for the rest.
type Stage string

// Stages of a session.
const (
	StageConnect Stage = "connect" // dial, TLS, greeting, EHLO, STARTTLS, AUTH
	StageMail    Stage = "MAIL"
	StageRcpt    Stage = "RCPT"
	StageData    Stage = "DATA"
	StageLimit   Stage = "limit" // waiting for a rate limit or a connection
	StageStore   Stage = "store" // the outbox could not store the message
)

// Error is the error every transport returns. It carries the SMTP reply when
// there was one and the classification the delivery workers act on. It never
// holds a relay password.
type Error struct {
	Class    Class
	Stage    Stage
	Relay    string // relay name, "" for the outbox
	Code     int    // SMTP reply code, 0 without a reply
	Enhanced string // enhanced status code such as "5.1.1", "" if none
	Text     string // reply text, or a description of the failure
	Err      error  // underlying cause, if any

	// failover is set when the message certainly did not reach the relay
	// and the relay itself is at fault, so another relay may be tried.
	failover bool
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("mail ")
	b.WriteString(e.Class.String())
	if e.Relay != "" {
		b.WriteString(" via ")
		b.WriteString(e.Relay)
	}
	if e.Stage != "" {
		b.WriteString(" at ")
		b.WriteString(string(e.Stage))
	}
	b.WriteString(": ")
	b.WriteString(e.Reply())
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Reply is the SMTP reply as a line fit for the delivery ledger, e.g.
// "550 5.1.1 No such user", or the failure description without a reply.
func (e *Error) Reply() string {
	if e.Code == 0 {
		return e.Text
	}
	s := fmt.Sprintf("%03d", e.Code)
	if e.Enhanced != "" {
		s += " " + e.Enhanced
	}
	if e.Text != "" {
		s += " " + e.Text
	}
	return s
}

// Classify returns the class of err: the Class of an *Error in its chain, or
// Temporary for any other non-nil error (a failure we cannot read is safer
// retried than dropped). It returns 0 for nil.
func Classify(err error) Class {
	if err == nil {
		return 0
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return Temporary
}

// IsHardBounce reports whether err means the address should be suppressed.
func IsHardBounce(err error) bool { return Classify(err) == HardBounce }

// IsTemporary reports whether err means the send should be retried later.
func IsTemporary(err error) bool { return Classify(err) == Temporary }

// ClassifyReply classifies an SMTP reply given at stage. Exported so that
// asynchronous bounces (DSNs) can be classified by the same rules.
func ClassifyReply(stage Stage, code int, enhanced [3]int) Class {
	switch {
	case code >= 400 && code < 500:
		return Temporary
	case code < 500 || code >= 600:
		return Temporary // not a failure reply we understand: retry
	}
	if stage == StageMail || stage == StageConnect {
		// A refusal of our sender or session says nothing about the
		// recipient: never suppress an address for it.
		return Permanent
	}
	if enhanced[0] == 5 {
		switch {
		case enhanced[1] == 1 && enhanced[2] != 7 && enhanced[2] != 8:
			// 5.1.x: bad destination mailbox, system or syntax; 5.1.7 and
			// 5.1.8 are about the sender, not the recipient.
			return HardBounce
		case enhanced[1] == 2 && enhanced[2] == 1:
			return HardBounce // mailbox disabled
		}
		return Permanent
	}
	// No enhanced code: 550, 551 and 553 at RCPT are the classic "no such
	// user", "user not local" and "mailbox name not allowed".
	if stage == StageRcpt && (code == 550 || code == 551 || code == 553) {
		return HardBounce
	}
	return Permanent
}

// replyError builds an *Error from an SMTP reply error.
func replyError(relay string, stage Stage, se *smtp.SMTPError) *Error {
	e := &Error{
		Stage: stage,
		Relay: relay,
		Code:  se.Code,
		Text:  strings.ReplaceAll(se.Message, "\n", " "),
		Err:   se,
	}
	enh := [3]int(se.EnhancedCode)
	if enh != [3]int(smtp.NoEnhancedCode) && enh != [3]int(smtp.EnhancedCodeNotSet) {
		e.Enhanced = fmt.Sprintf("%d.%d.%d", enh[0], enh[1], enh[2])
	} else {
		enh = [3]int{}
	}
	e.Class = ClassifyReply(stage, se.Code, enh)
	return e
}

// transportError builds an *Error for a failure without a reply.
func transportError(relay string, stage Stage, text string, err error) *Error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		text = "cancelled: " + text
	}
	return &Error{Class: Temporary, Stage: stage, Relay: relay, Text: text, Err: err}
}
