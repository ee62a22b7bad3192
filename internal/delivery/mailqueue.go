package delivery

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-news/herald/internal/address"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/bounce"
	"github.com/herald-news/herald/internal/i18n"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/message"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/settings"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/token"
	"github.com/herald-news/herald/internal/validator"
)

// DefaultConfirmTTL is how long a confirmation link works unless
// configured otherwise.
const DefaultConfirmTTL = 7 * 24 * time.Hour

// MailQueueConfig configures a MailQueue. Store, Signer and BaseURL are
// required.
type MailQueueConfig struct {
	Store *store.Store
	// Sender is the transport campaigns use. Nil: messages wait in the
	// queue for a node that has one.
	Sender mailer.Sender
	Signer *token.Signer
	// Settings give the DKIM key that signs the messages and the
	// publication whose name they carry (nil: the settings kept in Store).
	Settings *settings.Settings
	// Bounce makes each message's envelope sender a VERP address naming
	// its reader when its domain is set (config bounce_domain).
	Bounce bounce.VERP
	// BaseURL is the public site, for the confirm, unsubscribe and
	// preferences links.
	BaseURL string
	// BaseURLGuessed says BaseURL is Herald's guess from its listen
	// address (the configuration sets no base_url): then no message goes
	// out through relays (CheckLinks); they wait in the queue.
	BaseURLGuessed bool
	// From is the sender ("Name <address>"); default: the publication's
	// name at noreply@ the base URL's host.
	From string
	// ConfirmTTL is how long a confirmation link works (DefaultConfirmTTL).
	ConfirmTTL time.Duration
	// WelcomeText is the welcome message's body (a default is used when
	// empty).
	WelcomeText string
	// Workers send at once (DefaultMailWorkers); Poll is how often an
	// idle queue looks for messages other nodes queued (1s).
	Workers int
	Poll    time.Duration
	Log     *slog.Logger
}

// MailQueue sends the confirmation and welcome messages queued in the
// store, directly through the transport and ahead of campaign traffic
// (they never enter a campaign's ledger), built as every one-off message
// is (TransactionalMessage): DKIM-signed, with List-Id, List-Unsubscribe
// and Feedback-ID "tx:<list>:herald". The signup or confirmation that asks
// for a message queues it in its own transaction, so a crash loses
// nothing: a message not yet sent waits in the queue for the next start,
// one whose sender died is claimed again when its lease ends. Every node
// of a cluster sends from the same queue.
type MailQueue struct {
	cfg MailQueueConfig
	// from is the parsed configured From (nil: from the publication).
	from *mail.Address

	startOnce  sync.Once
	wakeC      chan struct{}
	claimCtx   context.Context
	stopClaims context.CancelFunc // no new batch
	sendCtx    context.Context
	abort      context.CancelFunc // and drop the SMTP sessions in progress
	done       chan struct{}

	sent, retried, failed atomic.Int64

	// batchTime is mailBatchTime (shorter in tests).
	batchTime time.Duration
}

// A queue woken by a signup waits mailGather for others to join its
// batch of up to mailBatchPerWorker messages per worker: large, because
// each claim waits its turn for the database's writer behind the signups
// that fill the queue. A message gets mailSendTimeout. A claim's lease is
// mailLease; what a batch has not sent mailBatchTime after it was handed
// to the senders (the next batch is claimed while one is sent, so it may
// wait for that first; its lease is renewed then if need be) is given
// back, so no message is still in hand when its lease ends and another
// node claims it. A message given back before it was tried keeps its
// attempts.
const (
	mailGather         = 50 * time.Millisecond
	mailBatchPerWorker = 16
	mailSendTimeout    = time.Minute
	mailLease          = 10 * time.Minute
	mailBatchTime      = mailLease - 2*time.Minute
)

// Transactional mail is retried with backoff from mailRetryBase, doubling
// up to mailRetryMax, and given up after mailMaxAttempts tries.
const (
	mailRetryBase   = time.Minute
	mailRetryMax    = 2 * time.Hour
	mailMaxAttempts = 10
)

