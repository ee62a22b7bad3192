package message

import (
	"bytes"
	"crypto/sha256"
	"encoding"
	"fmt"
	"hash"
	"mime"
	nettextproto "net/textproto"
	"time"

	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
)

// A campaign's messages differ only in a few spans: the reader's address
// and name, their links, the Date and Message-ID. Spliced encodes what is
// the same for every reader once (the shared header fields, the multipart
// framing, the quoted-printable of every body line without a personal
// value, the DKIM body hash of the body's shared start) and, per message,
// writes the personal header fields and encodes only the lines that hold a
// personal value, copying the rest. The bytes are those Template.Append
// writes for the same message, given the same boundary and Date.

// Layout is one body part of a campaign (its text or its HTML) as the runs
// that are the same for every reader, with a personal value (a hole)
// between each two: Static[0], hole 0, Static[1], ..., Static[n]. An empty
// layout (no runs, or one empty run) has no part.
type Layout struct {
	Static [][]byte
}

// Holes fills one message's holes: AppendHole appends the value of hole i
// of part (0 text, 1 HTML) to dst, unencoded, as the part's text would
// hold it.
type Holes interface {
	AppendHole(dst []byte, part, i int) []byte
}

// Scratch is the memory one worker reuses from message to message (hole
// values, header values, DKIM state), so a spliced message makes no
// garbage of its own. The zero value is ready; it is not safe for
// concurrent use.
type Scratch struct {
	value, field, canon, sig []byte
	key, canonKey            string // the last extra field's name, canonical
	sum                      [sha256.Size]byte
	body, head               hash.Hash
}

// Spliced builds one campaign's messages from pre-encoded pieces. It is
// immutable and safe for concurrent use.
type Spliced struct {
	t        *Template
	boundary string
	dashes   []byte // "--" and the boundary: no hole may hold it
	ctype    []byte // the Content-Type field, with the boundary
	subject  []byte // the Subject field
	parts    []splicedPart
	closing  []byte // "\r\n--boundary--\r\n"
	// prefix is how many bytes the body starts with that every message
	// shares; hashed is the body hash's state after them (DKIM only).
	prefix int
	hashed []byte
}

type splicedPart struct {
	index int    // 0 text, 1 HTML: what Holes is asked for
	head  []byte // boundary line and part header
	runs  []run
}

// run is one static run, cut at its first and last line breaks: the lines
// a hole stands on (lead and tail) are encoded per message, the whole
// lines between them (enc) once.
type run struct {
	lead []byte // raw, through the first line break
	enc  []byte // encoded, whole lines; last run: through the end
	raw  []byte // what enc encodes, for a message whose lead does not end clean
	tail []byte // raw, after the last line break
	last bool   // the body's last run: enc ends the encoding
}

// Splice prepares t's messages for one campaign's text and HTML.
func (t *Template) Splice(text, html Layout) (*Spliced, error) {
	s := &Spliced{t: t, boundary: t.boundary}
	if s.boundary == "" {
		s.boundary = textproto.NewMultipartWriter(nil).Boundary() // random
	}
	var err error
	var h gomessage.Header
	h.SetContentType("multipart/alternative", map[string]string{"boundary": s.boundary})
	if s.ctype, err = formatFields(h.Header); err != nil {
		return nil, err
	}
	if t.subject != "" {
		var h textproto.Header
		h.Set("Subject", t.subject)
		if s.subject, err = formatFields(h); err != nil {
			return nil, err
		}
	}
	first := true
	for i, l := range []Layout{text, html} {
		if len(l.Static) == 0 || len(l.Static) == 1 && len(l.Static[0]) == 0 {
			continue
		}
		var hb bytes.Buffer
		if !first {
			hb.WriteString("\r\n")
		}
		first = false
		hb.WriteString("--" + s.boundary + "\r\n")
		ph := t.textHeader
		if i == 1 {
			ph = t.htmlHeader
		}
		if err := textproto.WriteHeader(&hb, ph.Header); err != nil {
			return nil, fmt.Errorf("part header: %w", err)
		}
		p := splicedPart{index: i, head: hb.Bytes()}
		for k, st := range l.Static {
			p.runs = append(p.runs, cut(st, k == 0, k == len(l.Static)-1))
		}
		s.parts = append(s.parts, p)
	}
	if len(s.parts) == 0 {
		return nil, fmt.Errorf("body: no text and no HTML: %w", ErrInvalid)
	}
	s.closing = []byte("\r\n--" + s.boundary + "--\r\n")
	s.dashes = []byte("--" + s.boundary)
	if t.signOptions != nil {
		// The body hash runs over the body in order: what every message
		// starts with is hashed here, once.
		var prefix []byte
		for _, p := range s.parts {
			prefix = append(prefix, p.head...)
			r := p.runs[0]
			prefix = append(prefix, r.enc...)
			if len(p.runs) > 1 || len(r.tail) > 0 {
				break
			}
		}
		bh := sha256.New()
		bh.Write(prefix)
		if s.hashed, err = bh.(encoding.BinaryMarshaler).MarshalBinary(); err != nil {
			return nil, fmt.Errorf("dkim: %w", err)
		}
		s.prefix = len(prefix)
	}
	return s, nil
}

