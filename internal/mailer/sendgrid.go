package mailer

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
)

// sendGridAPI sends through SendGrid's v3 mail/send. SendGrid takes
// structured messages, so each message is taken apart as for Postmark;
// SendGrid builds the MIME and signs it with the domain authentication set
// up in SendGrid. One request per message: mail/send batches through
// personalizations, which share one body and subject among recipients,
// and every Herald message has a body of its own (unsubscribe and
// tracking links carry the reader's token).
type sendGridAPI struct{ cfg *RelayConfig }

type sendGridAddress struct {
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
}

type sendGridMail struct {
	Personalizations []sendGridPersonalization `json:"personalizations"`
	From             sendGridAddress           `json:"from"`
	ReplyTo          *sendGridAddress          `json:"reply_to,omitempty"`
	Subject          string                    `json:"subject"`
	Content          []sendGridContent         `json:"content"`
	Headers          map[string]string         `json:"headers,omitempty"`
	CustomArgs       map[string]string         `json:"custom_args,omitempty"`
	TrackingSettings sendGridTracking          `json:"tracking_settings"`
}

type sendGridPersonalization struct {
	To []sendGridAddress `json:"to"`
}

type sendGridContent struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

type sendGridTracking struct {
	ClickTracking sendGridSwitch `json:"click_tracking"`
	OpenTracking  sendGridSwitch `json:"open_tracking"`
}

type sendGridSwitch struct {
	Enable bool `json:"enable"`
}

func (*sendGridAPI) batchMax() int { return 1 }

func (s *sendGridAPI) prepare(env Envelope, msg []byte) (any, *Error) {
	pt, err := splitMessage(msg)
	if err != nil {
		return nil, &Error{Class: Permanent, Stage: StageData, Relay: s.cfg.Name, Text: "cannot hand the message to SendGrid: " + err.Error(), Err: err}
	}
	to := recipient(pt, env)
	m := sendGridMail{
		Personalizations: []sendGridPersonalization{{To: []sendGridAddress{{Email: to.Address, Name: to.Name}}}},
		From:             sendGridAddress{Email: pt.From.Address, Name: pt.From.Name},
		Subject:          pt.Subject,
	}
	if pt.ReplyTo != nil {
		m.ReplyTo = &sendGridAddress{Email: pt.ReplyTo.Address, Name: pt.ReplyTo.Name}
	}
	// text/plain must come first, as in the MIME Herald builds.
	if pt.Text != "" {
		m.Content = append(m.Content, sendGridContent{Type: "text/plain", Value: pt.Text})
	}
	if pt.HTML != "" {
		m.Content = append(m.Content, sendGridContent{Type: "text/html", Value: pt.HTML})
	}
	if len(pt.Headers) > 0 {
		m.Headers = map[string]string{}
		for _, h := range pt.Headers {
			m.Headers[headerName(h.Name)] = h.Value
		}
	}
	if id := strings.Trim(pt.header("Message-ID"), "<>"); id != "" {
		// Handed back in every Event Webhook event as custom args.
		m.CustomArgs = map[string]string{"herald_message_id": id}
	}
	return m, nil
}

func (s *sendGridAPI) request(ctx context.Context, endpoint string, prepared []any) (*http.Request, error) {
	body, err := json.Marshal(prepared[0])
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/v3/mail/send", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+s.cfg.API.Key)
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

// read: 202 Accepted (with the message's X-Message-Id) takes the message;
// errors come as {"errors": [{"message", "field"}]}.
func (s *sendGridAPI) read(status int, _ http.Header, body []byte, _ int) []answer {
	if status == http.StatusAccepted || status == http.StatusOK {
		return []answer{{nil, healthy}}
	}
	var e struct {
		Errors []struct {
			Message string `json:"message"`
			Field   string `json:"field"`
		} `json:"errors"`
	}
	detail := string(body)
	if json.Unmarshal(body, &e) == nil && len(e.Errors) > 0 {
		var msgs []string
		for _, x := range e.Errors {
			m := x.Message
			if x.Field != "" {
				m += " (" + x.Field + ")"
			}
			msgs = append(msgs, m)
		}
		detail = strings.Join(msgs, "; ")
	}
	return []answer{apiAnswer(s.cfg.Name, "SendGrid", status, detail)}
}
