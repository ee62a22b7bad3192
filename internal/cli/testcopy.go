package cli

import (
	"context"
	"fmt"
	"github.com/herald-news/herald/internal/store"
	"net/mail"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/address"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/message"
	"github.com/herald-news/herald/internal/render"
)

// sendTest sends one copy of an edition to one address, outside any
// campaign and ledger: what an editor does before the real send.
func (e *env) sendTest(ctx context.Context, edArg, relay, to string, cf campaignFlags) error {
	rcpt, err := address.Normalize(to)
	if err != nil {
		return usageErrorf("--test %q: %v", to, err)
	}
	cfg, err := e.config()
	if err != nil {
		return err
	}
	return e.withStore(ctx, func(s *store.Store) error {
		ed, err := e.editionArg(ctx, s, edArg)
		if err != nil {
			return err
		}
		pub, err := publication(ctx, cfg, s)
		if err != nil {
			return err
		}
		r, err := render.New(pub, render.Options{ArchiveURL: cfg.BaseURL + "/archive/"})
		if err != nil {
			return err
		}
		em, err := r.Email(ed)
		if err != nil {
			return err
		}
		fromRaw := cf.from
		if fromRaw == "" {
			fromRaw = cfg.From
		}
		from, err := mail.ParseAddress(fromRaw)
		if err != nil {
			return fmt.Errorf("from address %q: %w", fromRaw, err)
		}
		tmpl, err := message.New(message.Config{
			From:    message.Address{Name: from.Name, Email: from.Address},
			Subject: "[Test] " + em.Subject(),
			ListID:  "test." + address.Domain(from.Address),
		})
		if err != nil {
			return err
		}
		f := render.Fields{UnsubscribeURL: cfg.BaseURL + "/unsubscribe/test", PreferencesURL: cfg.BaseURL + "/preferences/test",
			WebURL: cfg.BaseURL + "/archive/" + ed.Slug}
		msg, err := tmpl.Append(nil, &message.Message{
			To:             message.Address{Email: rcpt},
			MessageID:      fmt.Sprintf("herald.test.%d@%s", time.Now().UnixNano(), address.Domain(from.Address)),
			UnsubscribeURL: f.UnsubscribeURL,
			Text:           em.AppendText(nil, f),
			HTML:           em.AppendHTML(nil, f),
		})
		if err != nil {
			return err
		}
		tr, desc, err := transport(cfg, relay, nil)
		if err != nil {
			return err
		}
		defer tr.Close()
		if err := tr.Send(ctx, mailer.Envelope{From: from.Address, To: rcpt}, msg); err != nil {
			return fmt.Errorf("test copy to %s: %w", rcpt, err)
		}
		fmt.Fprintf(e.stdout, "sent a test copy of %q to %s through %s\n", strings.TrimSpace(em.Subject()), rcpt, desc)
		return nil
	})
}
