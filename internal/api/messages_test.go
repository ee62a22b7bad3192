package api_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-msgauth/dkim"

	"github.com/herald-news/herald/client"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/delivery/deliverytest"
	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
	"github.com/herald-news/herald/internal/token"
)

// received is a message as the SMTP sink got it, taken apart.
type received struct {
	raw        []byte
	header     mail.Header
	subject    string
	text, html string
}

func readMessage(t *testing.T, m smtpsink.Message) received {
	t.Helper()
	r, err := mail.CreateReader(bytes.NewReader(m.Raw))
	if err != nil {
		t.Fatal(err)
	}
	out := received{raw: m.Raw, header: r.Header}
	out.subject, _ = r.Header.Subject()
	for {
		p, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p.Body)
		ct, _, _ := p.Header.(*mail.InlineHeader).ContentType()
		if ct == "text/plain" {
			out.text = string(b)
		} else if ct == "text/html" {
			out.html = string(b)
		}
	}
	return out
}

func (e *env) verifyDKIM(t *testing.T, raw []byte) {
	t.Helper()
	verifs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{
		LookupTXT: func(string) ([]string, error) { return []string{e.dkimRecord}, nil }})
	if err != nil || len(verifs) != 1 || verifs[0].Err != nil {
		t.Errorf("DKIM does not verify: %v %v", verifs, err)
	}
}

func wantAPIError(t *testing.T, what string, err error, status int, code string) {
	t.Helper()
	var ae *client.Error
	if !errors.As(err, &ae) || ae.Status != status || ae.Code != code {
		t.Errorf("%s: %v, want %d %s", what, err, status, code)
	}
}

// messageFixture is a list, four readers (one who left the list, one
// suppressed) and a ready edition.
func messageFixture(t *testing.T, st *store.Store) (*model.List, *model.Subscriber) {
	t.Helper()
	ctx := context.Background()
	l := &model.List{Slug: "evening", Name: "Evening Briefing"}
	if err := st.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	var ada *model.Subscriber
	for _, r := range []struct {
		email, name string
		status      model.SubscriptionStatus
	}{{"ada@example.net", "Ada Byron", model.SubConfirmed}, {"left@example.net", "Lee", model.SubUnsubscribed},
		{"gone@example.net", "Gus", model.SubConfirmed}, {"bounce@example.net", "Bo", model.SubConfirmed}, {"later@example.net", "Liz", model.SubConfirmed}} {
		s := &model.Subscriber{Email: r.email, Name: r.name}
		if _, err := st.UpsertSubscriber(ctx, s); err != nil {
			t.Fatal(err)
		}
		if err := st.SetSubscription(ctx, s.ID, l.ID, r.status, model.SourceAPI); err != nil {
			t.Fatal(err)
		}
		if ada == nil {
			ada = s
		}
	}
	if err := st.Suppress(ctx, "gone@example.net", model.SuppressComplaint, "reported spam"); err != nil {
		t.Fatal(err)
	}
	ed, err := sample.Edition()
	if err != nil {
		t.Fatal(err)
	}
	ed.Slug = "tx-evening"
	if err := st.CreateEdition(ctx, ed, ""); err != nil {
		t.Fatal(err)
	}
	if err := st.SetEditionStatus(ctx, ed.ID, model.EditionPublished); err != nil {
		t.Fatal(err)
	}
	return l, ada
}

