// Package secretbox seals the secrets Herald keeps in its database (the
// token-signing key, a DKIM key generated in the admin, webhook signing
// secrets) with a master key the operator holds outside it
// (HERALD_MASTER_KEY), so a copy of the database (a backup, a stolen
// disk) does not give them away.
//
// A sealed value is "sealed:v1:" and the base64 of a random 12-byte nonce
// followed by AES-256-GCM's output, under a key derived from the master
// key with SHA-256. Values without the prefix are clear (written before a
// master key was set) and read as they are, so turning sealing on needs
// no migration; `herald secrets rotate` seals them.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// prefix marks a sealed value.
const prefix = "sealed:v1:"

// MinKeyLength is the shortest master key taken.
const MinKeyLength = 32

// ErrNoKey: a sealed value was read without any master key.
var ErrNoKey = errors.New("the database holds secrets sealed with a master key: set HERALD_MASTER_KEY (or master_key_file) to the key they were sealed with")

// ErrWrongKey: no key given opens the sealed value.
var ErrWrongKey = errors.New("a secret in the database was sealed with another master key: set HERALD_MASTER_KEY to it, or give it as master_key_previous while rotating")

// Box seals with the current master key and opens with it or a previous
// one (during a rotation).
type Box struct {
	current  cipher.AEAD
	previous []cipher.AEAD
}

// New returns a Box for the master key current, also opening values
// sealed with previous keys.
func New(current string, previous ...string) (*Box, error) {
	c, err := aead(current)
	if err != nil {
		return nil, err
	}
	b := &Box{current: c}
	for _, p := range previous {
		if p == "" {
			continue
		}
		a, err := aead(p)
		if err != nil {
			return nil, fmt.Errorf("previous key: %w", err)
		}
		b.previous = append(b.previous, a)
	}
	return b, nil
}

func aead(key string) (cipher.AEAD, error) {
	if len(key) < MinKeyLength {
		return nil, fmt.Errorf("a master key must be at least %d characters", MinKeyLength)
	}
	k := sha256.Sum256([]byte("herald master key v1\x00" + key))
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Sealed reports whether v is a sealed value.
func Sealed(v string) bool { return strings.HasPrefix(v, prefix) }

// Seal seals plain with the current key. A nil Box leaves it clear.
func (b *Box) Seal(plain string) string {
	if b == nil || plain == "" {
		return plain
	}
	nonce := make([]byte, b.current.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic("secretbox: no randomness: " + err.Error()) // crypto/rand never fails on supported systems
	}
	return prefix + base64.RawStdEncoding.EncodeToString(b.current.Seal(nonce, nonce, []byte(plain), nil))
}

// Open returns v's clear value: v itself when it is not sealed, else what
// the current or a previous key opens. A nil Box opens nothing sealed.
func (b *Box) Open(v string) (string, error) {
	if !Sealed(v) {
		return v, nil
	}
	if b == nil {
		return "", ErrNoKey
	}
	raw, err := base64.RawStdEncoding.DecodeString(v[len(prefix):])
	if err != nil || len(raw) < b.current.NonceSize() {
		return "", errors.New("a sealed secret in the database is damaged")
	}
	nonce, ct := raw[:b.current.NonceSize()], raw[b.current.NonceSize():]
	for _, a := range append([]cipher.AEAD{b.current}, b.previous...) {
		if plain, err := a.Open(nil, nonce, ct, nil); err == nil {
			return string(plain), nil
		}
	}
	return "", ErrWrongKey
}

// Current reports whether v is sealed with the current key (nothing to
// do for a rotation).
func (b *Box) Current(v string) bool {
	if b == nil || !Sealed(v) {
		return false
	}
	raw, err := base64.RawStdEncoding.DecodeString(v[len(prefix):])
	if err != nil || len(raw) < b.current.NonceSize() {
		return false
	}
	_, err = b.current.Open(nil, raw[:b.current.NonceSize()], raw[b.current.NonceSize():], nil)
	return err == nil
}
