package mailer

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// sesAPI sends through Amazon SES API v2: SendEmail (POST
// /v2/email/outbound-emails) with the message as raw content, so the MIME
// and our headers reach readers as built, but for two: SES replaces Date
// and Message-ID with its own, and Herald's DKIM signature covers both, so
// it would fail; it is left out, and SES signs with Easy DKIM, set up for
// the From domain. The request is signed with Signature Version 4 for the
// service "ses". SES has no batch form for raw messages (SendBulkEmail
// takes templates only), so every message is its own request.
type sesAPI struct{ cfg *RelayConfig }

type sesRequest struct {
	Content              sesContent     `json:"Content"`
	Destination          sesDestination `json:"Destination"`
	FromEmailAddress     string         `json:"FromEmailAddress,omitempty"`
	ConfigurationSetName string         `json:"ConfigurationSetName,omitempty"`
}

type sesContent struct {
	Raw sesRaw `json:"Raw"`
}

// sesRaw's Data is a blob: encoding/json writes []byte as base64, which is
// how the API takes it.
type sesRaw struct {
	Data []byte `json:"Data"`
}

type sesDestination struct {
	ToAddresses []string `json:"ToAddresses"`
}

func (*sesAPI) batchMax() int { return 1 }

func (s *sesAPI) prepare(env Envelope, msg []byte) (any, *Error) {
	return sesRequest{
		Content:              sesContent{Raw: sesRaw{Data: withoutField(msg, "DKIM-Signature")}},
		Destination:          sesDestination{ToAddresses: []string{env.To}},
		FromEmailAddress:     env.From,
		ConfigurationSetName: s.cfg.API.ConfigurationSet,
	}, nil
}

func (s *sesAPI) request(ctx context.Context, endpoint string, prepared []any) (*http.Request, error) {
	body, err := json.Marshal(prepared[0])
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/v2/email/outbound-emails", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	a := s.cfg.API
	sigV4{AccessKeyID: a.AccessKeyID, Secret: a.Key, SessionToken: a.SessionToken, Region: a.Region, Service: "ses"}.sign(req, body, time.Now())
	return req, nil
}

// read classifies SES's answer. Errors carry their type in the
// X-Amzn-ErrorType header (or __type/code in the body) and a message.
func (s *sesAPI) read(status int, header http.Header, body []byte, _ int) []answer {
	name := s.cfg.Name
	if status == http.StatusOK {
		var ok struct{ MessageId string }
		if json.Unmarshal(body, &ok) == nil && ok.MessageId != "" {
			return []answer{{nil, healthy}}
		}
		return []answer{apiAnswer(name, "SES", status, "no MessageId in the answer")}
	}
	var e struct {
		Type    string `json:"__type"`
		Code    string `json:"code"`
		Message string `json:"message"`
		Msg     string `json:"Message"`
	}
	_ = json.Unmarshal(body, &e) // an answer without JSON is judged by its status and header
	kind := header.Get("X-Amzn-ErrorType")
	for _, k := range []string{kind, e.Type, e.Code} {
		if k != "" {
			kind = k
			break
		}
	}
	// "TooManyRequestsException:http://internal.amazon.com/..." or
	// "com.amazonaws...#MessageRejected".
	kind, _, _ = strings.Cut(kind, ":")
	if i := strings.LastIndexByte(kind, '#'); i >= 0 {
		kind = kind[i+1:]
	}
	msg := e.Message
	if msg == "" {
		msg = e.Msg
	}
	if msg == "" {
		msg = string(body)
	}
	text := "SES " + kind + ": " + oneLine(msg)
	switch kind {
	case "MessageRejected", "BadRequestException":
		return []answer{{&Error{Class: Permanent, Stage: StageData, Relay: name, Text: text}, healthy}}
	case "TooManyRequestsException", "LimitExceededException":
		// A rate or quota limit of the account: try another relay, or
		// this one later.
		return []answer{{&Error{Class: Temporary, Stage: StageLimit, Relay: name, Text: text, failover: true}, faulty}}
	case "AccountSuspendedException", "SendingPausedException", "MailFromDomainNotVerifiedException", "NotFoundException":
		return []answer{relayRefused(name, text)}
	}
	return []answer{apiAnswer(name, "SES", status, kind+": "+msg)}
}

// withoutField returns msg without the header fields named name (their
// continuation lines included); the body and other fields are untouched.
func withoutField(msg []byte, name string) []byte {
	out := make([]byte, 0, len(msg))
	skipping := false
	for rest := msg; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line = rest[:i+1]
		}
		rest = rest[len(line):]
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			// The blank line that ends the header: the rest is the body.
			return append(append(out, line...), rest...)
		}
		if line[0] == ' ' || line[0] == '\t' {
			if !skipping {
				out = append(out, line...)
			}
			continue
		}
		key, _, _ := bytes.Cut(line, []byte(":"))
		skipping = strings.EqualFold(string(bytes.TrimSpace(key)), name)
		if !skipping {
			out = append(out, line...)
		}
	}
	return out
}
