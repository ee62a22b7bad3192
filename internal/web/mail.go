package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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

	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/message"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/token"
)

// mailSender sends the confirmation and welcome messages queued in the
// store, directly through the mailer and ahead of campaign traffic (they
// never enter a campaign's ledger). The signup or confirmation that asks
// for a message queues it in its own transaction, so a crash loses
// nothing: a message not yet sent waits in the queue for the next start,
// one whose sender died is claimed again when its lease ends. Every node
// of a cluster sends from the same queue.
type mailSender struct {
	srv     *Server
	sender  mailer.Sender
	store   *store.Store
	log     *slog.Logger
	workers int
	poll    time.Duration

	wakeC      chan struct{}
	stopClaims context.CancelFunc // no new batch
	abort      context.CancelFunc // and drop the SMTP sessions in progress
	done       chan struct{}

	sent, retried, failed atomic.Int64
}

// A sender woken by a signup waits mailGather for others to join its
// batch of up to mailBatchPerWorker messages per worker. A message gets
// mailSendTimeout; a claim's lease outlasts a worker's share of a batch
// sent at that worst pace, so no other node takes it over meanwhile.
const (
	mailGather         = 50 * time.Millisecond
	mailBatchPerWorker = 8
	mailSendTimeout    = time.Minute
	mailLease          = mailBatchPerWorker*mailSendTimeout + 2*time.Minute
)

// Transactional mail is retried with backoff from mailRetryBase, doubling
// up to mailRetryMax, and given up after mailMaxAttempts tries.
const (
	mailRetryBase   = time.Minute
	mailRetryMax    = 2 * time.Hour
	mailMaxAttempts = 10
)

func newMailSender(srv *Server, sender mailer.Sender, st *store.Store, log *slog.Logger, workers int, poll time.Duration) *mailSender {
	claimCtx, stopClaims := context.WithCancel(context.Background())
	sendCtx, abort := context.WithCancel(context.Background())
	q := &mailSender{srv: srv, sender: sender, store: st, log: log, workers: workers, poll: poll,
		wakeC: make(chan struct{}, 1), stopClaims: stopClaims, abort: abort, done: make(chan struct{})}
	if sender == nil {
		log.Warn("no mailer configured: confirmation and welcome messages wait in the queue")
		close(q.done)
		return q
	}
	go q.run(claimCtx, sendCtx)
	return q
}

// wake tells the sender a message was just queued, so it need not wait
// for its next poll.
func (q *mailSender) wake() {
	select {
	case q.wakeC <- struct{}{}:
	default:
	}
}

