package message

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

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
	// For signSpliced: the tags that are the same for every message, the
	// signed field names, and the hash the key signs with.
	tags                                           [8][]byte
	alg, canon, domain, headers, selector, version []byte
	keys                                           [][]byte
	hash                                           crypto.Hash
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
	s := &signOptions{opts: dkim.SignOptions{
		Domain:                 d.Domain,
		Selector:               d.Selector,
		Signer:                 d.Key,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationSimple,
		HeaderKeys:             SignedHeaders,
	}}
	for i, t := range []string{"a", "bh", "c", "d", "h", "s", "t", "v"} {
		s.tags[i] = []byte(t)
	}
	s.alg, s.hash = []byte("rsa-sha256"), crypto.SHA256
	if _, ok := d.Key.Public().(ed25519.PublicKey); ok {
		s.alg, s.hash = []byte("ed25519-sha256"), crypto.Hash(0)
	}
	s.canon = []byte(string(dkim.CanonicalizationRelaxed) + "/" + string(dkim.CanonicalizationSimple))
	s.domain, s.selector, s.version = []byte(d.Domain), []byte(d.Selector), []byte("1")
	s.headers = []byte(strings.Join(SignedHeaders, ":"))
	for _, k := range SignedHeaders {
		s.keys = append(s.keys, []byte(k))
	}
	return s, nil
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

// signSpliced signs buf[start:], a message Spliced built with its body at
// bodyAt, and inserts the DKIM-Signature field before it: the field
// go-msgauth's Signer writes for the same message (relaxed header, simple
// body, the same tags in the same order and folding), computed without
// its pipe, goroutine and copies. The body hash goes on from the state
// after the body's shared start, hashed once by Splice; for Herald's
// bodies, which end in one CRLF, simple canonicalization changes nothing.
func (s *signOptions) signSpliced(buf []byte, start, bodyAt int, sp *Spliced, sc *Scratch) ([]byte, error) {
	if sc.body == nil {
		sc.body, sc.head = sha256.New(), sha256.New()
	}
	if err := sc.body.(encoding.BinaryUnmarshaler).UnmarshalBinary(sp.hashed); err != nil {
		return buf, fmt.Errorf("dkim: %w", err)
	}
	sc.body.Write(buf[bodyAt+sp.prefix:])
	var b64 [44]byte // base64 of a SHA-256 sum
	base64.StdEncoding.Encode(b64[:], sc.body.Sum(sc.sum[:0]))
	var tbuf [20]byte
	params := [...]struct{ k, v []byte }{
		{s.tags[0], s.alg},
		{s.tags[1], b64[:]},
		{s.tags[2], s.canon},
		{s.tags[3], s.domain},
		{s.tags[4], s.headers},
		{s.tags[5], s.selector},
		{s.tags[6], strconv.AppendInt(tbuf[:0], time.Now().Unix(), 10)},
		{s.tags[7], s.version},
	}
	// go-msgauth's format: tags sorted, a new line before one that would
	// make the line pass 75 characters, then b= on lines of its own.
	sig := append(sc.sig[:0], "DKIM-Signature:"...)
	line := len(sig)
	for _, p := range params {
		if 3+(len(sig)-line)+len(p.v)+len(p.k) > 75 {
			sig = append(sig, "\r\n"...)
			line = len(sig)
		}
		sig = append(sig, ' ')
		sig = append(sig, p.k...)
		sig = append(sig, '=')
		sig = append(sig, p.v...)
		sig = append(sig, ';')
	}
	sig = append(sig, "\r\n"...)
	unsigned := len(sig)
	sig = append(sig, " b="...)

	// The header hash: each signed field (the last of its name), relaxed,
	// then the signature field with an empty b=.
	h := sc.head
	h.Reset()
	head := buf[start : bodyAt-2]
	for _, k := range s.keys {
		if f := lastField(head, k); f != nil {
			sc.canon = relaxed(sc.canon[:0], f)
			sc.canon = append(sc.canon, "\r\n"...)
			h.Write(sc.canon)
		}
	}
	sc.canon = relaxed(sc.canon[:0], sig)
	h.Write(sc.canon)
	signature, err := s.opts.Signer.Sign(rand.Reader, h.Sum(sc.sum[:0]), s.hash)
	if err != nil {
		return buf, fmt.Errorf("dkim: %w", err)
	}
	b := base64.StdEncoding.AppendEncode(append(sc.canon[:0], " b="...), signature)
	sc.canon = b
	sig = sig[:unsigned]
	for i := 0; i < len(b); i += 75 {
		if i > 0 {
			sig = append(sig, "\r\n "...)
		}
		sig = append(sig, b[i:min(i+75, len(b))]...)
	}
	sig = append(sig, "\r\n"...)
	sc.sig = sig

	end := len(buf)
	buf = append(buf, sig...)
	copy(buf[start+len(sig):], buf[start:end])
	copy(buf[start:], sig)
	return buf, nil
}

// lastField returns the last field of header (CRLF-separated, folded
// lines included, no final CRLF) named k, or nil, as go-msgauth picks the
// fields it signs.
func lastField(header, k []byte) []byte {
	var found []byte
	for rest := header; len(rest) > 0; {
		end := len(rest)
		for i := 0; ; { // a field ends at a CRLF not followed by a space or tab
			j := bytes.Index(rest[i:], crlf)
			if j < 0 {
				break
			}
			i += j
			if i+2 < len(rest) && (rest[i+2] == ' ' || rest[i+2] == '\t') {
				i += 2
				continue
			}
			end = i
			break
		}
		f := rest[:end]
		if colon := bytes.IndexByte(f, ':'); colon >= 0 && bytes.EqualFold(bytes.TrimSpace(f[:colon]), k) {
			found = f
		}
		if end+2 > len(rest) {
			break
		}
		rest = rest[end+2:]
	}
	return found
}

var crlf = []byte("\r\n")

// relaxed appends field in DKIM's relaxed header canonicalization (RFC
// 6376 3.4.2, as go-msgauth writes it): the name lower-cased, the value's
// runs of whitespace and line breaks as one space, none at either end.
func relaxed(dst, field []byte) []byte {
	name, value, _ := bytes.Cut(field, []byte(":"))
	for _, c := range bytes.TrimSpace(name) {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	dst = append(dst, ':')
	space, wrote := false, false
	for _, c := range value {
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			space = true
			continue
		}
		if space && wrote {
			dst = append(dst, ' ')
		}
		space, wrote = false, true
		dst = append(dst, c)
	}
	return dst
}