// TestTransactionalEditionSend: an edition, by slug, rendered for one
// subscriber and sent through the relay with campaign mail's headers, the
// transactional Feedback-ID, a DKIM signature and an unsubscribe link
// that leaves the named list.
func TestTransactionalEditionSend(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, true)
		ctx := context.Background()
		l, ada := messageFixture(t, st)
		app := e.client(auth.Sender)
		res, err := app.SendMessage(ctx, client.MessageInput{To: "ada@EXAMPLE.net", Edition: "tx-evening", List: "evening"}, "")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(res.MessageID, "herald.tx.") || !strings.HasSuffix(res.MessageID, "@example.com") ||
			res.To != "ada@example.net" || res.Transport != "smtp" || res.Subject == "" || res.Replayed {
			t.Errorf("result %+v", res)
		}
		msgs := e.sink.Messages()
		if len(msgs) != 1 || msgs[0].To[0] != "ada@example.net" || msgs[0].From != "news@example.com" || msgs[0].MessageID != res.MessageID {
			t.Fatalf("sink got %+v", msgs)
		}
		m := readMessage(t, msgs[0])
		if m.subject != res.Subject || m.header.Get("Feedback-Id") != "tx:evening:herald" || !strings.Contains(m.header.Get("List-Id"), "<evening.example.com>") ||
			m.header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || !strings.Contains(m.header.Get("To"), "Ada Byron") {
			t.Errorf("headers: %v", m.header.Header.Map())
		}
		e.verifyDKIM(t, m.raw)
		unsub := strings.Trim(m.header.Get("List-Unsubscribe"), "<>")
		tok, ok := strings.CutPrefix(unsub, "https://news.example.com/unsubscribe/")
		if !ok {
			t.Fatalf("List-Unsubscribe %q", unsub)
		}
		claims, err := deliverytest.Signer(t).Verify(tok, token.Unsubscribe, time.Now())
		if err != nil || claims.SubscriberID != ada.ID || claims.ListID != l.ID {
			t.Errorf("unsubscribe token %+v, %v", claims, err)
		}
		if !strings.Contains(m.text, unsub) || !strings.Contains(m.html, "https://news.example.com/archive/tx-evening") ||
			strings.Contains(m.html, "/click/") || strings.Contains(m.html, "/open/") {
			t.Errorf("the body lacks the reader's links, or is tracked")
		}
	})
}

// TestTransactionalTemplateSend: an inline template filled in with the
// caller's variables and Herald's own, escaped in the HTML only; then the
// same request with its Idempotency-Key answers again without a second
// message, however its JSON is spelled; the key with another body is
// refused; another token's same key is its own.
func TestTransactionalTemplateSend(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, true)
		ctx := context.Background()
		messageFixture(t, st)
		app := e.client(auth.Sender)
		in := client.MessageInput{To: "ada@example.net", Template: &client.MessageTemplate{
			Subject: "Your code: {{.code}}",
			Text:    "Hello {{.name}}, your code is {{.code}}.\nLeave: {{.unsubscribe_url}}\n",
			HTML:    `<p>Hello {{.name}}, your code is <code>{{.code}}</code>.</p><p><a href="{{.link}}">Open</a></p>`,
		}, Variables: map[string]string{"code": "<b>7&7</b>", "link": "javascript:alert(1)"}}
		res, err := app.SendMessage(ctx, in, "code-ada-1")
		if err != nil {
			t.Fatal(err)
		}
		if e.sink.Count() != 1 {
			t.Fatalf("sink got %d", e.sink.Count())
		}
		m := readMessage(t, e.sink.Messages()[0])
		if m.subject != "Your code: <b>7&7</b>" || res.Subject != m.subject {
			t.Errorf("subject %q / %q", m.subject, res.Subject)
		}
		if !strings.Contains(m.text, "Hello Ada Byron, your code is <b>7&7</b>.") || !strings.Contains(m.text, "Leave: https://news.example.com/unsubscribe/") {
			t.Errorf("text %q", m.text)
		}
		if !strings.Contains(m.html, "<code>&lt;b&gt;7&amp;7&lt;/b&gt;</code>") || strings.Contains(m.html, "<b>7") || strings.Contains(m.html, "javascript:") {
			t.Errorf("html not escaped: %q", m.html)
		}
		if m.header.Get("Feedback-Id") != "tx:newsletter:herald" || m.header.Get("List-Unsubscribe") == "" {
			t.Errorf("headers: %v", m.header.Header.Map())
		}
		e.verifyDKIM(t, m.raw)

		again, err := app.SendMessage(ctx, in, "code-ada-1")
		if err != nil || !again.Replayed || again.MessageID != res.MessageID || !again.SentAt.Equal(res.SentAt) {
			t.Fatalf("replay = %+v, %v; first %+v", again, err, res)
		}
		// The same request spelled otherwise (key order, spacing) is the
		// same request.
		body := `{"variables": {"link": "javascript:alert(1)", "code": "<b>7&7</b>"}, "template": {"html": "<p>Hello {{.name}}, your code is <code>{{.code}}</code>.</p><p><a href=\"{{.link}}\">Open</a></p>",
			"text": "Hello {{.name}}, your code is {{.code}}.\nLeave: {{.unsubscribe_url}}\n", "subject": "Your code: {{.code}}"}, "to": "ada@example.net"}`
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/messages", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.tokens[auth.Sender])
		req.Header.Set("Idempotency-Key", "code-ada-1")
		raw, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(raw.Body)
		raw.Body.Close()
		if raw.StatusCode != 201 || raw.Header.Get("Idempotent-Replayed") != "true" || !strings.Contains(string(got), res.MessageID) {
			t.Errorf("respelled replay: %d %q %s", raw.StatusCode, raw.Header.Get("Idempotent-Replayed"), got)
		}
		if e.sink.Count() != 1 {
			t.Fatalf("a replay sent again: sink got %d", e.sink.Count())
		}

		other := in
		other.Variables = map[string]string{"code": "8080", "link": "https://example.com/"}
		_, err = app.SendMessage(ctx, other, "code-ada-1")
		wantAPIError(t, "same key, another body", err, 422, "idempotency_key_reused")
		if e.sink.Count() != 1 {
			t.Fatalf("a refused replay sent: sink got %d", e.sink.Count())
		}
		// Keys are per token: the editor's "code-ada-1" is a new request.
		if _, err := e.client(auth.Editor).SendMessage(ctx, other, "code-ada-1"); err != nil || e.sink.Count() != 2 {
			t.Fatalf("another token's key: %v, sink %d", err, e.sink.Count())
		}
	})
}

