package mailer

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emersion/go-message/textproto"
)

// ErrNotFound is returned by Outbox.Get for an unknown id.
var ErrNotFound = errors.New("outbox: no such message")

// Outbox is the built-in transport: it stores each message as one .eml file
// in a directory so the admin can list and read what would have been sent.
// File names sort by arrival, so listing needs no index. Safe for
// concurrent use, also by several processes sharing the directory.
type Outbox struct {
	dir   string
	clock Clock
	seq   atomic.Uint64
}

// OutboxItem summarises one stored message.
type OutboxItem struct {
	ID        string
	Envelope  Envelope
	From      string // decoded header values
	To        string
	Subject   string
	Date      time.Time
	MessageID string
	Size      int64
}

// NewOutbox stores messages under dir, creating it if needed. clock may be
// nil (SystemClock).
func NewOutbox(dir string, clock Clock) (*Outbox, error) {
	if clock == nil {
		clock = SystemClock{}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return &Outbox{dir: dir, clock: clock}, nil
}

// Send stores msg, prefixed with Return-Path and Delivered-To fields for the
// envelope as a final delivery agent would.
// Transport names the Outbox's kind of transport: TransportOutbox.
func (o *Outbox) Transport() string { return TransportOutbox }

func (o *Outbox) Send(ctx context.Context, env Envelope, msg []byte) error {
	if err := env.check(); err != nil {
		return &Error{Class: Permanent, Stage: StageMail, Text: err.Error()}
	}
	if err := ctx.Err(); err != nil {
		return transportError("", StageStore, "cancelled", err)
	}
	id := fmt.Sprintf("%020d-%08x", o.clock.Now().UnixNano(), o.seq.Add(1)&0xffffffff)
	tmp, err := os.CreateTemp(o.dir, ".incoming-*")
	if err != nil {
		return transportError("", StageStore, "cannot store message", err)
	}
	w := bufio.NewWriter(tmp)
	fmt.Fprintf(w, "Return-Path: <%s>\r\nDelivered-To: %s\r\n", env.From, env.To)
	w.Write(msg)
	err = w.Flush()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(o.dir, id+".eml"))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return transportError("", StageStore, "cannot store message", err)
	}
	return nil
}

// ids lists stored ids, newest first.
func (o *Outbox) ids() ([]string, error) {
	entries, err := os.ReadDir(o.dir)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	ids := make([]string, 0, len(entries))
	for _, e := range entries {
		if name := e.Name(); strings.HasSuffix(name, ".eml") && !strings.HasPrefix(name, ".") {
			ids = append(ids, strings.TrimSuffix(name, ".eml"))
		}
	}
	slices.Reverse(ids) // ReadDir sorts by name, and names sort by arrival
	return ids, nil
}

// Count is the number of stored messages.
func (o *Outbox) Count() (int, error) {
	ids, err := o.ids()
	return len(ids), err
}

// List returns up to limit messages, newest first, skipping offset.
func (o *Outbox) List(offset, limit int) ([]OutboxItem, error) {
	ids, err := o.ids()
	if err != nil {
		return nil, err
	}
	if offset < 0 || offset >= len(ids) || limit <= 0 {
		return []OutboxItem{}, nil
	}
	ids = ids[offset:min(len(ids), offset+limit)]
	items := make([]OutboxItem, 0, len(ids))
	for _, id := range ids {
		it, err := o.summary(id)
		if errors.Is(err, ErrNotFound) {
			continue // cleared meanwhile
		}
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, nil
}

// Get returns one message's summary and its raw bytes as stored.
func (o *Outbox) Get(id string) (OutboxItem, []byte, error) {
	path, err := o.path(id)
	if err != nil {
		return OutboxItem{}, nil, err
	}
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return OutboxItem{}, nil, ErrNotFound
	}
	if err != nil {
		return OutboxItem{}, nil, fmt.Errorf("outbox: %w", err)
	}
	it, err := parseSummary(id, strings.NewReader(string(raw)))
	it.Size = int64(len(raw))
	return it, raw, err
}

// Clear deletes every stored message.
func (o *Outbox) Clear() error {
	ids, err := o.ids()
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := os.Remove(filepath.Join(o.dir, id+".eml")); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("outbox: %w", err)
		}
	}
	return nil
}

// RemoveAddressedTo deletes the stored messages addressed to email, its
// envelope recipient or an address of its To header, compared without
// regard to case, and returns how many it deleted. Herald calls it when a
// subscriber is erased, so that no copy of their mail stays behind.
func (o *Outbox) RemoveAddressedTo(email string) (int, error) {
	return o.RemoveAddressedToAny(func(addr string) (bool, error) { return strings.EqualFold(addr, email), nil })
}

// RemoveAddressedToAny deletes the stored messages with an address (the
// envelope recipient or one of the To header, lower-cased) for which
// erased says true, and returns how many it deleted: the sweep a node
// runs when another node erased someone.
func (o *Outbox) RemoveAddressedToAny(erased func(email string) (bool, error)) (int, error) {
	ids, err := o.ids()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		it, err := o.summary(id)
		if errors.Is(err, ErrNotFound) {
			continue // removed meanwhile
		}
		if err != nil {
			return n, err
		}
		hit := false
		for _, a := range recipients(it) {
			if hit, err = erased(a); err != nil {
				return n, err
			}
			if hit {
				break
			}
		}
		if !hit {
			continue
		}
		if err := os.Remove(filepath.Join(o.dir, id+".eml")); err != nil && !errors.Is(err, os.ErrNotExist) {
			return n, fmt.Errorf("outbox: %w", err)
		}
		n++
	}
	return n, nil
}

// recipients are a stored message's addresses, lower-cased: the envelope
// recipient and those of the To header.
func recipients(it OutboxItem) []string {
	out := []string{strings.ToLower(it.Envelope.To)}
	list, err := mail.ParseAddressList(it.To)
	if err != nil {
		return out
	}
	for _, a := range list {
		out = append(out, strings.ToLower(a.Address))
	}
	return out
}

func (o *Outbox) path(id string) (string, error) {
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c == '-') {
			return "", ErrNotFound
		}
	}
	if id == "" {
		return "", ErrNotFound
	}
	return filepath.Join(o.dir, id+".eml"), nil
}

func (o *Outbox) summary(id string) (OutboxItem, error) {
	path, err := o.path(id)
	if err != nil {
		return OutboxItem{}, err
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return OutboxItem{}, ErrNotFound
	}
	if err != nil {
		return OutboxItem{}, fmt.Errorf("outbox: %w", err)
	}
	defer f.Close()
	it, err := parseSummary(id, f)
	if fi, serr := f.Stat(); serr == nil {
		it.Size = fi.Size()
	}
	return it, err
}

func parseSummary(id string, r io.Reader) (OutboxItem, error) {
	h, err := textproto.ReadHeader(bufio.NewReader(r))
	if err != nil {
		return OutboxItem{}, fmt.Errorf("outbox: message %s: %w", id, err)
	}
	dec := mime.WordDecoder{}
	text := func(k string) string {
		v := h.Get(k)
		if d, err := dec.DecodeHeader(v); err == nil {
			return d
		}
		return v
	}
	it := OutboxItem{
		ID:        id,
		Envelope:  Envelope{From: strings.Trim(h.Get("Return-Path"), "<>"), To: h.Get("Delivered-To")},
		From:      text("From"),
		To:        text("To"),
		Subject:   text("Subject"),
		MessageID: strings.Trim(h.Get("Message-Id"), "<> "),
	}
	if d, err := mail.ParseDate(h.Get("Date")); err == nil {
		it.Date = d
	}
	return it, nil
}