// run claims and sends until claimCtx ends; sendCtx ends the sends.
func (q *mailSender) run(ctx, sendCtx context.Context) {
	defer close(q.done)
	tick := time.NewTicker(q.poll)
	defer tick.Stop()
	for {
		// Claim while there is work, a batch of a few messages per sender
		// at a time (see mailLease).
		for ctx.Err() == nil {
			jobs, err := q.store.ClaimMail(ctx, q.workers*mailBatchPerWorker, mailLease)
			if err != nil {
				if ctx.Err() == nil {
					q.log.Error("claim confirmation and welcome messages", "err", err)
				}
				break
			}
			if len(jobs) == 0 {
				break
			}
			q.settle(q.sendAll(sendCtx, jobs))
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
func (q *mailSender) idle(ctx context.Context, tick <-chan time.Time) bool {
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
			if due, err := q.store.MailDue(ctx); err == nil && due {
				return true
			}
		}
	}
}

// sendAll sends a batch on q.workers connections and says what became of
// each message.
func (q *mailSender) sendAll(ctx context.Context, jobs []store.MailJob) []store.MailResult {
	results := make([]store.MailResult, len(jobs))
	// What the messages need, read once for the batch: each recipient as
	// things stand now, and each list (a batch is mostly about one or two).
	rcpts, rerr := q.store.MailRecipients(ctx, jobs)
	lists, listErrs := map[int64]*model.List{}, map[int64]error{}
	for _, j := range jobs {
		if _, seen := lists[j.ListID]; !seen {
			l, err := q.store.ListByID(ctx, j.ListID)
			lists[j.ListID], listErrs[j.ListID] = l, err
		}
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(q.workers, len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				j := jobs[i]
				if j.Kind == model.MailPasswordReset {
					results[i] = q.sendReset(ctx, j)
					continue
				}
				rcpt, found := rcpts[j.ID]
				err := errors.Join(rerr, listErrs[j.ListID])
				if err == nil && !found {
					err = errNothingToSend // the subscriber was erased
				}
				results[i] = q.send(ctx, j, lists[j.ListID], rcpt, err)
			}
		}()
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
func (q *mailSender) send(ctx context.Context, job store.MailJob, l *model.List, rcpt store.MailRecipient, readErr error) store.MailResult {
	res := store.MailResult{Job: job}
	var env mailer.Envelope
	var msg []byte
	err := readErr
	if err == nil {
		env, msg, err = q.srv.buildMail(ctx, job, l, rcpt)
	}
	switch {
	case errors.Is(err, store.ErrNotFound) || errors.Is(err, errNothingToSend):
		return res // erased, removed or changed since: nothing to send
	case readErr != nil && ctx.Err() == nil:
		// The database did not answer: keep the message and try again
		// later, like a relay's 4xx.
		q.retried.Add(1)
		q.log.Warn("confirmation or welcome message deferred: reading its recipient failed", "kind", job.Kind, "err", readErr)
		res.RetryAt, res.Reason = time.Now().Add(mailBackoff(job.Attempts)), "reading the recipient failed: "+readErr.Error()
		return res
	}
	return q.deliver(ctx, res, env, msg, err)
}

// sendReset sends an admin user's password reset link (auth.ResetMail
// builds it), or drops it when the request was used or expired meanwhile.
func (q *mailSender) sendReset(ctx context.Context, job store.MailJob) store.MailResult {
	pub, _, _ := q.srv.renderer.get(ctx)
	from, err := q.srv.sender(pub)
	if err != nil {
		return q.deliver(ctx, store.MailResult{Job: job}, mailer.Envelope{}, nil, err)
	}
	to, msg, err := auth.ResetMail(ctx, q.store, q.srv.signer, q.srv.base, (&mail.Address{Name: from.Name, Address: from.Email}).String(), pub.Name, job.ResetID)
	if errors.Is(err, auth.ErrResetGone) {
		return store.MailResult{Job: job}
	}
	return q.deliver(ctx, store.MailResult{Job: job}, mailer.Envelope{From: from.Email, To: to}, msg, err)
}

// deliver sends a built message (err: building it failed) and says what
// became of it.
func (q *mailSender) deliver(ctx context.Context, res store.MailResult, env mailer.Envelope, msg []byte, err error) store.MailResult {
	job := res.Job
	if err == nil {
		sctx, cancel := context.WithTimeout(ctx, mailSendTimeout)
		err = q.sender.Send(sctx, env, msg)
		cancel()
	}
	switch {
	case err == nil:
		q.sent.Add(1)
	case ctx.Err() != nil:
		// Shutting down: give the message back for the next start.
		res.RetryAt, res.Reason = time.Now(), "interrupted by shutdown"
	case mailer.IsTemporary(err) && job.Attempts < mailMaxAttempts:
		q.retried.Add(1)
		res.RetryAt, res.Reason = time.Now().Add(mailBackoff(job.Attempts)), err.Error()
		q.log.Warn("confirmation or welcome message deferred", "kind", job.Kind, "attempt", job.Attempts, "err", err)
	default:
		q.failed.Add(1)
		q.log.Error("confirmation or welcome message not sent", "kind", job.Kind, "attempts", job.Attempts, "err", err)
	}
	return res
}

// mailBackoff is the wait before try attempts+1.
func mailBackoff(attempts int) time.Duration {
	d := mailRetryBase << min(attempts-1, 16)
	return min(d, mailRetryMax)
}

// settle writes a batch's results; it outlives a shutdown for a moment so
// the batch in hand is recorded.
func (q *mailSender) settle(results []store.MailResult) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.store.SettleMail(ctx, results); err != nil {
		// The claims' leases bring the messages back.
		q.log.Error("record confirmation and welcome messages", "err", err)
	}
}

// close stops claiming and waits for the batch in hand until ctx ends,
// then abandons its SMTP sessions; messages not sent stay queued.
func (q *mailSender) close(ctx context.Context) error {
	q.stopClaims()
	select {
	case <-q.done:
		return nil
	case <-ctx.Done():
		q.abort()
		<-q.done
		return fmt.Errorf("mail sender: messages in hand left queued: %w", ctx.Err())
	}
}

// sender returns the From address of transactional messages.
func (s *Server) sender(pub model.Publication) (message.Address, error) {
	if s.opts.From != "" {
		a, err := mail.ParseAddress(s.opts.From)
		if err != nil {
			return message.Address{}, fmt.Errorf("web: From %q: %w", s.opts.From, err)
		}
		return message.Address{Name: a.Name, Email: a.Address}, nil
	}
	u, _ := url.Parse(s.base)
	host := u.Hostname()
	if net.ParseIP(host) != nil || !strings.Contains(host, ".") {
		host = "localhost.localdomain"
	}
	return message.Address{Name: pub.Name, Email: "noreply@" + host}, nil
}

// transactional builds one message to one reader about one list.
func (s *Server) transactional(ctx context.Context, l *model.List, subscriberID int64, email, name, subject, text, html string) (mailer.Envelope, []byte, error) {
	pub, _, _ := s.renderer.get(ctx)
	from, err := s.sender(pub)
	if err != nil {
		return mailer.Envelope{}, nil, err
	}
	domain := from.Email[strings.LastIndexByte(from.Email, '@')+1:]
	t, err := message.New(message.Config{
		From: from, Subject: subject,
		ListID: l.Slug + "." + domain, ListName: l.Name,
		FeedbackID: "transactional:herald",
	})
	if err != nil {
		return mailer.Envelope{}, nil, fmt.Errorf("confirmation headers: %w", err)
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	unsub := s.base + "/unsubscribe/" + s.signer.Sign(token.Claims{Purpose: token.Unsubscribe, SubscriberID: subscriberID, ListID: l.ID})
	msg, err := t.Append(nil, &message.Message{
		To:             message.Address{Name: name, Email: email},
		MessageID:      "herald.t." + hex.EncodeToString(rnd[:]) + "@" + domain,
		UnsubscribeURL: unsub,
		Text:           []byte(text),
		HTML:           []byte(html),
	})
	if err != nil {
		return mailer.Envelope{}, nil, fmt.Errorf("build message: %w", err)
	}
	return mailer.Envelope{From: from.Email, To: email}, msg, nil
}

var mailHTML = template.Must(template.New("mail").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"></head>
<body style="margin:0;padding:24px;background:#f6f4ef;font:16px/1.6 Arial,sans-serif;color:#1d2125">
<div style="max-width:520px;margin:0 auto;background:#fff;border:1px solid #e2ddd3;border-radius:8px;padding:28px">
<p style="margin:0 0 4px;font-weight:bold;font-size:18px">{{.Pub}}</p>
{{range .Paragraphs}}<p>{{.}}</p>{{end}}
{{if .Button}}<p><a href="{{.URL}}" style="display:inline-block;background:#1a4d7a;color:#fff;padding:12px 20px;border-radius:6px;text-decoration:none;font-weight:bold">{{.Button}}</a></p>
<p style="font-size:13px;color:#5f6670">Or open this address: {{.URL}}</p>{{end}}
</div></body></html>`))

type mailView struct {
	Pub        string
	Paragraphs []string
	Button     string
	URL        string
}

func renderMailHTML(v mailView) string {
	var b strings.Builder
	if err := mailHTML.Execute(&b, v); err != nil {
		return ""
	}
	return b.String()
}

// errNothingToSend: a queued message is no longer wanted (the reader
// confirmed, left, was blocklisted or suppressed meanwhile).
var errNothingToSend = errors.New("message no longer wanted")

// buildMail builds a queued message about list l to rcpt as they stand
// now: errNothingToSend when it is no longer wanted.
func (s *Server) buildMail(ctx context.Context, job store.MailJob, l *model.List, rcpt store.MailRecipient) (mailer.Envelope, []byte, error) {
	want := model.SubConfirmed
	if job.Kind == model.MailConfirm {
		want = model.SubUnconfirmed
	}
	if !rcpt.Sendable || rcpt.Subscription != want {
		return mailer.Envelope{}, nil, errNothingToSend
	}
	switch job.Kind {
	case model.MailConfirm:
		return s.confirmationMail(ctx, l, job.SubscriberID, rcpt.Email, rcpt.Name)
	case model.MailWelcome:
		return s.welcomeMail(ctx, l, job.SubscriberID, rcpt.Email, rcpt.Name)
	}
	return mailer.Envelope{}, nil, fmt.Errorf("unknown message kind %q", job.Kind)
}

// confirmationMail asks the reader to confirm a double opt-in subscription.
// The link's lifetime starts now, as the message goes out.
func (s *Server) confirmationMail(ctx context.Context, l *model.List, subscriberID int64, email, name string) (mailer.Envelope, []byte, error) {
	tok := s.signer.Sign(token.Claims{Purpose: token.Confirm, SubscriberID: subscriberID, ListID: l.ID, Expires: time.Now().Add(s.opts.ConfirmTTL)})
	confirm := s.base + "/confirm/" + tok
	pub, _, _ := s.renderer.get(ctx)
	subject := "Confirm your subscription to " + l.Name
	paras := []string{
		"Someone, hopefully you, asked to receive " + l.Name + " at this address.",
		"Please confirm by opening the link below. It works for " + days(s.opts.ConfirmTTL) + ".",
	}
	text := strings.Join(paras, "\n\n") + "\n\nConfirm: " + confirm +
		"\n\nDid not ask for this? Ignore this message and you will not hear from us again.\n"
	html := renderMailHTML(mailView{Pub: pub.Name, Paragraphs: append(paras[:1:1],
		"Did not ask for this? Ignore this message and you will not hear from us again."), Button: "Confirm subscription", URL: confirm})
	return s.transactional(ctx, l, subscriberID, email, name, subject, text, html)
}

// welcomeMail greets a reader whose subscription is now confirmed.
func (s *Server) welcomeMail(ctx context.Context, l *model.List, subscriberID int64, email, name string) (mailer.Envelope, []byte, error) {
	prefs := s.base + "/preferences/" + s.signer.Sign(token.Claims{Purpose: token.Preferences, SubscriberID: subscriberID})
	pub, _, _ := s.renderer.get(ctx)
	body := s.opts.WelcomeText
	if body == "" {
		body = "Thank you for subscribing to " + l.Name + ". Your first edition arrives with our next send."
	}
	text := body + "\n\nChoose what you receive: " + prefs + "\n"
	html := renderMailHTML(mailView{Pub: pub.Name, Paragraphs: []string{body}, Button: "Manage your preferences", URL: prefs})
	return s.transactional(ctx, l, subscriberID, email, name, "Welcome to "+l.Name, text, html)
}
