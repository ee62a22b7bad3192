// Package token signs and verifies the tokens in links that act for a
// subscriber (unsubscribe, preferences, confirm, open, click). A token names
// its purpose, the subscriber and optionally a campaign and list, may expire,
// and carries an HMAC-SHA256 tag. Keys rotate: the first key signs, every key
// verifies, so links sent under an old key keep working while it is listed.
package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
	"time"
)

// Purpose says what a token may be used for; a token for one purpose is
// refused for any other.
type Purpose byte

// Purposes.
const (
	Unsubscribe Purpose = iota + 1
	Preferences
	Confirm
	Open
	Click
	// View opens a campaign's web version when its edition is not in the
	// public archive. It names the campaign only: one link for everyone
	// the campaign went to.
	View
	// Bounce is the envelope sender's token (VERP): bounce reports mailed
	// back to it name the subscriber and campaign, and nobody can make up
	// one that suppresses a reader. It is spelt with SignMailbox.
	Bounce
	// Feedback records a reader's rating of a campaign's edition.
	Feedback
	// PasswordReset opens an admin user's password reset link. Its
	// SubscriberID field carries the reset request's ID (not a reader's),
	// which is single-use in the store.
	PasswordReset
)

// Claims is what a token says.
type Claims struct {
	Purpose      Purpose
	SubscriberID int64
	CampaignID   int64
	ListID       int64
	Expires      time.Time // zero: never
}

// ErrInvalid is returned for every token that is malformed, forged, altered,
// expired or for another purpose. Callers show one plain message for all.
var ErrInvalid = errors.New("this link is not valid")

const (
	version = 1
	tagSize = 16
	maxBody = 1 + 1 + 4*binary.MaxVarintLen64
)

// Signer signs with its first key and verifies with all of them.
type Signer struct {
	keys [][]byte
	// macs holds HMACs keyed with the signing key, reused: a campaign
	// signs several tokens a message, and keying an HMAC costs as much as
	// the tag itself.
	macs *sync.Pool
}

// NewSigner returns a Signer. Each key must be at least 32 bytes.
func NewSigner(keys ...[]byte) (*Signer, error) {
	if len(keys) == 0 {
		return nil, errors.New("token: no signing key")
	}
	for i, k := range keys {
		if len(k) < 32 {
			return nil, fmt.Errorf("token: key %d is shorter than 32 bytes", i+1)
		}
	}
	key := keys[0]
	return &Signer{keys: keys, macs: &sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}}, nil
}

// Sign returns the URL-safe token for c.
func (s *Signer) Sign(c Claims) string {
	var buf [maxBody + tagSize]byte
	b := append(buf[:0], version, byte(c.Purpose))
	b = binary.AppendUvarint(b, uint64(c.SubscriberID))
	b = binary.AppendUvarint(b, uint64(c.CampaignID))
	b = binary.AppendUvarint(b, uint64(c.ListID))
	var exp int64
	if !c.Expires.IsZero() {
		exp = c.Expires.Unix()
	}
	b = binary.AppendUvarint(b, uint64(exp))
	m := s.macs.Get().(hash.Hash)
	m.Reset()
	m.Write(b)
	var sum [sha256.Size]byte
	b = append(b, m.Sum(sum[:0])[:tagSize]...)
	s.macs.Put(m)
	return base64.RawURLEncoding.EncodeToString(b)
}

func tag(key, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return m.Sum(nil)[:tagSize]
}

// Verify checks tok for the given purpose at time now and returns its claims.
func (s *Signer) Verify(tok string, want Purpose, now time.Time) (Claims, error) {
	if len(tok) > 2*(maxBody+tagSize) {
		return Claims{}, ErrInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) < 2+4+tagSize {
		return Claims{}, ErrInvalid
	}
	// The decoder skips CR and LF and ignores the unused low bits of the
	// last character; a token has exactly one spelling (found by FuzzVerify).
	if base64.RawURLEncoding.EncodeToString(raw) != tok {
		return Claims{}, ErrInvalid
	}
	body, got := raw[:len(raw)-tagSize], raw[len(raw)-tagSize:]
	ok := false
	for _, k := range s.keys {
		if hmac.Equal(tag(k, body), got) {
			ok = true
			break
		}
	}
	if !ok || body[0] != version || Purpose(body[1]) != want {
		return Claims{}, ErrInvalid
	}
	var c Claims
	c.Purpose = want
	rest := body[2:]
	fields := [4]uint64{}
	for i := range fields {
		v, n := binary.Uvarint(rest)
		if n <= 0 {
			return Claims{}, ErrInvalid
		}
		fields[i], rest = v, rest[n:]
	}
	if len(rest) != 0 {
		return Claims{}, ErrInvalid
	}
	c.SubscriberID, c.CampaignID, c.ListID = int64(fields[0]), int64(fields[1]), int64(fields[2])
	if fields[3] != 0 {
		c.Expires = time.Unix(int64(fields[3]), 0).UTC()
		if !now.Before(c.Expires) {
			return Claims{}, ErrInvalid
		}
	}
	return c, nil
}

// mailbox is the spelling of SignMailbox: lower-case base32 without
// padding, which mail servers that fold the case of an address's local
// part (RFC 5321 lets them) cannot alter.
var mailbox = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// SignMailbox returns the token for c spelt to stand in the local part of a
// mail address ("bounces+TOKEN@..."): the same bytes as Sign, in lower-case
// base32.
func (s *Signer) SignMailbox(c Claims) string {
	raw, _ := base64.RawURLEncoding.DecodeString(s.Sign(c))
	return mailbox.EncodeToString(raw)
}

// VerifyMailbox checks a token made by SignMailbox, in any letter case, as
// Verify does.
func (s *Signer) VerifyMailbox(tok string, want Purpose, now time.Time) (Claims, error) {
	if len(tok) > 2*(maxBody+tagSize) {
		return Claims{}, ErrInvalid
	}
	tok = strings.ToLower(tok)
	raw, err := mailbox.DecodeString(tok)
	if err != nil || mailbox.EncodeToString(raw) != tok {
		return Claims{}, ErrInvalid
	}
	return s.Verify(base64.RawURLEncoding.EncodeToString(raw), want, now)
}
