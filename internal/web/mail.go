package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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

	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/message"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/token"
)

// mailJob builds one message when a sender is free, so the request that
// queued it does not wait for templates or SMTP.
type mailJob func(ctx context.Context) (mailer.Envelope, []byte, error)

// mailQueue sends confirmation and welcome messages directly through the
// mailer, ahead of campaign traffic (they never enter a campaign's ledger).
// It is bounded: when full, a message is dropped and counted, and the
// reader can ask again.
type mailQueue struct {
	sender mailer.Sender
	log    *slog.Logger
	jobs   chan mailJob
	wg     sync.WaitGroup
	stop   context.CancelFunc

	mu     sync.RWMutex
	closed bool

	queued, sent, failed, dropped atomic.Int64
}

func newMailQueue(sender mailer.Sender, log *slog.Logger, size, workers int) *mailQueue {
	ctx, cancel := context.WithCancel(context.Background())
	q := &mailQueue{sender: sender, log: log, jobs: make(chan mailJob, size), stop: cancel}
	for range workers {
		q.wg.Add(1)
		go func() {
			defer q.wg.Done()
			for job := range q.jobs {
				q.send(ctx, job)
			}
		}()
	}
	return q
}

func (q *mailQueue) send(ctx context.Context, job mailJob) {
	env, msg, err := job(ctx)
	if err == nil {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		err = q.sender.Send(sctx, env, msg)
		cancel()
	}
	if err != nil {
		q.failed.Add(1)
		q.log.Error("send confirmation or welcome message", "err", err)
		return
	}
	q.sent.Add(1)
}

// enqueue hands a message to the senders without waiting.
func (q *mailQueue) enqueue(job mailJob) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		q.dropped.Add(1)
		return
	}
	if q.sender == nil {
		q.dropped.Add(1)
		q.log.Error("no mailer configured: confirmation and welcome messages cannot be sent")
		return
	}
	select {
	case q.jobs <- job:
		q.queued.Add(1)
	default:
		q.dropped.Add(1)
		q.log.Warn("mail queue full: a confirmation or welcome message was dropped")
	}
}

// close stops taking messages and sends those queued, until ctx ends.
func (q *mailQueue) close(ctx context.Context) error {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.jobs)
	}
	q.mu.Unlock()
	done := make(chan struct{})
	go func() { q.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		q.stop() // abandon SMTP sessions in progress
		<-done
		return fmt.Errorf("mail queue: %d messages not sent: %w", len(q.jobs), ctx.Err())
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

// confirmationMail asks the reader to confirm a double opt-in subscription.
func (s *Server) confirmationMail(_ context.Context, l *model.List, subscriberID int64, email, name string) mailJob {
	tok := s.signer.Sign(token.Claims{Purpose: token.Confirm, SubscriberID: subscriberID, ListID: l.ID, Expires: time.Now().Add(s.opts.ConfirmTTL)})
	confirm := s.base + "/confirm/" + tok
	return func(ctx context.Context) (mailer.Envelope, []byte, error) {
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
}

// welcomeMail greets a reader whose subscription is now confirmed.
func (s *Server) welcomeMail(_ context.Context, l *model.List, subscriberID int64, email, name string) mailJob {
	prefs := s.base + "/preferences/" + s.signer.Sign(token.Claims{Purpose: token.Preferences, SubscriberID: subscriberID})
	return func(ctx context.Context) (mailer.Envelope, []byte, error) {
		pub, _, _ := s.renderer.get(ctx)
		body := s.opts.WelcomeText
		if body == "" {
			body = "Thank you for subscribing to " + l.Name + ". Your first edition arrives with our next send."
		}
		text := body + "\n\nChoose what you receive: " + prefs + "\n"
		html := renderMailHTML(mailView{Pub: pub.Name, Paragraphs: []string{body}, Button: "Manage your preferences", URL: prefs})
		return s.transactional(ctx, l, subscriberID, email, name, "Welcome to "+l.Name, text, html)
	}
}