// cut splits one static run at its first and last line breaks (LF: after
// one, a quoted-printable encoding is clean) and encodes the whole lines
// between them. The body's first run starts clean, so it has no lead; the
// last one is encoded through the end.
func cut(st []byte, first, last bool) run {
	var r run
	rest := st
	if !first {
		i := bytes.IndexByte(st, '\n')
		if i < 0 {
			r.lead = st
			r.last = last
			return r
		}
		r.lead, rest = st[:i+1], st[i+1:]
	}
	if last {
		r.enc, r.raw, r.last = appendQP(nil, rest), rest, true
		return r
	}
	j := bytes.LastIndexByte(rest, '\n')
	if j < 0 {
		r.tail = rest
		return r
	}
	q := qpState{}
	r.enc, r.raw, r.tail = q.add(nil, rest[:j+1]), rest[:j+1], rest[j+1:]
	return r
}

func formatFields(h textproto.Header) ([]byte, error) {
	var w appendWriter
	if err := textproto.WriteHeader(&w, h); err != nil {
		return nil, fmt.Errorf("format header: %w", err)
	}
	return w.b[:len(w.b)-2], nil // without the blank line
}

// Boundary returns the multipart boundary every message of s uses.
func (s *Spliced) Boundary() string { return s.boundary }

// Append builds the message for m, whose Text and HTML are ignored (holes
// fills the layouts' holes instead), and appends it to dst; see
// Template.Append.
func (s *Spliced) Append(dst []byte, m *Message, holes Holes, sc *Scratch) ([]byte, error) {
	start := len(dst)
	out, bodyAt, err := s.build(dst, m, holes, sc)
	if err != nil {
		return dst[:start], err
	}
	if s.t.signOptions != nil {
		if out, err = s.t.signOptions.signSpliced(out, start, bodyAt, s, sc); err != nil {
			return dst[:start], err
		}
	}
	return out, nil
}

