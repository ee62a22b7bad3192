package message

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/emersion/go-msgauth/dkim"
)

// DKIM configures signing. Domain and Selector name the DNS record
// <Selector>._domainkey.<Domain> that publishes the public half of Key.
type DKIM struct {
	Domain   string
	Selector string
	Key      crypto.Signer // *rsa.PrivateKey (2048 bits or more) or ed25519.PrivateKey
}

// SignedHeaders lists the header fields every DKIM signature covers. Fields
// a message lacks (Reply-To) are still listed so they cannot be added later.
var SignedHeaders = []string{
	"From", "Reply-To", "To", "Subject", "Date", "Message-ID",
	"List-Unsubscribe", "List-Unsubscribe-Post", "List-Id", "Feedback-ID",
	"MIME-Version", "Content-Type",
}

// MinRSABits is the smallest RSA key Herald signs with.
const MinRSABits = 2048

type signOptions struct {
	opts dkim.SignOptions
}

func newSignOptions(d *DKIM) (*signOptions, error) {
	if d.Domain == "" || d.Selector == "" || d.Key == nil {
		return nil, fmt.Errorf("dkim: domain, selector and key are all required: %w", ErrInvalid)
	}
	if err := checkValue("dkim domain", d.Domain+d.Selector); err != nil {
		return nil, err
	}
	if err := checkKey(d.Key); err != nil {
		return nil, err
	}
	return &signOptions{opts: dkim.SignOptions{
		Domain:                 d.Domain,
		Selector:               d.Selector,
		Signer:                 d.Key,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationSimple,
		HeaderKeys:             SignedHeaders,
	}}, nil
}

// sign signs buf[start:] and inserts the DKIM-Signature field before it.
func (s *signOptions) sign(buf []byte, start int) ([]byte, error) {
	signer, err := dkim.NewSigner(&s.opts)
	if err != nil {
		return buf, fmt.Errorf("dkim: %w", err)
	}
	if _, err := signer.Write(buf[start:]); err != nil {
		signer.Close()
		return buf, fmt.Errorf("dkim: %w", err)
	}
	if err := signer.Close(); err != nil {
		return buf, fmt.Errorf("dkim: %w", err)
	}
	sig := signer.Signature()
	end := len(buf)
	buf = append(buf, sig...)
	copy(buf[start+len(sig):], buf[start:end])
	copy(buf[start:], sig)
	return buf, nil
}

func checkKey(k crypto.Signer) error {
	switch pub := k.Public().(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < MinRSABits {
			return fmt.Errorf("dkim: RSA key has %d bits, need at least %d: %w", pub.N.BitLen(), MinRSABits, ErrInvalid)
		}
	case ed25519.PublicKey:
	default:
		return fmt.Errorf("dkim: unsupported key type %T (use RSA or Ed25519): %w", pub, ErrInvalid)
	}
	return nil
}

// ParseKey reads a DKIM private key from PEM: PKCS#8 ("PRIVATE KEY", RSA or
// Ed25519) or PKCS#1 ("RSA PRIVATE KEY").
func ParseKey(pemData []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(pemData)
	if block == nil {
		return nil, errors.New("dkim key: no PEM block found")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("dkim key: PEM block %q is not a private key", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("dkim key: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("dkim key: unsupported key type %T", key)
	}
	if err := checkKey(signer); err != nil {
		return nil, err
	}
	return signer, nil
}

// LoadKey reads a PEM private key file (see ParseKey).
func LoadKey(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("dkim key: %w", err)
	}
	return ParseKey(b)
}

// GenerateKey makes a new DKIM key, "rsa" (2048 bits) or "ed25519", and
// returns it as PKCS#8 PEM.
func GenerateKey(algorithm string) ([]byte, error) {
	var key any
	switch strings.ToLower(algorithm) {
	case "rsa":
		k, err := rsa.GenerateKey(rand.Reader, MinRSABits)
		if err != nil {
			return nil, fmt.Errorf("generate rsa key: %w", err)
		}
		key = k
	case "ed25519":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate ed25519 key: %w", err)
		}
		key = k
	default:
		return nil, fmt.Errorf("dkim: unknown key algorithm %q (use rsa or ed25519)", algorithm)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// DNSName is the name of the TXT record that publishes a selector's key.
func DNSName(selector, domain string) string {
	return selector + "._domainkey." + strings.TrimSuffix(domain, ".")
}

// DNSRecord returns the TXT record value that publishes key's public half,
// e.g. "v=DKIM1; k=ed25519; p=...". RSA values exceed 255 bytes; see
// SplitTXT for zone files that need them in pieces.
func DNSRecord(key crypto.Signer) (string, error) {
	var k, p string
	switch pub := key.Public().(type) {
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return "", fmt.Errorf("encode public key: %w", err)
		}
		k, p = "rsa", base64.StdEncoding.EncodeToString(der)
	case ed25519.PublicKey:
		k, p = "ed25519", base64.StdEncoding.EncodeToString(pub)
	default:
		return "", fmt.Errorf("dkim: unsupported key type %T", pub)
	}
	return "v=DKIM1; k=" + k + "; p=" + p, nil
}

// SplitTXT cuts a TXT value into quoted strings of at most 255 bytes, the
// form zone files and some DNS consoles need: "part1" "part2".
func SplitTXT(value string) string {
	var b bytes.Buffer
	for len(value) > 0 {
		n := min(255, len(value))
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('"')
		b.WriteString(value[:n])
		b.WriteByte('"')
		value = value[n:]
	}
	return b.String()
}
