// Package deliverytest gives tests the real sending path in a few lines: an
// in-process SMTP server with a mailer pooled to it, a token signer, and an
// engine that runs until the test ends.
package deliverytest

import (
	"bytes"
	"context"
	"crypto"
	"sync"
	"testing"

	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/message"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/token"
)

// Relay starts an SMTP server on a loopback port and a mailer that sends to
// it; both close when the test ends.
func Relay(t testing.TB, opts smtpsink.Options) (*smtpsink.Sink, *mailer.Mailer, mailer.RelayConfig) {
	t.Helper()
	sink, err := smtpsink.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	rc, err := mailer.ParseRelay(sink.URL())
	if err != nil {
		t.Fatal(err)
	}
	m, err := mailer.New(mailer.Config{Relays: []mailer.RelayConfig{rc}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return sink, m, rc
}

// Signer is a token signer with a fixed test key.
func Signer(t testing.TB) *token.Signer {
	t.Helper()
	s, err := token.NewSigner(bytes.Repeat([]byte("k"), 32))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Run runs eng in the background and returns a function that stops it and
// waits; it also stops when the test ends.
func Run(t testing.TB, eng *delivery.Engine) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := eng.Run(ctx); err != nil {
			t.Errorf("delivery engine: %v", err)
		}
	})
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}

// DKIMKey generates an Ed25519 DKIM key: its PKCS#8 PEM, the key, and the
// DNS TXT record that publishes its public half (for dkim.VerifyOptions'
// LookupTXT).
func DKIMKey(t testing.TB) (pem []byte, key crypto.Signer, record string) {
	t.Helper()
	pem, err := message.GenerateKey("ed25519")
	if err != nil {
		t.Fatal(err)
	}
	if key, err = message.ParseKey(pem); err != nil {
		t.Fatal(err)
	}
	if record, err = message.DNSRecord(key); err != nil {
		t.Fatal(err)
	}
	return pem, key, record
}
