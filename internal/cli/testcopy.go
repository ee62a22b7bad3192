package cli

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/address"
	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/store"
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
		r, err := renderer(ctx, cfg, s)
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
		// Signed and labelled as the campaign's mail will be: the first
		// --list names List-Id, the configured or generated DKIM key signs.
		var list *model.List
		if len(cf.lists) > 0 {
			if list, err = s.ListBySlug(ctx, cf.lists[0]); err != nil {
				return fmt.Errorf("--list %q: %w", cf.lists[0], err)
			}
		}
		set, err := appSettings(cfg, s)
		if err != nil {
			return err
		}
		dkim, err := set.SigningKey(ctx)
		if err != nil {
			return err
		}
		f := render.Fields{UnsubscribeURL: cfg.BaseURL + "/unsubscribe/test", PreferencesURL: cfg.BaseURL + "/preferences/test",
			WebURL: cfg.BaseURL + "/archive/" + ed.Slug, FeedbackURL: cfg.BaseURL + "/feedback/test"}
		msgID := fmt.Sprintf("herald.test.%d@%s", time.Now().UnixNano(), address.Domain(from.Address))
		msg, err := delivery.TestCopy(delivery.Identity{From: fromRaw, ReplyTo: cf.repl, List: list, DKIM: dkim}, em, f, rcpt, msgID)
		if err != nil {
			return err
		}
		tr, desc, err := transport(cfg, relay, nil)
		if err != nil {
			return err
		}
		defer tr.Close()
		// To a subscriber's address, the envelope sender names them
		// (VERP), as their campaign mail's does.
		var subID int64
		if sub, err := s.SubscriberByEmail(ctx, rcpt); err == nil {
			subID = sub.ID
		}
		verp, err := verpOf(ctx, cfg, s)
		if err != nil {
			return err
		}
		if err := tr.Send(ctx, mailer.Envelope{From: verp.Address(subID, 0, from.Address), To: rcpt}, msg); err != nil {
			return fmt.Errorf("test copy to %s: %w", rcpt, err)
		}
		fmt.Fprintf(e.stdout, "sent a test copy of %q to %s through %s\n", strings.TrimSpace(em.Subject()), rcpt, desc)
		return nil
	})
}
