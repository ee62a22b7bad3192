package mailer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/mail"
	"strings"
)

// postmarkAPI sends through Postmark's batch endpoint (POST /email/batch,
// up to 500 messages a request, one result per message in order).
// Postmark's API takes structured messages, not MIME, so each message is
// taken apart into addresses, subject, text and HTML bodies and the header
// fields Herald sets (Message-ID, List-Unsubscribe, List-Unsubscribe-Post,
// List-Id, Feedback-ID); X-PM-Metadata-* fields become Metadata, which
// Postmark hands back in its webhooks. Postmark builds the MIME and signs
// it with the DKIM key of the sending domain as set up in Postmark (a
// signature of ours would not survive its re-encoding). Herald tracks
// opens and clicks itself, so Postmark's tracking is turned off.
type postmarkAPI struct{ cfg *RelayConfig }

// postmarkBatchMax is the most messages Postmark takes in one batch.
const postmarkBatchMax = 500

type postmarkMessage struct {
	From          string
	To            string
	ReplyTo       string `json:",omitempty"`
	Subject       string
	TextBody      string            `json:",omitempty"`
	HtmlBody      string            `json:",omitempty"`
	Headers       []postmarkHeader  `json:",omitempty"`
	Metadata      map[string]string `json:",omitempty"`
	MessageStream string            `json:",omitempty"`
	TrackOpens    bool
	TrackLinks    string
}

type postmarkHeader struct {
	Name  string
	Value string
}

// postmarkResult is Postmark's answer about one message (or, with a
// status other than 200, about the whole request).
type postmarkResult struct {
	ErrorCode int
	Message   string
	MessageID string
	To        string
}

func (*postmarkAPI) batchMax() int { return postmarkBatchMax }

func (p *postmarkAPI) prepare(env Envelope, msg []byte) (any, *Error) {
	pt, err := splitMessage(msg)
	if err != nil {
		return nil, &Error{Class: Permanent, Stage: StageData, Relay: p.cfg.Name, Text: "cannot hand the message to Postmark: " + err.Error(), Err: err}
	}
	m := postmarkMessage{
		From:          pt.From.String(),
		To:            recipient(pt, env).String(),
		Subject:       pt.Subject,
		TextBody:      pt.Text,
		HtmlBody:      pt.HTML,
		MessageStream: p.cfg.API.Stream,
		TrackLinks:    "None",
	}
	if pt.ReplyTo != nil {
		m.ReplyTo = pt.ReplyTo.String()
	}
	for _, h := range pt.Headers {
		m.Headers = append(m.Headers, postmarkHeader{Name: headerName(h.Name), Value: h.Value})
	}
	if len(pt.Metadata) > 0 {
		m.Metadata = pt.Metadata
	}
	return m, nil
}

// recipient is the message's To, unless the envelope sends it elsewhere:
// the envelope decides where a message goes.
func recipient(pt *parts, env Envelope) *mail.Address {
	if strings.EqualFold(pt.To.Address, env.To) {
		return pt.To
	}
	return &mail.Address{Address: env.To}
}

// headerName spells the fields Herald sets as the RFCs do (parsing
// canonicalises Message-ID to Message-Id).
func headerName(k string) string {
	switch k {
	case "Message-Id":
		return "Message-ID"
	case "Feedback-Id":
		return "Feedback-ID"
	}
	return k
}

func (p *postmarkAPI) request(ctx context.Context, endpoint string, prepared []any) (*http.Request, error) {
	body, err := json.Marshal(prepared)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/email/batch", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Postmark-Server-Token", p.cfg.API.Key)
	return req, nil
}

// read takes the batch's results in order. Postmark answers 200 with one
// result per message even when some are refused; another status refuses
// the whole request.
func (p *postmarkAPI) read(status int, _ http.Header, body []byte, n int) []answer {
	name := p.cfg.Name
	if status == http.StatusOK {
		var results []postmarkResult
		if err := json.Unmarshal(body, &results); err != nil || len(results) != n {
			return []answer{apiAnswer(name, "Postmark", status, fmt.Sprintf("an answer that is not %d results", n))}
		}
		out := make([]answer, n)
		for i, r := range results {
			out[i] = p.classify(r)
		}
		return out
	}
	var r postmarkResult
	if err := json.Unmarshal(body, &r); err == nil && r.ErrorCode != 0 && status == http.StatusUnprocessableEntity {
		return []answer{p.classify(r)}
	}
	detail := r.Message
	if detail == "" {
		detail = string(body)
	}
	return []answer{apiAnswer(name, "Postmark", status, detail)}
}

// classify reads one of Postmark's API error codes.
func (p *postmarkAPI) classify(r postmarkResult) answer {
	name := p.cfg.Name
	if r.ErrorCode == 0 {
		return answer{nil, healthy}
	}
	text := fmt.Sprintf("Postmark error %d: %s", r.ErrorCode, oneLine(r.Message))
	switch r.ErrorCode {
	case 406:
		// Inactive recipient: Postmark stopped mailing the address after
		// a hard bounce or a spam complaint.
		return answer{&Error{Class: HardBounce, Stage: StageRcpt, Relay: name, Text: text}, healthy}
	case 400, 401:
		// No confirmed sender signature for the From address: a refusal
		// of our sender, never held against the reader.
		return answer{&Error{Class: Permanent, Stage: StageMail, Relay: name, Text: text}, healthy}
	case 10, 405, 412, 413:
		// Bad server token; the account may not send (out of credits,
		// pending, restricted).
		return relayRefused(name, text)
	case 100:
		// Maintenance.
		return answer{&Error{Class: Temporary, Stage: StageConnect, Relay: name, Text: text, failover: true}, faulty}
	case 429:
		return answer{&Error{Class: Temporary, Stage: StageLimit, Relay: name, Text: text, failover: true}, faulty}
	}
	return answer{&Error{Class: Permanent, Stage: StageData, Relay: name, Text: text}, healthy}
}
