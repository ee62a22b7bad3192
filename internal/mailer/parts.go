package mailer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"

	gomessage "github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"
)

// parts is a message taken apart again for the APIs that build the MIME
// themselves (Postmark, SendGrid): addresses, subject, bodies, and the
// header fields to carry over as they are.
type parts struct {
	From, To, ReplyTo *mail.Address
	Subject           string
	Text, HTML        string
	// Headers are the fields the API does not set itself, in order, with
	// their values as written (already RFC 2047-encoded where needed):
	// Message-ID, List-Unsubscribe, List-Unsubscribe-Post, List-Id,
	// Feedback-ID and any others.
	Headers []headerField
	// Metadata are the X-PM-Metadata-* fields (name without the prefix),
	// which Postmark's API takes as Metadata and hands back in webhooks.
	Metadata map[string]string
}

type headerField struct{ Name, Value string }

// apiSetsHeader names the fields the structured APIs write themselves
// (or that stop meaning anything once the provider rebuilds the message:
// our DKIM signature covers a body they re-encode, so it would fail).
var apiSetsHeader = map[string]bool{
	"From": true, "To": true, "Cc": true, "Bcc": true, "Reply-To": true, "Subject": true, "Date": true,
	"Mime-Version": true, "Content-Type": true, "Content-Transfer-Encoding": true,
	"Dkim-Signature": true, "Return-Path": true, "Received": true, "Sender": true,
}

const postmarkMetadataPrefix = "X-Pm-Metadata-"

// splitMessage reads msg, a multipart/alternative (or single-part text or
// HTML) message as package message builds them.
func splitMessage(msg []byte) (*parts, error) {
	e, err := gomessage.Read(bytes.NewReader(msg))
	if err != nil && !gomessage.IsUnknownCharset(err) && !gomessage.IsUnknownEncoding(err) {
		return nil, fmt.Errorf("message does not parse: %w", err)
	}
	h := gomail.Header{Header: e.Header}
	p := &parts{Metadata: map[string]string{}}
	if p.From, err = oneAddress(h, "From"); err != nil || p.From == nil {
		return nil, errors.New("message has no readable From address")
	}
	if p.To, err = oneAddress(h, "To"); err != nil || p.To == nil {
		return nil, errors.New("message has no readable To address")
	}
	if p.ReplyTo, err = oneAddress(h, "Reply-To"); err != nil {
		return nil, errors.New("message's Reply-To does not parse")
	}
	if p.Subject, err = h.Subject(); err != nil {
		return nil, errors.New("message's Subject does not decode")
	}
	fields := e.Header.Fields()
	for fields.Next() {
		key := fields.Key()
		switch {
		case apiSetsHeader[key]:
		case strings.HasPrefix(key, postmarkMetadataPrefix):
			v, err := fields.Text()
			if err != nil {
				v = fields.Value()
			}
			p.Metadata[strings.ToLower(strings.TrimPrefix(key, postmarkMetadataPrefix))] = v
		default:
			p.Headers = append(p.Headers, headerField{Name: key, Value: fields.Value()})
		}
	}
	if err := p.readBodies(e); err != nil {
		return nil, err
	}
	if p.Text == "" && p.HTML == "" {
		return nil, errors.New("message has neither a text nor an HTML body")
	}
	return p, nil
}

func oneAddress(h gomail.Header, key string) (*mail.Address, error) {
	if !h.Has(key) {
		return nil, nil
	}
	list, err := h.AddressList(key)
	if err != nil || len(list) != 1 {
		return nil, fmt.Errorf("%s: want one address", key)
	}
	return &mail.Address{Name: list[0].Name, Address: list[0].Address}, nil
}

// readBodies takes the text/plain and text/html parts, decoded.
func (p *parts) readBodies(e *gomessage.Entity) error {
	return e.Walk(func(_ []int, part *gomessage.Entity, err error) error {
		if err != nil {
			return fmt.Errorf("message part does not parse: %w", err)
		}
		t, _, _ := part.Header.ContentType()
		if t != "text/plain" && t != "text/html" {
			return nil
		}
		b, err := io.ReadAll(part.Body)
		if err != nil {
			return fmt.Errorf("message part does not decode: %w", err)
		}
		if t == "text/plain" && p.Text == "" {
			p.Text = string(b)
		} else if t == "text/html" && p.HTML == "" {
			p.HTML = string(b)
		}
		return nil
	})
}

// header returns a carried-over field's value.
func (p *parts) header(name string) string {
	for _, f := range p.Headers {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}
