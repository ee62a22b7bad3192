package bounce

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Leaser is the part of the store that lets one node at a time read a
// mailbox.
type Leaser interface {
	ClaimBounceMailbox(ctx context.Context, name string, lease time.Duration) (bool, error)
	FinishBounceMailbox(ctx context.Context, name string, recorded int, problem string, next time.Time) error
}

// MailboxURL is a parsed bounce_imap_url:
// imaps://user:pass@host[:993]/MAILBOX[?processed=FOLDER].
type MailboxURL struct {
	Addr     string // host:port
	User     string
	Password string
	Mailbox  string // INBOX when the path is empty
	// Processed, when set, is the folder read reports are moved to;
	// empty deletes them.
	Processed string
}

// ParseMailboxURL reads a bounce_imap_url. Only imaps (TLS from the first
// byte) is taken: the password must not cross the network in the clear.
func ParseMailboxURL(raw string) (MailboxURL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return MailboxURL{}, errors.New("not a URL: write it as imaps://user:password@host/INBOX")
	}
	if u.Scheme != "imaps" {
		return MailboxURL{}, fmt.Errorf("the scheme must be imaps (IMAP over TLS), not %q", u.Scheme)
	}
	if u.Hostname() == "" || u.User == nil || u.User.Username() == "" {
		return MailboxURL{}, errors.New("needs a user and a host: imaps://user:password@host/INBOX")
	}
	pw, ok := u.User.Password()
	if !ok {
		return MailboxURL{}, errors.New("needs the password: imaps://user:password@host/INBOX (escape @ and : in it as %40 and %3A)")
	}
	port := u.Port()
	if port == "" {
		port = "993"
	}
	box := strings.TrimPrefix(u.Path, "/")
	if box == "" {
		box = "INBOX"
	}
	return MailboxURL{Addr: net.JoinHostPort(u.Hostname(), port), User: u.User.Username(), Password: pw, Mailbox: box,
		Processed: u.Query().Get("processed")}, nil
}

// Name is the mailbox's name in the store's lease table (no password).
func (m MailboxURL) Name() string { return m.User + "@" + m.Addr + "/" + m.Mailbox }

// Mailbox polls an IMAP mailbox for reports (config bounce_imap_url). Every
// node may run one; only the node holding the store's lease reads.
type Mailbox struct {
	URL    MailboxURL
	Rec    *Recorder
	Leases Leaser
	// Every is the time between polls (1 minute when 0).
	Every time.Duration
	// TLS is the client's TLS configuration (nil: the system's roots and
	// the URL's host name).
	TLS *tls.Config
}

func (m *Mailbox) every() time.Duration {
	if m.Every > 0 {
		return m.Every
	}
	return time.Minute
}

