package inbound_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/inbound"
)

func TestParseSendGridKeyRefusesOtherKeys(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384DER, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	for text, want := range map[string]string{
		"not base64 at all!":                            "not base64",
		base64.StdEncoding.EncodeToString([]byte("hi")): "not a public key",
		base64.StdEncoding.EncodeToString(rsaDER):       "not an ECDSA P-256 key",
		base64.StdEncoding.EncodeToString(p384DER):      "not an ECDSA P-256 key",
	} {
		if _, err := inbound.ParseSendGridKey(text); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseSendGridKey(%.20q) = %v, want %q", text, err, want)
		}
	}
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&p256.PublicKey)
	var pemText bytes.Buffer
	pemText.WriteString("-----BEGIN PUBLIC KEY-----\n")
	b64 := base64.StdEncoding.EncodeToString(der)
	for len(b64) > 64 {
		pemText.WriteString(b64[:64] + "\n")
		b64 = b64[64:]
	}
	pemText.WriteString(b64 + "\n-----END PUBLIC KEY-----\n")
	if _, err := inbound.ParseSendGridKey(pemText.String()); err != nil {
		t.Errorf("PEM-framed key: %v", err)
	}
}
