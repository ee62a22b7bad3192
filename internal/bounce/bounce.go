// Package bounce takes bounces and complaints back: it names each message's
// envelope sender with a signed token (VERP), reads the reports that come
// back by mail (RFC 3464 delivery status notifications, RFC 5965 ARF
// complaint reports, the plain-text bounces of servers that send neither)
// through its own SMTP listener or a polled IMAP mailbox, and records every
// report, from mail or from a provider's webhook, in one way: a hard bounce
// or a complaint suppresses the address at once, soft bounces count up to a
// limit first, and each becomes an event of its subscriber and campaign.
//
// A report acts on a subscriber only when Herald can tell it is genuine: it
// came back to a VERP address whose token verifies, or it quotes a Message-ID
// of Herald's that names the very subscriber whose address it reports. A
// report with a forged token is refused, so nobody can suppress a reader by
// mailing made-up bounces.
package bounce

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/token"
)

// LocalPrefix begins the local part of every VERP address:
// bounces+TOKEN@bounce_domain.
const LocalPrefix = "bounces+"

// ErrForged is returned for a VERP address whose token does not verify
// (made up, altered, or signed with a key no longer listed).
var ErrForged = errors.New("the bounce address's token is not valid")

// ErrNoToken is returned by Claims for an address that is not a VERP
// address of the bounce domain.
var ErrNoToken = errors.New("not a bounce address of this domain")

// VERP makes and reads the envelope senders that carry a token.
type VERP struct {
	Signer *token.Signer
	// Domain is the bounce domain (config bounce_domain); empty turns VERP
	// off, and Address returns the fallback it is given.
	Domain string
}

// On reports whether VERP addresses are made.
func (v VERP) On() bool { return v.Domain != "" && v.Signer != nil }

// Address is the envelope sender for mail to subscriber subscriberID in
// campaign campaignID (0 for mail outside a campaign), or fallback when
// VERP is off or there is no subscriber.
func (v VERP) Address(subscriberID, campaignID int64, fallback string) string {
	if !v.On() || subscriberID == 0 {
		return fallback
	}
	tok := v.Signer.SignMailbox(token.Claims{Purpose: token.Bounce, SubscriberID: subscriberID, CampaignID: campaignID})
	return LocalPrefix + tok + "@" + strings.ToLower(v.Domain)
}

// Claims reads a VERP address: the subscriber and campaign its token names.
// It returns ErrNoToken for an address that is not bounces+TOKEN at the
// bounce domain, and ErrForged for one whose token does not verify.
func (v VERP) Claims(addr string) (subscriberID, campaignID int64, err error) {
	tok, ok := v.token(addr)
	if !ok {
		return 0, 0, ErrNoToken
	}
	c, err := v.Signer.VerifyMailbox(tok, token.Bounce, time.Now())
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %s", ErrForged, addr)
	}
	return c.SubscriberID, c.CampaignID, nil
}

// token returns the token of a VERP address at the bounce domain.
func (v VERP) token(addr string) (string, bool) {
	if !v.On() {
		return "", false
	}
	addr = strings.Trim(strings.TrimSpace(addr), "<>")
	at := strings.LastIndexByte(addr, '@')
	if at < 0 || !strings.EqualFold(addr[at+1:], v.Domain) {
		return "", false
	}
	local := addr[:at]
	if len(local) <= len(LocalPrefix) || !strings.EqualFold(local[:len(LocalPrefix)], LocalPrefix) {
		return "", false
	}
	return local[len(LocalPrefix):], true
}

// AtDomain reports whether addr is at the bounce domain (any local part):
// the recipients the listener takes.
func (v VERP) AtDomain(addr string) bool {
	addr = strings.Trim(strings.TrimSpace(addr), "<>")
	at := strings.LastIndexByte(addr, '@')
	return v.Domain != "" && at >= 0 && strings.EqualFold(addr[at+1:], v.Domain)
}