// Run polls until ctx ends. A poll that fails is logged and recorded on the
// lease row; the next one tries again.
func (m *Mailbox) Run(ctx context.Context) error {
	t := time.NewTicker(m.every())
	defer t.Stop()
	for {
		if _, err := m.PollIfDue(ctx); err != nil && ctx.Err() == nil {
			m.Rec.log().Error("read the bounce mailbox", "mailbox", m.URL.Name(), "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// PollIfDue polls the mailbox when this node can take its lease, and
// returns how many reports it recorded.
func (m *Mailbox) PollIfDue(ctx context.Context) (int, error) {
	// The lease outlasts a poll's longest run, so no other node reads the
	// same messages meanwhile.
	const lease = 10 * time.Minute
	ok, err := m.Leases.ClaimBounceMailbox(ctx, m.URL.Name(), lease)
	if err != nil || !ok {
		return 0, err
	}
	pctx, cancel := context.WithTimeout(ctx, lease-time.Minute)
	defer cancel()
	n, perr := m.Poll(pctx)
	problem := ""
	if perr != nil {
		problem = oneLine(perr.Error(), 300)
	}
	// Released at the next round, from whichever node comes first.
	next := m.Rec.now().Add(m.every() - time.Second)
	if err := m.Leases.FinishBounceMailbox(context.WithoutCancel(ctx), m.URL.Name(), n, problem, next); err != nil {
		return n, errors.Join(perr, err)
	}
	return n, perr
}

// batch is how many messages one FETCH brings.
const batch = 20

// Poll reads every message in the mailbox once: each is recorded (or found
// to be no report) and then moved to the processed folder or deleted. A
// message whose report could not be stored stays for the next poll.
func (m *Mailbox) Poll(ctx context.Context) (int, error) {
	cfg := m.TLS
	if cfg == nil {
		host, _, _ := net.SplitHostPort(m.URL.Addr)
		cfg = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	c, err := imapclient.DialTLS(m.URL.Addr, &imapclient.Options{TLSConfig: cfg, Dialer: &net.Dialer{Timeout: 30 * time.Second}})
	if err != nil {
		return 0, fmt.Errorf("connect to %s: %w", m.URL.Addr, err)
	}
	defer func() { _ = c.Close() }() // read-only session: nothing to lose at logout
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()
	if err := c.Login(m.URL.User, m.URL.Password).Wait(); err != nil {
		return 0, fmt.Errorf("log in as %s: %w", m.URL.User, err)
	}
	if _, err := c.Select(m.URL.Mailbox, nil).Wait(); err != nil {
		return 0, fmt.Errorf("open mailbox %s: %w", m.URL.Mailbox, err)
	}
	recorded := 0
	// Larger messages are no reports; they are filed unread, with a word
	// in the log.
	big, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagDeleted}, Larger: MaxSize}, nil).Wait()
	if err != nil {
		return 0, fmt.Errorf("search the mailbox: %w", err)
	}
	if uids := big.AllUIDs(); len(uids) > 0 {
		m.Rec.log().Warn("bounce mailbox messages too large to be reports, filed unread", "mailbox", m.URL.Name(), "count", len(uids))
		if err := m.file(c, imap.UIDSetNum(uids...)); err != nil {
			return 0, err
		}
	}
	// Not larger than MaxSize here too: a large message that arrived since
	// the search above is never fetched whole.
	found, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagDeleted},
		Not: []imap.SearchCriteria{{Larger: MaxSize}}}, nil).Wait()
	if err != nil {
		return 0, fmt.Errorf("search the mailbox: %w", err)
	}
	uids := found.AllUIDs()
	section := &imap.FetchItemBodySection{Peek: true}
	for start := 0; start < len(uids); start += batch {
		msgs, err := c.Fetch(imap.UIDSetNum(uids[start:min(start+batch, len(uids))]...),
			&imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		if err != nil {
			return recorded, fmt.Errorf("fetch messages: %w", err)
		}
		var done []imap.UID
		var failed error
		for _, msg := range msgs {
			raw := msg.FindBodySection(section)
			out, err := m.Rec.Mail(ctx, nil, raw)
			switch {
			case errors.Is(err, ErrForged):
				m.Rec.log().Warn("bounce with a forged token ignored", "via", "imap", "uid", msg.UID, "err", err)
			case err != nil:
				failed = err // kept for the next poll
				continue
			case out.Recorded != nil:
				recorded++
				m.Rec.log().Info("bounce report recorded", "via", "imap", "kind", out.Recorded.Kind,
					"subscriber", out.Recorded.SubscriberID, "campaign", out.Recorded.CampaignID, "status", out.Recorded.Status)
			default:
				m.Rec.log().Info("bounce mailbox message has nothing to record", "via", "imap", "uid", msg.UID, "why", out.Ignored)
			}
			done = append(done, msg.UID)
		}
		if len(done) > 0 {
			if err := m.file(c, imap.UIDSetNum(done...)); err != nil {
				return recorded, err
			}
		}
		if failed != nil {
			return recorded, fmt.Errorf("record a report: %w", failed)
		}
	}
	if err := c.Logout().Wait(); err != nil {
		return recorded, nil // all is done; a server that drops the line at LOGOUT is no failure
	}
	return recorded, nil
}

// file moves read messages to the processed folder, or deletes them.
func (m *Mailbox) file(c *imapclient.Client, uids imap.UIDSet) error {
	if m.URL.Processed != "" {
		if _, err := c.Move(uids, m.URL.Processed).Wait(); err != nil {
			return fmt.Errorf("move read reports to %s: %w", m.URL.Processed, err)
		}
		return nil
	}
	if err := c.Store(uids, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}, Silent: true}, nil).Close(); err != nil {
		return fmt.Errorf("delete read reports: %w", err)
	}
	if c.Caps().Has(imap.CapUIDPlus) {
		return c.UIDExpunge(uids).Close()
	}
	return c.Expunge().Close()
}