// TestTransactionalRefusals: what the API will not send is refused with a
// clear error and sends nothing; a relay's hard bounce is kept for the key
// and suppresses the address; a temporary failure is not kept, so the
// retry under the same key sends.
func TestTransactionalRefusals(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, true)
		ctx := context.Background()
		messageFixture(t, st)
		app := e.client(auth.Sender)
		tmpl := &client.MessageTemplate{Subject: "Hello {{.who}}", Text: "Hi {{.who}}."}
		send := func(to string, mod func(*client.MessageInput)) error {
			in := client.MessageInput{To: to, Template: tmpl, Variables: map[string]string{"who": "you"}}
			if mod != nil {
				mod(&in)
			}
			_, err := app.SendMessage(ctx, in, "")
			return err
		}
		wantAPIError(t, "suppressed", send("gone@example.net", nil), 422, "cannot_send")
		wantAPIError(t, "not a subscriber", send("stranger@example.net", nil), 422, "cannot_send")
		wantAPIError(t, "bad address", send("not an address", nil), 422, "invalid_address")
		wantAPIError(t, "left the list", send("left@example.net", func(in *client.MessageInput) { in.List = "evening" }), 422, "cannot_send")
		wantAPIError(t, "header injection", send("ada@example.net", func(in *client.MessageInput) {
			in.Variables["who"] = "you\r\nBcc: everyone@example.org"
		}), 422, "invalid")
		wantAPIError(t, "logic in a template", send("ada@example.net", func(in *client.MessageInput) {
			in.Template = &client.MessageTemplate{Subject: "Hi", Text: "{{if .who}}secret{{end}}"}
		}), 422, "invalid")
		wantAPIError(t, "missing variable", send("ada@example.net", func(in *client.MessageInput) { in.Variables = nil }), 422, "invalid")
		wantAPIError(t, "edition and template", send("ada@example.net", func(in *client.MessageInput) { in.Edition = "tx-evening" }), 422, "invalid")
		wantAPIError(t, "no such edition", send("ada@example.net", func(in *client.MessageInput) { in.Template, in.EditionID = nil, 999 }), 422, "invalid")
		wantAPIError(t, "a viewer's token", func() error {
			_, err := e.client(auth.Viewer).SendMessage(ctx, client.MessageInput{To: "ada@example.net", Template: tmpl}, "")
			return err
		}(), 403, "forbidden")
		if _, err := app.Lists(ctx); apiCode(err) != "forbidden" {
			t.Errorf("a sender token read the lists: %v", err)
		}
		_, err := app.SendMessage(ctx, client.MessageInput{To: "ada@example.net", Template: tmpl, Variables: map[string]string{"who": "x"}}, "has space")
		wantAPIError(t, "bad key", err, 400, "bad_idempotency_key")
		big := client.MessageInput{To: "ada@example.net", Template: &client.MessageTemplate{Subject: "Big", Text: strings.Repeat("x", 1200<<10)}}
		_, err = app.SendMessage(ctx, big, "")
		wantAPIError(t, "oversized body", err, 413, "too_large")
		if n := e.sink.Count(); n != 0 {
			t.Fatalf("refused requests sent %d messages", n)
		}
		// One template error message, read whole.
		err = send("ada@example.net", func(in *client.MessageInput) {
			in.Template = &client.MessageTemplate{Subject: "Hi", Text: "line one\n{{range .who}}x{{end}}"}
		})
		if err == nil || !strings.Contains(err.Error(), "text at 2:") || !strings.Contains(err.Error(), "only {{.name}} variables are allowed") {
			t.Errorf("template error says: %v", err)
		}

		// The relay refuses the address for good: kept, and suppressed.
		e.sink.SetFaults(smtpsink.Faults{Rules: []*smtpsink.Rule{
			{Recipient: "bounce@example.net", Stage: smtpsink.AtRcpt, Code: 550, Enhanced: [3]int{5, 1, 1}, Text: "no such mailbox"},
			{Recipient: "later@example.net", Stage: smtpsink.AtRcpt, Code: 451, Enhanced: [3]int{4, 3, 0}, Text: "try later"},
		}})
		in := client.MessageInput{To: "bounce@example.net", Template: tmpl, Variables: map[string]string{"who": "Bo"}}
		_, err = app.SendMessage(ctx, in, "bounce-1")
		wantAPIError(t, "hard bounce", err, 422, "hard_bounce")
		if err == nil || !strings.Contains(err.Error(), "550 5.1.1 no such mailbox") {
			t.Errorf("hard bounce says %v", err)
		}
		if sp, err := st.Suppression(ctx, "bounce@example.net"); err != nil || sp.Reason != model.SuppressHardBounce {
			t.Errorf("not suppressed: %+v %v", sp, err)
		}
		_, err = app.SendMessage(ctx, in, "bounce-1")
		wantAPIError(t, "hard bounce replayed", err, 422, "hard_bounce")
		if e.sink.Rejected() != 1 {
			t.Errorf("the replay went to the relay again: %d rejections", e.sink.Rejected())
		}

		// A temporary refusal: 503, nothing kept; the retry with the key
		// sends once the relay takes mail again.
		later := client.MessageInput{To: "later@example.net", Template: tmpl, Variables: map[string]string{"who": "Liz"}}
		_, err = app.SendMessage(ctx, later, "later-1")
		wantAPIError(t, "temporary", err, 503, "temporary")
		e.sink.SetFaults(smtpsink.Faults{})
		res, err := app.SendMessage(ctx, later, "later-1")
		if err != nil || res.Replayed || e.sink.Count() != 1 {
			t.Fatalf("retry after a temporary failure: %+v %v, sink %d", res, err, e.sink.Count())
		}
	})
}
