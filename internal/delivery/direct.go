package delivery

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/address"
	"github.com/herald-news/herald/internal/bounce"
	"github.com/herald-news/herald/internal/edition"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/message"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/settings"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/token"
	"github.com/herald-news/herald/internal/validator"
)

// DirectStore is the part of the store a Direct sender reads, and writes
// to suppress an address a relay refused for good.
type DirectStore interface {
	SubscriberByEmail(ctx context.Context, email string) (*model.Subscriber, error)
	Subscriptions(ctx context.Context, subscriberID int64) ([]model.Subscription, error)
	Suppression(ctx context.Context, email string) (*model.Suppression, error)
	Suppress(ctx context.Context, email string, reason model.SuppressionReason, detail string) error
	ListBySlug(ctx context.Context, slug string) (*model.List, error)
	GetEdition(ctx context.Context, id int64) (*model.Edition, error)
	EditionBySlug(ctx context.Context, slug string) (*model.Edition, error)
	GetPublication(ctx context.Context) (model.Publication, error)
	AllSeries(ctx context.Context) ([]model.Series, error)
}

// DirectConfig configures a Direct sender. Store, Sender, Signer and From
// are required.
type DirectConfig struct {
	Store  DirectStore
	Sender mailer.Sender // the transport campaigns use: relays, or the outbox
	Signer *token.Signer
	// BaseURL is the public URL for unsubscribe, preferences and archive
	// links.
	BaseURL string
	// BaseURLGuessed says BaseURL is Herald's guess from its listen
	// address (the configuration sets no base_url): Send then refuses to
	// send through relays (CheckLinks).
	BaseURLGuessed bool
	From           string // default From, "Name <address>"
	// DKIM signs every message, when Settings is nil.
	DKIM *message.DKIM
	// Settings, when set, are read at each send: the signing key (the
	// configuration's, or one generated in the admin) and the publication
	// editions render with.
	Settings *settings.Settings
	// Bounce makes the envelope sender a VERP address naming the reader
	// when its domain is set (config bounce_domain).
	Bounce bounce.VERP
	// Publication renders editions until publication settings are saved,
	// when Settings is nil; Render are the rendering options (theme,
	// archive URL).
	Publication model.Publication
	Render      render.Options
	// Timeout bounds one send (1 minute).
	Timeout time.Duration
	Log     *slog.Logger
}

// Direct sends one message to one reader outside any campaign and its
// ledger: the transactional API. A message is an edition rendered for the
// reader as a campaign would render it, or a caller's Template filled in;
// either way it carries the headers campaign mail does (List-Unsubscribe
// one-click, List-Id, Feedback-ID "tx:<list>:herald", a DKIM signature)
// and goes through the same transport.
//
// What it sends is limited to what a token that may only send could not
// abuse: a published edition (a draft or unpublished one would leak an
// embargo) or a template; a reader confirmed on the list the message
// names (with no list, on some list), who is neither suppressed nor
// blocklisted; a From address Herald is configured with (DirectConfig.From,
// or a series' From), under any name. Every reader it will not mail gets
// the same refusal (RefusalCannotSend), so that refusals tell nobody who
// subscribes or who is suppressed. Opens and clicks are not tracked.
type Direct struct{ cfg DirectConfig }

