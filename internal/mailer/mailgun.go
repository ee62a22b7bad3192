package mailer

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
)

// mailgunAPI sends through Mailgun's messages.mime (POST
// /v3/DOMAIN/messages.mime, multipart/form-data with the recipient in "to"
// and the MIME in "message"), so the message, its headers and our DKIM
// signature go out as built. Mailgun's batch sending shares one message
// among recipients through recipient variables, which does not fit
// messages built per reader, so every message is its own request.
type mailgunAPI struct{ cfg *RelayConfig }

type mailgunMessage struct {
	to  string
	msg []byte
}

func (*mailgunAPI) batchMax() int { return 1 }

func (*mailgunAPI) prepare(env Envelope, msg []byte) (any, *Error) {
	return mailgunMessage{to: env.To, msg: msg}, nil
}

func (m *mailgunAPI) request(ctx context.Context, endpoint string, prepared []any) (*http.Request, error) {
	p := prepared[0].(mailgunMessage)
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if err := w.WriteField("to", p.to); err != nil {
		return nil, err
	}
	fw, err := w.CreateFormFile("message", "message.eml")
	if err != nil {
		return nil, err
	}
	if _, err := fw.Write(p.msg); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	u := endpoint + "/v3/" + url.PathEscape(m.cfg.API.Domain) + "/messages.mime"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, &body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.SetBasicAuth("api", m.cfg.API.Key)
	return req, nil
}

// read: 200 with {"id", "message"} takes the message; errors come as
// {"message"} (or plain text, as Mailgun's 401 "Forbidden").
func (m *mailgunAPI) read(status int, _ http.Header, body []byte, _ int) []answer {
	var r struct {
		ID      string `json:"id"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(body, &r) // an answer without JSON is judged by its status alone
	if status == http.StatusOK {
		if r.ID != "" {
			return []answer{{nil, healthy}}
		}
		return []answer{apiAnswer(m.cfg.Name, "Mailgun", status, "no message id in the answer")}
	}
	detail := r.Message
	if detail == "" {
		detail = string(body)
	}
	if status == http.StatusNotFound {
		// The sending domain is not in the account: the relay's
		// configuration, not the message.
		return []answer{relayRefused(m.cfg.Name, "Mailgun answered HTTP 404: "+oneLine(detail))}
	}
	return []answer{apiAnswer(m.cfg.Name, "Mailgun", status, detail)}
}
