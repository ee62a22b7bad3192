package delivery

import (
	"context"
	"fmt"
	"net/mail"
	"strings"

	"github.com/herald-news/herald/internal/address"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/message"
	"github.com/herald-news/herald/internal/series"
	"github.com/herald-news/herald/internal/settings"
)

// Reminders returns a series.Scheduler Remind function: it mails the
// series' reminder address, from from, a link to the draft in the admin at
// baseURL. The reminder is built as every one-off message is: signed with
// the DKIM key of set (nil: unsigned), with Feedback-ID
// "reminder:s<series>:herald"; it goes to the newsroom, not to readers,
// so it carries no list headers.
func Reminders(tr mailer.Sender, set *settings.Settings, from, baseURL string) func(context.Context, series.Reminder) error {
	baseURL = strings.TrimSuffix(baseURL, "/")
	return func(ctx context.Context, r series.Reminder) error {
		sender, err := mail.ParseAddress(from)
		if err != nil {
			return fmt.Errorf("reminder From %q: %w", from, err)
		}
		to, err := mail.ParseAddress(r.Series.RemindTo)
		if err != nil {
			return fmt.Errorf("reminder address %q: %w", r.Series.RemindTo, err)
		}
		var dkim *message.DKIM
		if set != nil {
			if dkim, err = set.SigningKey(ctx); err != nil {
				return fmt.Errorf("DKIM key: %w", err)
			}
		}
		slot := r.Run.SlotAt.In(r.Zone).Format("15:04")
		tmpl, err := message.New(message.Config{
			From:       message.Address{Name: sender.Name, Email: sender.Address},
			Subject:    fmt.Sprintf("Not ready yet: %s at %s", r.Series.Name, slot),
			FeedbackID: fmt.Sprintf("reminder:s%d:herald", r.Series.ID),
			DKIM:       dkim,
			Staff:      true,
		})
		if err != nil {
			return fmt.Errorf("reminder headers: %w", err)
		}
		subject := ""
		if r.Edition != nil {
			subject = r.Edition.Subject
		}
		var b strings.Builder
		fmt.Fprintf(&b, "Today's %s goes out at %s (%s), and its draft is not marked ready.\n\n", r.Series.Name, slot, r.Zone.String())
		fmt.Fprintf(&b, "Draft: %s\n%s/admin/editions/%d\n\n", subject, baseURL, r.Run.EditionID)
		fmt.Fprintf(&b, "It is sent at the slot once an editor marks it ready in the composer.\n")
		msg, err := tmpl.Append(nil, &message.Message{
			To:        message.Address{Name: to.Name, Email: to.Address},
			MessageID: directMessageID("", address.Domain(sender.Address)),
			Text:      []byte(b.String()),
		})
		if err != nil {
			return fmt.Errorf("reminder: %w", err)
		}
		return tr.Send(ctx, mailer.Envelope{From: sender.Address, To: to.Address}, msg)
	}
}

// SenderTestMessage builds the test copy that proves a sender identity
// (the publication's From and Reply-To, Admin → Settings): staff mail to
// the newsroom, with no list headers, signed with dkim (nil: unsigned) as
// campaign mail is, and Feedback-ID "sendertest:herald".
func SenderTestMessage(from, replyTo string, dkim *message.DKIM, to, subject, text string) ([]byte, error) {
	sender, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("From %q: %w", from, err)
	}
	cfg := message.Config{
		From:       message.Address{Name: sender.Name, Email: sender.Address},
		Subject:    subject,
		FeedbackID: "sendertest:herald",
		DKIM:       dkim,
		Staff:      true,
	}
	if replyTo != "" {
		rt, err := mail.ParseAddress(replyTo)
		if err != nil {
			return nil, fmt.Errorf("Reply-To %q: %w", replyTo, err)
		}
		cfg.ReplyTo = message.Address{Name: rt.Name, Email: rt.Address}
	}
	tmpl, err := message.New(cfg)
	if err != nil {
		return nil, err
	}
	return tmpl.Append(nil, &message.Message{
		To:        message.Address{Email: to},
		MessageID: directMessageID("", address.Domain(sender.Address)),
		Text:      []byte(text),
	})
}