// NewDirect returns a Direct sender.
func NewDirect(cfg DirectConfig) (*Direct, error) {
	if cfg.Store == nil || cfg.Sender == nil || cfg.Signer == nil || cfg.From == "" {
		return nil, errors.New("delivery: a direct sender needs a store, a transport, a token signer and a From address")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Minute
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	return &Direct{cfg: cfg}, nil
}

// DirectMessage is one message for Direct.Send: an edition (EditionID or
// Edition, its slug) or a Template with Variables.
type DirectMessage struct {
	To      string
	Name    string // the reader's name; default the subscriber's
	From    string // default DirectConfig.From
	ReplyTo string
	// List, a list's slug, names List-Id and the list the unsubscribe
	// link leaves; without it List-Id is newsletter.<domain> and the link
	// leaves every list.
	List      string
	EditionID int64
	Edition   string
	Template  *Template
	Variables map[string]string
	// Key, when set, makes the Message-ID: the same key gives the same
	// Message-ID, so that two copies of one request fold.
	Key string
}

// Sent is what Direct.Send handed to the transport.
type Sent struct {
	MessageID string // without angle brackets
	To        string // the normalised address
	Subject   string
	Transport string // mailer.TransportSMTP (relays) or mailer.TransportOutbox
}

// Refusal is why Direct will not send a message: something about the
// request, in words for the caller. Code names the kind: invalid,
// invalid_address or RefusalCannotSend.
type Refusal struct {
	Code    string
	Message string
}

func (r *Refusal) Error() string { return r.Message }

// RefusalCannotSend is the one refusal for every reader Direct will not
// mail (not a subscriber, not confirmed on the list, unsubscribed,
// suppressed, blocklisted): which of these it is stays in Herald.
const RefusalCannotSend = "cannot_send"

var errCannotSend = &Refusal{Code: RefusalCannotSend,
	Message: "Herald cannot send to this address: only readers confirmed on the list, and not suppressed, can be sent transactional mail"}

func refuse(code, format string, args ...any) error {
	return &Refusal{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Template variables Herald fills in for every template message, unless
// the caller gives them.
const (
	VarName           = "name"
	VarEmail          = "email"
	VarUnsubscribeURL = "unsubscribe_url"
	VarPreferencesURL = "preferences_url"
)

// Send builds m for its reader and hands it to the transport. It returns
// a *Refusal when the request cannot be sent as it is, CheckLinks'
// *validator.Error when this server's links would reach no reader, the transport's
// error (a *mailer.Error: Temporary, Permanent, HardBounce) when the relay
// did not take it, after suppressing the address for a hard bounce, or
// another error when reading the store failed.
func (d *Direct) Send(ctx context.Context, m DirectMessage) (Sent, error) {
	if err := CheckLinks(d.cfg.Sender, d.cfg.BaseURL, d.cfg.BaseURLGuessed); err != nil {
		return Sent{}, err
	}
	to, err := address.Normalize(m.To)
	if err != nil {
		return Sent{}, refuse("invalid_address", "to: %v", err)
	}
	if (m.Template == nil) == (m.EditionID == 0 && m.Edition == "") {
		return Sent{}, refuse("invalid", "give an edition (edition_id or edition) or a template, one of the two")
	}
	if m.EditionID != 0 && m.Edition != "" {
		return Sent{}, refuse("invalid", "give edition_id or edition, not both")
	}
	st := d.cfg.Store
	from, err := d.from(ctx, m.From)
	if err != nil {
		return Sent{}, err
	}
	fromRaw := m.From
	if fromRaw == "" {
		fromRaw = d.cfg.From
	}
	sub, list, err := d.reader(ctx, to, m.List)
	if err != nil {
		return Sent{}, err
	}
	if m.ReplyTo != "" {
		if _, err := mail.ParseAddress(m.ReplyTo); err != nil {
			return Sent{}, refuse("invalid", "reply_to must be an address such as desk@example.com")
		}
	}

	if err := validator.Name(m.Name); err != nil {
		return Sent{}, refuse("invalid", "name: %v", err)
	}
	name := strings.Join(strings.Fields(m.Name), " ")
	if name == "" {
		name = validator.ReaderName(sub.Name)
	}
	links := Links{BaseURL: d.cfg.BaseURL, Signer: d.cfg.Signer}
	claims := token.Claims{Purpose: token.Unsubscribe, SubscriberID: sub.ID}
	if list != nil {
		claims.ListID = list.ID
	}
	fields := render.Fields{
		Name:           name,
		UnsubscribeURL: d.cfg.BaseURL + "/unsubscribe/" + d.cfg.Signer.Sign(claims),
		PreferencesURL: links.Preferences(sub.ID),
	}

	var subject string
	var text, html []byte
	if m.Template != nil {
		vars := make(map[string]string, len(m.Variables)+4)
		for k, v := range map[string]string{VarName: name, VarEmail: to, VarUnsubscribeURL: fields.UnsubscribeURL, VarPreferencesURL: fields.PreferencesURL} {
			vars[k] = v
		}
		for k, v := range m.Variables {
			vars[k] = v
		}
		if subject, text, html, err = m.Template.Execute(vars); err != nil {
			return Sent{}, refuse("invalid", "%v", err)
		}
	} else {
		if subject, text, html, err = d.renderEdition(ctx, m, fields); err != nil {
			return Sent{}, err
		}
	}

	dkim := d.cfg.DKIM
	if d.cfg.Settings != nil {
		if dkim, err = d.cfg.Settings.SigningKey(ctx); err != nil {
			return Sent{}, fmt.Errorf("DKIM key: %w", err)
		}
	}
	id := Identity{From: fromRaw, ReplyTo: m.ReplyTo, List: list, DKIM: dkim}
	msgID := directMessageID(m.Key, address.Domain(from.Address))
	raw, err := TransactionalMessage(id, subject, message.Address{Name: name, Email: to}, msgID, fields.UnsubscribeURL, text, html)
	if errors.Is(err, message.ErrHeaderInjection) || errors.Is(err, message.ErrInvalid) {
		return Sent{}, refuse("invalid", "the message cannot be built: %v", err)
	} else if err != nil {
		return Sent{}, err
	}

	sctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	err = d.cfg.Sender.Send(sctx, mailer.Envelope{From: d.cfg.Bounce.Address(sub.ID, 0, from.Address), To: to}, raw)
	if mailer.IsHardBounce(err) {
		var me *mailer.Error
		reply := err.Error()
		if errors.As(err, &me) {
			reply = me.Reply()
		}
		// As for campaign mail: the address is not mailed again.
		if serr := st.Suppress(context.WithoutCancel(ctx), to, model.SuppressHardBounce, reply); serr != nil {
			d.cfg.Log.Error("suppress a hard-bounced address", "err", serr)
		}
	}
	if err != nil {
		return Sent{}, err
	}
	return Sent{MessageID: msgID, To: to, Subject: subject, Transport: transportOf(d.cfg.Sender)}, nil
}

// from returns the message's From: raw, or the configured From when raw is
// empty. Only an address Herald is configured with may send (the
// configuration's From or a series' From): a token that may send must not
// be able to send as anyone.
func (d *Direct) from(ctx context.Context, raw string) (*mail.Address, error) {
	def, err := mail.ParseAddress(d.cfg.From)
	if err != nil {
		return nil, fmt.Errorf("the configured From %q: %w", d.cfg.From, err)
	}
	if raw == "" {
		return def, nil
	}
	from, err := mail.ParseAddress(raw)
	if err != nil {
		return nil, refuse("invalid", "from must be an address such as \"The Courier <news@example.com>\"")
	}
	known := []string{def.Address}
	all, err := d.cfg.Store.AllSeries(ctx)
	if err != nil {
		return nil, err
	}
	for _, sr := range all {
		if a, err := mail.ParseAddress(sr.From); err == nil {
			known = append(known, a.Address)
		}
	}
	for _, k := range known {
		if strings.EqualFold(k, from.Address) {
			return from, nil
		}
	}
	return nil, refuse("invalid", "from must be one of the addresses Herald sends from (%s): another address is not this publication's to use",
		strings.Join(known, ", "))
}

// reader returns the subscriber at the normalised address to and the list
// named by slug (nil for none), or errCannotSend when Herald does not mail
// that reader: not a subscriber, suppressed, blocklisted, or not confirmed
// on the list (with no list, on any list).
func (d *Direct) reader(ctx context.Context, to, slug string) (*model.Subscriber, *model.List, error) {
	st := d.cfg.Store
	var list *model.List
	if slug != "" {
		var err error
		if list, err = st.ListBySlug(ctx, slug); errors.Is(err, store.ErrNotFound) {
			return nil, nil, refuse("invalid", "list %q does not exist", slug)
		} else if err != nil {
			return nil, nil, err
		}
	}
	if _, err := st.Suppression(ctx, to); err == nil {
		return nil, nil, errCannotSend
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, nil, err
	}
	sub, err := st.SubscriberByEmail(ctx, to)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, errCannotSend
	} else if err != nil {
		return nil, nil, err
	}
	if sub.Status == model.SubscriberBlocklisted {
		return nil, nil, errCannotSend
	}
	subs, err := st.Subscriptions(ctx, sub.ID)
	if err != nil {
		return nil, nil, err
	}
	for _, s := range subs {
		if s.Status == model.SubConfirmed && (list == nil || s.ListID == list.ID) {
			return sub, list, nil
		}
	}
	return nil, nil, errCannotSend
}

// noEdition refuses an edition that does not exist and one not published
// alike: a token that may send learns nothing of drafts.
const noEdition = "no published edition by that name or ID: only published editions can be sent as transactional mail"

// renderEdition renders the requested edition for one reader, as a
// campaign's email.
func (d *Direct) renderEdition(ctx context.Context, m DirectMessage, f render.Fields) (string, []byte, []byte, error) {
	st := d.cfg.Store
	var ed *model.Edition
	var err error
	if m.EditionID != 0 {
		ed, err = st.GetEdition(ctx, m.EditionID)
	} else {
		ed, err = st.EditionBySlug(ctx, m.Edition)
	}
	if errors.Is(err, store.ErrNotFound) {
		return "", nil, nil, refuse("invalid", noEdition)
	} else if err != nil {
		return "", nil, nil, err
	}
	if ed.Status != model.EditionPublished {
		// A token that may send must not mail what is not out yet.
		return "", nil, nil, refuse("invalid", noEdition)
	}
	if ps := edition.Validate(ed); len(ps) > 0 {
		return "", nil, nil, refuse("invalid", "the edition is not ready to send: %s", ps.Error())
	}
	var pub model.Publication
	if d.cfg.Settings != nil {
		pub, err = d.cfg.Settings.Brand(ctx)
	} else {
		pub, err = settings.LoadPublication(ctx, st, d.cfg.Publication)
	}
	if err != nil {
		return "", nil, nil, err
	}
	r, err := render.New(pub, d.cfg.Render)
	if err != nil {
		return "", nil, nil, err
	}
	em, err := r.Email(ed)
	if err != nil {
		return "", nil, nil, err
	}
	f.WebURL = d.cfg.BaseURL + "/archive/" + ed.Slug
	return em.Subject(), em.AppendText(nil, f), em.AppendHTML(nil, f), nil
}

// directMessageID is "herald.tx.<32 hex>@domain": from the key when there
// is one, so a retried request keeps its Message-ID, else random.
func directMessageID(key, domain string) string {
	var b []byte
	if key != "" {
		sum := sha256.Sum256([]byte(key))
		b = sum[:16]
	} else {
		b = make([]byte, 16)
		rand.Read(b)
	}
	return "herald.tx." + hex.EncodeToString(b) + "@" + domain
}

// TransactionalMessage builds one transactional message: the headers and
// DKIM signature campaign mail has (see TestCopy), Feedback-ID
// "tx:<list>:herald" so complaints about it are told apart from any
// campaign's, and the Postmark metadata header.
func TransactionalMessage(id Identity, subject string, to message.Address, messageID, unsubscribeURL string, text, html []byte) ([]byte, error) {
	tmpl, err := transactionalTemplate(id, subject)
	if err != nil {
		return nil, err
	}
	return transactionalAppend(tmpl, to, messageID, unsubscribeURL, text, html)
}

// transactionalTemplate is what every TransactionalMessage from id with
// subject shares, for building many (safe for concurrent use).
func transactionalTemplate(id Identity, subject string) (*message.Template, error) {
	cfg, err := id.config("tx", subject)
	if err != nil {
		return nil, err
	}
	return message.New(cfg)
}

// transactionalAppend builds one TransactionalMessage from its template.
func transactionalAppend(tmpl *message.Template, to message.Address, messageID, unsubscribeURL string, text, html []byte) ([]byte, error) {
	return tmpl.Append(nil, &message.Message{
		To:             to,
		MessageID:      messageID,
		UnsubscribeURL: unsubscribeURL,
		Text:           text,
		HTML:           html,
		Headers:        []message.Field{{Key: PostmarkMetadata, Value: messageID}},
	})
}