func (s *Spliced) build(dst []byte, m *Message, holes Holes, sc *Scratch) ([]byte, int, error) {
	t := s.t
	to, err := formatAddress("To", m.To)
	if err != nil {
		return dst, 0, err
	}
	if err := checkMessageID(m.MessageID); err != nil {
		return dst, 0, err
	}
	var unsub string
	if !t.staff {
		if unsub, err = t.listUnsubscribe(m); err != nil {
			return dst, 0, err
		}
	}
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}

	// The order go-message writes the fields Template.build sets.
	dst = append(dst, t.common...)
	dst = append(dst, s.ctype...)
	sc.field = append(sc.field[:0], to...)
	dst = appendField(dst, "To", sc.field)
	switch {
	case m.Subject != "":
		if err := checkValue("Subject", m.Subject); err != nil {
			return dst, 0, err
		}
		sc.field = append(sc.field[:0], mime.QEncoding.Encode("utf-8", m.Subject)...)
		dst = appendField(dst, "Subject", sc.field)
	case s.subject != nil:
		dst = append(dst, s.subject...)
	default:
		return dst, 0, fmt.Errorf("Subject: empty: %w", ErrInvalid)
	}
	sc.field = date.AppendFormat(sc.field[:0], time.RFC1123Z)
	dst = appendField(dst, "Date", sc.field)
	sc.field = append(append(append(sc.field[:0], '<'), m.MessageID...), '>')
	dst = appendField(dst, "Message-Id", sc.field)
	if unsub != "" {
		sc.field = append(sc.field[:0], unsub...)
		dst = appendField(dst, "List-Unsubscribe", sc.field)
	}
	for _, f := range m.Headers {
		if f.Key != sc.key || sc.key == "" { // the same names come message after message
			sc.key, sc.canonKey = f.Key, nettextproto.CanonicalMIMEHeaderKey(f.Key)
		}
		if err := checkExtra(f, sc.canonKey); err != nil {
			return dst, 0, err
		}
		sc.field = append(sc.field[:0], mime.QEncoding.Encode("utf-8", f.Value)...)
		dst = appendField(dst, sc.canonKey, sc.field)
	}
	dst = append(dst, "Mime-Version: 1.0\r\n\r\n"...)
	bodyAt := len(dst)

	for _, p := range s.parts {
		dst = append(dst, p.head...)
		q := qpState{ls: len(dst)}
		for k, r := range p.runs {
			if k > 0 {
				sc.value = holes.AppendHole(sc.value[:0], p.index, k-1)
				if bytes.Contains(sc.value, s.dashes) {
					return dst, 0, fmt.Errorf("a personal value holds the multipart boundary: %w", ErrInvalid)
				}
				dst = q.add(dst, sc.value)
			}
			dst = q.add(dst, r.lead)
			switch {
			case r.enc == nil:
			case q.cr || q.ls != len(dst):
				// The lead's last line break did not end a line: a lone CR
				// before it (the encoding then takes CR, bytes, LF as one
				// break). enc was encoded from a clean start: encode here.
				dst = q.add(dst, r.raw)
				if r.last {
					dst = q.finish(dst)
				}
			default:
				dst = append(dst, r.enc...)
				q = qpState{ls: len(dst)} // clean: enc ends a line (or the body)
			}
			dst = q.add(dst, r.tail)
			if r.last && r.enc == nil {
				dst = q.finish(dst)
			}
		}
	}
	dst = append(dst, s.closing...)
	return dst, bodyAt, nil
}

// checkExtra checks one per-message extra field as formatExtra does;
// canonical is its name as written.
func checkExtra(f Field, canonical string) error {
	if f.Key == "" {
		return fmt.Errorf("extra header: empty name: %w", ErrInvalid)
	}
	for i := 0; i < len(f.Key); i++ {
		if c := f.Key[i]; c <= ' ' || c >= 0x7f || c == ':' {
			if c == '\r' || c == '\n' || c == 0 {
				return fmt.Errorf("header name %q: %w", f.Key, ErrHeaderInjection)
			}
			return fmt.Errorf("header name %q: %w", f.Key, ErrInvalid)
		}
	}
	if reserved[canonical] {
		return fmt.Errorf("header %s is set by Herald and cannot be overridden: %w", f.Key, ErrInvalid)
	}
	return checkValue(f.Key, f.Value)
}

// appendField appends the header field k: v, folded as go-message's
// textproto writes it: lines of at most 76 characters, folded at the last
// space or tab that allows it, else at 998, else cut.
func appendField(dst []byte, k string, v []byte) []byte {
	const preferred, hard = 76, 998
	dst = append(dst, k...)
	dst = append(dst, ':', ' ')
	if len(v) == 0 {
		return append(dst, '\r', '\n')
	}
	keylen := len(k) + 2
	for len(v) > 0 {
		at, folding, ok := foldAt(v, preferred-keylen)
		if !ok {
			at, folding, _ = foldAt(v, hard-keylen)
		}
		dst = append(dst, v[:at]...)
		dst = append(dst, folding...)
		v = v[at:]
		keylen = 0
	}
	return dst
}

// foldAt is go-message's foldLine: where the first line of v ends and the
// line break to insert there; ok is false when no whitespace allowed it.
func foldAt(v []byte, maxlen int) (at int, folding string, ok bool) {
	ok = true
	before := maxlen + 1
	at = len(v)
	if before > len(v) {
		if v[len(v)-1] != '\n' {
			folding = "\r\n"
		}
		return at, folding, ok
	}
	at = bytes.LastIndexAny(v[:before], " \t\n")
	if at == 0 {
		at = before - 1
	} else if at < 0 {
		at = before - 2
	}
	switch v[at] {
	case ' ', '\t':
		if v[at-1] != '\n' {
			folding = "\r\n"
		}
	case '\n':
	default:
		folding, ok = "\r\n ", false
	}
	return at, folding, ok
}