// DefaultMailWorkers is how many messages a queue sends at once unless
// configured otherwise: enough that confirmations keep pace with a rush of
// signups over a relay's pooled connections.
const DefaultMailWorkers = 8

// NewMailQueue returns a queue; Start (or Run) starts its senders.
func NewMailQueue(cfg MailQueueConfig) (*MailQueue, error) {
	if cfg.Store == nil || cfg.Signer == nil {
		return nil, errors.New("delivery: a mail queue needs a store and a token signer")
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("delivery: base URL %q is not an absolute http(s) URL", cfg.BaseURL)
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	if cfg.Settings == nil {
		cfg.Settings = settings.New(cfg.Store, cfg.BaseURL)
	}
	if cfg.ConfirmTTL <= 0 {
		cfg.ConfirmTTL = DefaultConfirmTTL
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultMailWorkers
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	q := &MailQueue{cfg: cfg, wakeC: make(chan struct{}, 1), done: make(chan struct{}), batchTime: mailBatchTime}
	if cfg.From != "" {
		if q.from, err = mail.ParseAddress(cfg.From); err != nil {
			return nil, fmt.Errorf("delivery: From %q: %w", cfg.From, err)
		}
	}
	q.claimCtx, q.stopClaims = context.WithCancel(context.Background())
	q.sendCtx, q.abort = context.WithCancel(context.Background())
	return q, nil
}

// Start starts the senders (once); Close stops them.
func (q *MailQueue) Start() {
	q.startOnce.Do(func() {
		if q.cfg.Sender == nil {
			q.cfg.Log.Warn("no mailer configured: confirmation and welcome messages wait in the queue")
			close(q.done)
			return
		}
		if err := CheckLinks(q.cfg.Sender, q.cfg.BaseURL, q.cfg.BaseURLGuessed); err != nil {
			// Held, not failed: nothing is claimed, so no message loses
			// an attempt, and a start with base_url sends them all.
			q.cfg.Log.Error("confirmation and welcome messages wait in the queue", "err", err)
			close(q.done)
			return
		}
		go q.run(q.claimCtx, q.sendCtx)
	})
}

// Run sends until ctx ends, then lets the batch in hand finish for at
// most drain (messages not sent stay queued).
func (q *MailQueue) Run(ctx context.Context, drain time.Duration) error {
	q.Start()
	<-ctx.Done()
	dctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	return q.Close(dctx)
}

// Wake tells the queue a message was just queued, so it need not wait for
// its next poll.
func (q *MailQueue) Wake() {
	select {
	case q.wakeC <- struct{}{}:
	default:
	}
}

// MailStats count the messages this queue sent, put back for a retry
// after a temporary failure, and gave up on.
type MailStats struct {
	Sent, Retried, Failed int64
}

// Stats returns the current counters.
func (q *MailQueue) Stats() MailStats {
	return MailStats{Sent: q.sent.Load(), Retried: q.retried.Load(), Failed: q.failed.Load()}
}

// run claims and sends until claimCtx ends; sendCtx ends the sends. The
// next batch is claimed while one is sent, and a batch's results are
// written while the next one is sent, so the senders wait for neither
// (the single SQLite writer is busy with signups at the moments that
// matter). One write of results at a time; the last one is waited for.
func (q *MailQueue) run(ctx, sendCtx context.Context) {
	defer close(q.done)
	batches := make(chan claimed)
	go q.claim(ctx, batches)
	settled := make(chan struct{})
	close(settled)
	for c := range batches {
		// The batch's time counts from now, when it is handed to the
		// senders, not from its claim: a batch claimed while a slow one
		// was sent gets its whole time. When the claim's lease would end
		// less than a minute after that time, the lease is renewed first.
		start := time.Now()
		jobs := c.jobs
		if start.Add(q.batchTime).After(c.at.Add(mailLease - time.Minute)) {
			held, err := q.cfg.Store.RenewMail(sendCtx, jobs, mailLease)
			if err != nil {
				// Its lease brings it back; another node may take it.
				q.cfg.Log.Error("renew the claim of confirmation and welcome messages", "err", err)
				continue
			}
			jobs = held
		}
		bctx, cancel := context.WithDeadline(sendCtx, start.Add(q.batchTime))
		results := q.sendAll(bctx, jobs)
		cancel()
		<-settled
		next := make(chan struct{})
		go func() {
			defer close(next)
			q.settle(results)
		}()
		settled = next
	}
	<-settled
}

// claimed is a batch of jobs and when it was claimed.
type claimed struct {
	jobs []store.MailJob
	at   time.Time
}

// claim claims batches while there is work (see mailBatchPerWorker) and
// hands each to run; it closes out when ctx ends. A batch claimed but not
// yet handed over then is given back.
func (q *MailQueue) claim(ctx context.Context, out chan<- claimed) {
	defer close(out)
	tick := time.NewTicker(q.cfg.Poll)
	defer tick.Stop()
	for {
		for ctx.Err() == nil {
			at := time.Now()
			jobs, err := q.cfg.Store.ClaimMail(ctx, q.cfg.Workers*mailBatchPerWorker, mailLease)
			if err != nil {
				if ctx.Err() == nil {
					q.cfg.Log.Error("claim confirmation and welcome messages", "err", err)
				}
				break
			}
			if len(jobs) == 0 {
				break
			}
			select {
			case out <- claimed{jobs, at}:
			case <-ctx.Done():
				results := make([]store.MailResult, len(jobs))
				for i, j := range jobs {
					results[i] = store.MailResult{Job: j, RetryAt: time.Now(), Reason: "interrupted by shutdown", Unsent: true}
				}
				q.settle(results)
				return
			}
		}
		if !q.idle(ctx, tick.C) {
			return
		}
	}
}

// idle waits until there may be mail to claim: a local signup's wake-up
// (then a moment for others to join its batch), or a poll that finds mail
// another node queued or a retry come due. Polls read, so an idle sender
// never takes the writer. It reports false when ctx ended.
func (q *MailQueue) idle(ctx context.Context, tick <-chan time.Time) bool {
	for {
		select {
		case <-ctx.Done():
			return false
		case <-q.wakeC:
			select {
			case <-ctx.Done():
				return false
			case <-time.After(mailGather):
				return true
			}
		case <-tick:
			if due, err := q.cfg.Store.MailDue(ctx); err == nil && due {
				return true
			}
		}
	}
}

// mailBatch is what every message of a claimed batch shares, read once
// for the batch rather than once a message: the DKIM key that signs them
// (or why it could not be read), the publication, and each list's notices
// as rendered.
type mailBatch struct {
	dkim    *message.DKIM
	dkimErr error
	pub     model.Publication

	mu        sync.Mutex
	notices   map[noticeKey]noticeText // rendered once a list (see notice)
	templates map[noticeKey]batchTemplate
}

// batchTemplate is a message template built for a batch, or why not.
type batchTemplate struct {
	t   *message.Template
	err error
}

// template returns the batch's message template for key, building it
// with build the first time: the headers and the signing key are the
// same for every message of a kind about a list.
func (b *mailBatch) template(key noticeKey, build func() (*message.Template, error)) (*message.Template, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.templates[key]
	if !ok {
		t.t, t.err = build()
		if b.templates == nil {
			b.templates = map[noticeKey]batchTemplate{}
		}
		b.templates[key] = t
	}
	return t.t, t.err
}

// readBatch reads what a batch's messages share. A publication that cannot
// be read is the default one (a confirmation is worth more than the name in
// it); a key that cannot be read makes every message of the batch wait
// for a retry (errSettingsUnread).
func (q *MailQueue) readBatch(ctx context.Context) *mailBatch {
	b := &mailBatch{}
	b.dkim, b.dkimErr = q.cfg.Settings.SigningKey(ctx)
	pub, err := q.cfg.Settings.Brand(ctx)
	if err != nil {
		q.cfg.Log.Warn("read the publication settings", "err", err)
		pub = model.DefaultPublication(q.cfg.BaseURL)
	}
	b.pub = pub
	return b
}

// signingKey is the batch's DKIM key, or the error that makes its messages
// wait.
func (b *mailBatch) signingKey() (*message.DKIM, error) {
	if b.dkimErr != nil {
		return nil, fmt.Errorf("DKIM key: %w: %w", errSettingsUnread, b.dkimErr)
	}
	return b.dkim, nil
}

// brand is the publication as the messages about list l show it: its
// brand and language over the publication's.
func (b *mailBatch) brand(l *model.List) (model.Publication, *i18n.Localizer) {
	pub := l.Publication(b.pub)
	return pub, i18n.For(pub.Language)
}

// sendAll sends a batch on q.cfg.Workers connections and says what became
// of each message.
func (q *MailQueue) sendAll(ctx context.Context, jobs []store.MailJob) []store.MailResult {
	results := make([]store.MailResult, len(jobs))
	// What the messages need, read once for the batch: the key and the
	// publication, each recipient as things stand now, and each list (a
	// batch is mostly about one or two).
	b := q.readBatch(ctx)
	st := q.cfg.Store
	rcpts, rerr := st.MailRecipients(ctx, jobs)
	lists, listErrs := map[int64]*model.List{}, map[int64]error{}
	for _, j := range jobs {
		if _, seen := lists[j.ListID]; !seen && j.Kind != model.MailPasswordReset {
			l, err := st.ListByID(ctx, j.ListID)
			lists[j.ListID], listErrs[j.ListID] = l, err
		}
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(q.cfg.Workers, len(jobs)) {
		wg.Go(func() {
			for i := range next {
				j := jobs[i]
				if j.Kind == model.MailPasswordReset {
					results[i] = q.sendReset(ctx, b, j)
					continue
				}
				rcpt, found := rcpts[j.ID]
				err := errors.Join(rerr, listErrs[j.ListID])
				if err == nil && !found {
					err = errNothingToSend // the subscriber was erased
				}
				results[i] = q.send(ctx, b, j, lists[j.ListID], rcpt, err)
			}
		})
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

// send sends one message about list l to rcpt, or says why not (readErr:
// reading them failed).
func (q *MailQueue) send(ctx context.Context, b *mailBatch, job store.MailJob, l *model.List, rcpt store.MailRecipient, readErr error) store.MailResult {
	res := store.MailResult{Job: job}
	var env mailer.Envelope
	var msg []byte
	err := readErr
	if err == nil {
		env, msg, err = q.build(b, job, l, rcpt)
	}
	switch {
	case errors.Is(err, store.ErrNotFound) || errors.Is(err, errNothingToSend):
		return res // erased, removed or changed since: nothing to send
	case readErr != nil && ctx.Err() == nil:
		// The database did not answer: keep the message and try again
		// later, like a relay's 4xx.
		q.retried.Add(1)
		q.cfg.Log.Warn("confirmation or welcome message deferred: reading its recipient failed", "kind", job.Kind, "err", readErr)
		res.RetryAt, res.Reason = time.Now().Add(mailBackoff(job.Attempts)), "reading the recipient failed: "+readErr.Error()
		return res
	}
	return q.deliver(ctx, res, env, msg, err)
}

// sendReset sends an admin user's password reset link, or drops the job
// when the request was used or expired meanwhile. The words and the link
// are package auth's; the message is staff mail (no list headers), signed
// like every one-off message.
func (q *MailQueue) sendReset(ctx context.Context, b *mailBatch, job store.MailJob) store.MailResult {
	res := store.MailResult{Job: job}
	pub, _ := b.brand(&model.List{}) // staff mail: the publication's, no list's brand
	n, err := auth.ResetMessage(ctx, q.cfg.Store, q.cfg.Signer, q.cfg.BaseURL, pub.Name, job.ResetID)
	if errors.Is(err, auth.ErrResetGone) {
		return res
	}
	var env mailer.Envelope
	var msg []byte
	if err == nil {
		env, msg, err = q.staffMail(b, pub, n.To, n.Name, n.Subject, n.Text, n.HTML)
	}
	return q.deliver(ctx, res, env, msg, err)
}

// staffMail builds one message to someone of the newsroom: no list
// headers, DKIM-signed with the publication's key.
func (q *MailQueue) staffMail(b *mailBatch, pub model.Publication, email, name, subject, text, html string) (mailer.Envelope, []byte, error) {
	dkim, err := b.signingKey()
	if err != nil {
		return mailer.Envelope{}, nil, err
	}
	from := q.sender(pub, &model.List{})
	tmpl, err := message.New(message.Config{From: message.Address{Name: from.Name, Email: from.Address}, Subject: subject,
		FeedbackID: "staff:herald", DKIM: dkim, Staff: true})
	if err != nil {
		return mailer.Envelope{}, nil, fmt.Errorf("staff message headers: %w", err)
	}
	msg, err := tmpl.Append(nil, &message.Message{To: message.Address{Name: name, Email: email},
		MessageID: directMessageID("", address.Domain(from.Address)), Text: []byte(text), HTML: []byte(html)})
	if err != nil {
		return mailer.Envelope{}, nil, fmt.Errorf("build staff message: %w", err)
	}
	return mailer.Envelope{From: from.Address, To: email}, msg, nil
}

// deliver sends a built message (err: building it failed) and says what
// became of it.
func (q *MailQueue) deliver(ctx context.Context, res store.MailResult, env mailer.Envelope, msg []byte, err error) store.MailResult {
	job := res.Job
	if err == nil && ctx.Err() != nil {
		// Never handed to the relay: given back without losing a try.
		res.RetryAt, res.Reason, res.Unsent = time.Now(), "interrupted: shutdown, or its batch ran out of time", true
		return res
	}
	if err == nil {
		sctx, cancel := context.WithTimeout(ctx, mailSendTimeout)
		err = q.cfg.Sender.Send(sctx, env, msg)
		cancel()
	}
	switch {
	case err == nil:
		q.sent.Add(1)
	case ctx.Err() != nil:
		// Shutting down, or the batch ran out of time (mailBatchTime):
		// give the message back, to be claimed again at once.
		res.RetryAt, res.Reason = time.Now(), "interrupted: shutdown, or its batch ran out of time"
	case (mailer.IsTemporary(err) || errors.Is(err, errSettingsUnread)) && job.Attempts < mailMaxAttempts:
		q.retried.Add(1)
		res.RetryAt, res.Reason = time.Now().Add(mailBackoff(job.Attempts)), err.Error()
		q.cfg.Log.Warn("confirmation or welcome message deferred", "kind", job.Kind, "attempt", job.Attempts, "err", err)
	default:
		q.failed.Add(1)
		q.cfg.Log.Error("confirmation or welcome message not sent", "kind", job.Kind, "attempts", job.Attempts, "err", err)
	}
	return res
}

// errSettingsUnread marks a message that could not be built because its
// settings (the DKIM key) could not be read: the database's trouble, not
// the message's, so it is tried again like a relay's 4xx.
var errSettingsUnread = errors.New("the settings could not be read")

// mailBackoff is the wait before try attempts+1.
func mailBackoff(attempts int) time.Duration {
	d := mailRetryBase << min(attempts-1, 16)
	return min(d, mailRetryMax)
}

// settle writes a batch's results; it outlives a shutdown for a moment so
// the batch in hand is recorded.
func (q *MailQueue) settle(results []store.MailResult) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.cfg.Store.SettleMail(ctx, results); err != nil {
		// The claims' leases bring the messages back.
		q.cfg.Log.Error("record confirmation and welcome messages", "err", err)
	}
}

// Close stops claiming and waits for the batch in hand until ctx ends,
// then abandons its SMTP sessions; messages not sent stay queued. A queue
// never started closes at once.
func (q *MailQueue) Close(ctx context.Context) error {
	q.startOnce.Do(func() { close(q.done) })
	q.stopClaims()
	select {
	case <-q.done:
		return nil
	case <-ctx.Done():
		q.abort()
		<-q.done
		return fmt.Errorf("mail queue: messages in hand left queued: %w", ctx.Err())
	}
}

// errNothingToSend: a queued message is no longer wanted (the reader
// confirmed, left, was blocklisted or suppressed meanwhile).
var errNothingToSend = errors.New("message no longer wanted")

// Build builds a queued message about list l to rcpt as they stand now,
// or errNothingToSend when it is no longer wanted.
func (q *MailQueue) Build(ctx context.Context, job store.MailJob, l *model.List, rcpt store.MailRecipient) (mailer.Envelope, []byte, error) {
	return q.build(q.readBatch(ctx), job, l, rcpt)
}

// build is Build with what the batch shares already read.
func (q *MailQueue) build(b *mailBatch, job store.MailJob, l *model.List, rcpt store.MailRecipient) (mailer.Envelope, []byte, error) {
	want := model.SubConfirmed
	if job.Kind == model.MailConfirm {
		want = model.SubUnconfirmed
	}
	if !rcpt.Sendable || rcpt.Subscription != want {
		return mailer.Envelope{}, nil, errNothingToSend
	}
	switch job.Kind {
	case model.MailConfirm:
		return q.confirmation(b, l, job.SubscriberID, rcpt.Email, rcpt.Name)
	case model.MailWelcome:
		return q.welcome(b, l, job.SubscriberID, rcpt.Email, rcpt.Name)
	}
	return mailer.Envelope{}, nil, fmt.Errorf("unknown message kind %q", job.Kind)
}

// sender is the From of the messages about list l: its brand's, else the
// publication's (Admin → Settings), else the configured one, else the
// publication's name (as l shows it) at noreply@ the base URL's host.
func (q *MailQueue) sender(pub model.Publication, l *model.List) *mail.Address {
	if l.Brand != nil && l.Brand.From != "" {
		if a, err := mail.ParseAddress(l.Brand.From); err == nil {
			return a
		}
	}
	if pub.From != "" {
		if a, err := mail.ParseAddress(pub.From); err == nil {
			return a
		}
	}
	if q.from != nil {
		return q.from
	}
	u, _ := url.Parse(q.cfg.BaseURL)
	host := u.Hostname()
	if net.ParseIP(host) != nil || !strings.Contains(host, ".") {
		host = "localhost.localdomain"
	}
	return &mail.Address{Name: pub.Name, Address: "noreply@" + host}
}

// oneOff builds one message of kind to one reader about list l, through
// TransactionalMessage: the headers and DKIM signature of campaign mail.
// Its template (the shared headers, the key) is built once a batch for
// each list and kind.
func (q *MailQueue) oneOff(b *mailBatch, kind model.MailKind, pub model.Publication, l *model.List, subscriberID int64, email, name, subject, text, html string) (mailer.Envelope, []byte, error) {
	dkim, err := b.signingKey()
	if err != nil {
		return mailer.Envelope{}, nil, err
	}
	from := q.sender(pub, l)
	tmpl, err := b.template(noticeKey{kind, l.ID}, func() (*message.Template, error) {
		id := Identity{From: from.String(), List: l, DKIM: dkim, ReplyTo: pub.ReplyTo}
		if l.Brand != nil && l.Brand.ReplyTo != "" {
			id.ReplyTo = l.Brand.ReplyTo
		}
		return transactionalTemplate(id, subject)
	})
	if err != nil {
		return mailer.Envelope{}, nil, fmt.Errorf("build message: %w", err)
	}
	unsub := q.cfg.BaseURL + "/unsubscribe/" + q.cfg.Signer.Sign(token.Claims{Purpose: token.Unsubscribe, SubscriberID: subscriberID, ListID: l.ID})
	msg, err := transactionalAppend(tmpl, message.Address{Name: validator.ReaderName(name), Email: email},
		directMessageID("", address.Domain(from.Address)), unsub, []byte(text), []byte(html))
	if err != nil {
		return mailer.Envelope{}, nil, fmt.Errorf("build message: %w", err)
	}
	return mailer.Envelope{From: q.cfg.Bounce.Address(subscriberID, 0, from.Address), To: email}, msg, nil
}

// confirmation asks the reader to confirm a double opt-in subscription, in
// the list's language. The link's lifetime starts now, as the message
// goes out.
func (q *MailQueue) confirmation(b *mailBatch, l *model.List, subscriberID int64, email, name string) (mailer.Envelope, []byte, error) {
	tok := q.cfg.Signer.Sign(token.Claims{Purpose: token.Confirm, SubscriberID: subscriberID, ListID: l.ID, Expires: time.Now().Add(q.cfg.ConfirmTTL)})
	n := b.notice(model.MailConfirm, l, func() noticeText { return q.confirmationNotice(b, l, linkMark) })
	pub, _ := b.brand(l)
	text, html := n.with(tok)
	return q.oneOff(b, model.MailConfirm, pub, l, subscriberID, email, name, n.subject, text, html)
}

// confirmationNotice renders a confirmation about list l whose link
// carries tok.
func (q *MailQueue) confirmationNotice(b *mailBatch, l *model.List, tok string) noticeText {
	confirm := q.cfg.BaseURL + "/confirm/" + tok
	pub, lang := b.brand(l)
	paras := []string{
		lang.Plain("mail.confirm_asked", "List", l.Name),
		lang.T("mail.confirm_open", "Duration", Days(lang, q.cfg.ConfirmTTL)),
	}
	v := newNoticeView(lang, pub)
	v.Paragraphs, v.Button, v.URL = []string{paras[0], lang.T("mail.ignore")}, lang.T("confirm.button"), confirm
	return noticeText{
		subject: lang.Plain("mail.confirm_subject", "List", l.Name),
		text: strings.Join(paras, "\n\n") + "\n\n" + lang.Plain("mail.confirm_link", "URL", confirm) +
			"\n\n" + lang.T("mail.ignore") + "\n",
		html: renderNoticeHTML(v),
	}
}

// welcome greets a reader whose subscription is now confirmed, in the
// list's language.
func (q *MailQueue) welcome(b *mailBatch, l *model.List, subscriberID int64, email, name string) (mailer.Envelope, []byte, error) {
	tok := q.cfg.Signer.Sign(token.Claims{Purpose: token.Preferences, SubscriberID: subscriberID})
	n := b.notice(model.MailWelcome, l, func() noticeText { return q.welcomeNotice(b, l, linkMark) })
	pub, _ := b.brand(l)
	text, html := n.with(tok)
	return q.oneOff(b, model.MailWelcome, pub, l, subscriberID, email, name, n.subject, text, html)
}

// welcomeNotice renders a welcome to list l whose preferences link
// carries tok.
func (q *MailQueue) welcomeNotice(b *mailBatch, l *model.List, tok string) noticeText {
	prefs := q.cfg.BaseURL + "/preferences/" + tok
	pub, lang := b.brand(l)
	body := q.cfg.WelcomeText
	if body == "" {
		body = lang.Plain("mail.welcome_body", "List", l.Name)
	}
	v := newNoticeView(lang, pub)
	v.Paragraphs, v.Button, v.URL = []string{body}, lang.T("email.preferences"), prefs
	return noticeText{
		subject: lang.Plain("mail.welcome_subject", "List", l.Name),
		text:    body + "\n\n" + lang.Plain("mail.welcome_choose", "URL", prefs) + "\n",
		html:    renderNoticeHTML(v),
	}
}

// linkMark stands for the reader's token in a notice rendered once for a
// list and a batch. It is made of base64url characters, as tokens are,
// which neither the HTML escaper, the URL normaliser nor a right-to-left
// isolate changes, so putting the token in its place gives the bytes
// rendering the notice with the token would (TestNoticeRenderedOnceIsTheSame).
const linkMark = "HeraldReaderLinkToken0mark0"

// noticeText is a confirmation or welcome as rendered for a list, with
// linkMark where each reader's token goes.
type noticeText struct{ subject, text, html string }

// with returns the text and HTML parts with tok in place of the mark.
func (n noticeText) with(tok string) (text, html string) {
	return strings.ReplaceAll(n.text, linkMark, tok), strings.ReplaceAll(n.html, linkMark, tok)
}

// notice returns the batch's notice of kind about list l, rendering it
// with render the first time: the words, the brand and the HTML are the
// same for every reader of a list, and rendering them took as long as
// signing and sending the message.
func (b *mailBatch) notice(kind model.MailKind, l *model.List, render func() noticeText) noticeText {
	key := noticeKey{kind, l.ID}
	b.mu.Lock()
	defer b.mu.Unlock()
	n, ok := b.notices[key]
	if !ok {
		n = render()
		if b.notices == nil {
			b.notices = map[noticeKey]noticeText{}
		}
		b.notices[key] = n
	}
	return n
}

type noticeKey struct {
	kind model.MailKind
	list int64
}

// Days says a duration in whole days for readers, in their language ("7
// days", "one day", "a few hours").
func Days(l *i18n.Localizer, d time.Duration) string {
	n := int(d.Hours() / 24)
	if n < 1 {
		return l.T("duration.hours")
	}
	return l.N("duration.days", n)
}

var noticeHTML = template.Must(template.New("notice").Parse(`<!DOCTYPE html>
<html lang="{{.L.Lang}}"{{if .L.RTL}} dir="rtl"{{end}}><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"></head>
<body style="margin:0;padding:24px;background:#f6f4ef;font:16px/1.6 Arial,sans-serif;color:#1d2125">
<div{{if .L.RTL}} dir="rtl"{{end}} style="max-width:520px;margin:0 auto;background:{{.Background}};border:1px solid #e2ddd3;border-radius:8px;padding:28px;text-align:{{.L.Start}}">
{{if .Logo}}<p style="margin:0 0 8px"><img src="{{.Logo}}" alt="{{.Pub}}" width="200" style="display:block;border:0;height:auto"></p>{{else}}<p style="margin:0 0 4px;font-weight:bold;font-size:18px">{{.Pub}}</p>{{end}}
{{range .Paragraphs}}<p>{{.}}</p>{{end}}
{{if .Button}}<p><a href="{{.URL}}" style="display:inline-block;background:{{.Accent}};color:#fff;padding:12px 20px;border-radius:6px;text-decoration:none;font-weight:bold">{{.Button}}</a></p>
<p style="font-size:13px;color:#5f6670">{{.L.HTML "mail.open_address" "URL" .URL}}</p>{{end}}
</div></body></html>`))

type noticeView struct {
	L          *i18n.Localizer
	Pub        string
	Logo       string // the brand's logo, if any
	Accent     string // the button's colour
	Background string
	Paragraphs []string
	Button     string
	URL        string
}

// newNoticeView starts the HTML of a message about a list whose
// publication, as the list shows it, is pub.
func newNoticeView(l *i18n.Localizer, pub model.Publication) noticeView {
	v := noticeView{L: l, Pub: pub.Name, Logo: pub.LogoURL, Accent: "#1a4d7a", Background: "#fff"}
	if c := pub.Colors.Accent; validator.IsColor(c) {
		v.Accent = c
	}
	if c := pub.Colors.Background; validator.IsColor(c) {
		v.Background = c
	}
	return v
}

func renderNoticeHTML(v noticeView) string {
	var b strings.Builder
	if err := noticeHTML.Execute(&b, v); err != nil {
		return ""
	}
	return b.String()
}
