package series

import (
	"bytes"
	"context"
	"fmt"
	"net/mail"
	"time"

	gomail "github.com/emersion/go-message/mail"

	"github.com/herald-news/herald/internal/mailer"
)

// Sender sends one message (a mailer.Sender).
type Sender interface {
	Send(ctx context.Context, env mailer.Envelope, msg []byte) error
}

// MailReminder returns a Remind function that mails the series' reminder
// address from from, linking to the draft in the admin at adminURL
// (the site's base URL).
func MailReminder(s Sender, from, baseURL string) func(context.Context, Reminder) error {
	return func(ctx context.Context, r Reminder) error {
		msg, env, err := reminderMessage(r, from, baseURL, time.Now())
		if err != nil {
			return err
		}
		return s.Send(ctx, env, msg)
	}
}

func reminderMessage(r Reminder, from, baseURL string, now time.Time) ([]byte, mailer.Envelope, error) {
	sender, err := mail.ParseAddress(from)
	if err != nil {
		return nil, mailer.Envelope{}, fmt.Errorf("reminder From %q: %w", from, err)
	}
	to, err := mail.ParseAddress(r.Series.RemindTo)
	if err != nil {
		return nil, mailer.Envelope{}, fmt.Errorf("reminder address %q: %w", r.Series.RemindTo, err)
	}
	var h gomail.Header
	h.SetDate(now)
	h.SetAddressList("From", []*gomail.Address{{Name: sender.Name, Address: sender.Address}})
	h.SetAddressList("To", []*gomail.Address{{Name: to.Name, Address: to.Address}})
	h.SetSubject(fmt.Sprintf("Not ready yet: %s at %s", r.Series.Name, r.Run.SlotAt.In(r.Zone).Format("15:04")))
	if err := h.GenerateMessageID(); err != nil {
		return nil, mailer.Envelope{}, err
	}
	h.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	var b bytes.Buffer
	w, err := gomail.CreateSingleInlineWriter(&b, h)
	if err != nil {
		return nil, mailer.Envelope{}, err
	}
	subject := ""
	if r.Edition != nil {
		subject = r.Edition.Subject
	}
	fmt.Fprintf(w, "Today's %s goes out at %s (%s), and its draft is not marked ready.\n\n", r.Series.Name,
		r.Run.SlotAt.In(r.Zone).Format("15:04"), r.Zone.String())
	fmt.Fprintf(w, "Draft: %s\n%s/admin/editions/%d\n\n", subject, baseURL, r.Run.EditionID)
	fmt.Fprintf(w, "It is sent at the slot once an editor marks it ready in the composer.\n")
	if err := w.Close(); err != nil {
		return nil, mailer.Envelope{}, err
	}
	return b.Bytes(), mailer.Envelope{From: sender.Address, To: to.Address}, nil
}
