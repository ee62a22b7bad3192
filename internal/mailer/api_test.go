package mailer

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/herald-news/herald/internal/message"
)

// heraldMessage builds a message as delivery does: multipart text and
// HTML, list headers, a Postmark metadata field, and optionally a DKIM
// signature (whose DNS record it returns).
func heraldMessage(t testing.TB, to string, signed bool) (msg []byte, dnsRecord string) {
	t.Helper()
	cfg := message.Config{
		From:       message.Address{Name: "Evening Ledger", Email: "briefing@ledger.example"},
		ReplyTo:    message.Address{Email: "desk@ledger.example"},
		Subject:    "Harbour vote — delayed",
		ListID:     "evening.ledger.example",
		ListName:   "Evening",
		FeedbackID: "c1:evening:herald",
	}
	if signed {
		pemKey, err := message.GenerateKey("ed25519")
		if err != nil {
			t.Fatal(err)
		}
		key, err := message.ParseKey(pemKey)
		if err != nil {
			t.Fatal(err)
		}
		dnsRecord, _ = message.DNSRecord(key)
		cfg.DKIM = &message.DKIM{Domain: "ledger.example", Selector: "s1", Key: key}
	}
	tpl, err := message.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	msg, err = tpl.Append(nil, &message.Message{
		To:             message.Address{Name: "Ana Ruiz", Email: to},
		MessageID:      message.ID(1, 7, "ledger.example"),
		UnsubscribeURL: "https://ledger.example/unsubscribe/tok7",
		Text:           []byte("Good evening. The harbour vote moves to Thursday.\n"),
		HTML:           []byte("<p>Good evening. The <b>harbour</b> vote moves to Thursday.</p>\n"),
		Headers:        []message.Field{{Key: "X-PM-Metadata-herald-message-id", Value: message.ID(1, 7, "ledger.example")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return msg, dnsRecord
}

// apiServer is a stand-in for a provider's API: check looks at each
// request the way the provider documents it and answers the way the
// provider does. Failed checks are reported and answered with 418.
type apiServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests int
	problems []string
}

func newAPIServer(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, body []byte) error) *apiServer {
	t.Helper()
	s := &apiServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.requests++
		s.mu.Unlock()
		if err := handle(w, r, body); err != nil {
			s.mu.Lock()
			s.problems = append(s.problems, err.Error())
			s.mu.Unlock()
			w.WriteHeader(http.StatusTeapot)
		}
	}))
	t.Cleanup(func() {
		s.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, p := range s.problems {
			t.Errorf("request not as the provider documents it: %s", p)
		}
	})
	return s
}

func (s *apiServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// sendTo sends a Herald message to one address and returns the error.
func sendTo(t *testing.T, m Sender, to string) error {
	t.Helper()
	msg, _ := heraldMessage(t, to, false)
	return m.Send(context.Background(), Envelope{From: "briefing@ledger.example", To: to}, msg)
}

// wantError checks an error's class, stage and words.
func wantError(t *testing.T, what string, err error, class Class, stage Stage, words string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Errorf("%s: error %v, want a *mailer.Error", what, err)
		return
	}
	if e.Class != class || e.Stage != stage || !strings.Contains(e.Reply(), words) {
		t.Errorf("%s: %s / %s / %q, want %s / %s / containing %q", what, e.Class, e.Stage, e.Reply(), class, stage, words)
	}
}

// verifySigV4 recomputes a Signature Version 4 signature from the request
// as the server received it, following AWS's description of the
// algorithm, and compares it with the one in the Authorization header.
func verifySigV4(r *http.Request, body []byte, accessKey, secret, region, service string) error {
	auth := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !ok {
		return fmt.Errorf("Authorization %q is not AWS4-HMAC-SHA256", auth)
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ", ") {
		k, v, _ := strings.Cut(part, "=")
		fields[k] = v
	}
	stamp := r.Header.Get("X-Amz-Date")
	if len(stamp) != 16 {
		return fmt.Errorf("X-Amz-Date %q", stamp)
	}
	if at, err := time.Parse("20060102T150405Z", stamp); err != nil || time.Since(at).Abs() > 15*time.Minute {
		return fmt.Errorf("X-Amz-Date %q is not within 15 minutes of now", stamp)
	}
	scope := stamp[:8] + "/" + region + "/" + service + "/aws4_request"
	if fields["Credential"] != accessKey+"/"+scope {
		return fmt.Errorf("Credential %q, want %s/%s", fields["Credential"], accessKey, scope)
	}
	signed := strings.Split(fields["SignedHeaders"], ";")
	if !sort.StringsAreSorted(signed) {
		return errors.New("SignedHeaders not sorted")
	}
	for _, must := range []string{"host", "x-amz-date"} {
		if !strings.Contains(";"+fields["SignedHeaders"]+";", ";"+must+";") {
			return fmt.Errorf("%s is not signed", must)
		}
	}
	var creq strings.Builder
	creq.WriteString(r.Method + "\n" + r.URL.EscapedPath() + "\n" + r.URL.RawQuery + "\n")
	for _, h := range signed {
		v := r.Header.Get(h)
		if h == "host" {
			v = r.Host
		}
		creq.WriteString(h + ":" + strings.TrimSpace(v) + "\n")
	}
	sum := sha256.Sum256(body)
	creq.WriteString("\n" + strings.Join(signed, ";") + "\n" + hex.EncodeToString(sum[:]))
	creqSum := sha256.Sum256([]byte(creq.String()))
	toSign := "AWS4-HMAC-SHA256\n" + stamp + "\n" + scope + "\n" + hex.EncodeToString(creqSum[:])
	mac := func(key []byte, s string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(s))
		return h.Sum(nil)
	}
	key := mac(mac(mac(mac([]byte("AWS4"+secret), stamp[:8]), region), service), "aws4_request")
	if want := hex.EncodeToString(mac(key, toSign)); fields["Signature"] != want {
		return errors.New("SignatureDoesNotMatch")
	}
	return nil
}

// TestSigV4KnownAnswer signs the example request of AWS's Signature
// Version 4 documentation (IAM ListUsers, 2015-08-30) and gets the
// documented signing key and signature.
func TestSigV4KnownAnswer(t *testing.T) {
	req, _ := http.NewRequest("GET", "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08", nil)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	s := sigV4{AccessKeyID: "AKIDEXAMPLE", Secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", Region: "us-east-1", Service: "iam"}
	s.sign(req, nil, time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC))
	if k := hex.EncodeToString(signingKey(s.Secret, "20150830", "us-east-1", "iam")); k != "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9" {
		t.Errorf("signing key %s", k)
	}
	want := "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, " +
		"Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
	if got := req.Header.Get("Authorization"); got != want {
		t.Errorf("Authorization\n got %s\nwant %s", got, want)
	}
}

const (
	sesKeyID  = "AKIAHERALDTEST"
	sesSecret = "s3cr3t/With+Slash+Plus"
)

// sesServer answers as SES API v2's SendEmail does. Recipients choose the
// answer: rejected@ MessageRejected, throttled@ 429, paused@ a paused
// account, broken@ a 500.
func sesServer(t *testing.T, got *[][]byte) *apiServer {
	return newAPIServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) error {
		if r.Method != "POST" || r.URL.Path != "/v2/email/outbound-emails" {
			return fmt.Errorf("%s %s", r.Method, r.URL.Path)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			return fmt.Errorf("Content-Type %q", ct)
		}
		if err := verifySigV4(r, body, sesKeyID, sesSecret, "eu-west-1", "ses"); err != nil {
			w.Header().Set("X-Amzn-ErrorType", "SignatureDoesNotMatch:http://internal.amazon.com/coral/com.amazon.coral.service/")
			writeJSON(w, http.StatusForbidden, map[string]string{"message": "The request signature we calculated does not match the signature you provided."})
			return nil
		}
		var req struct {
			Content struct {
				Raw struct{ Data []byte }
			}
			Destination          struct{ ToAddresses []string }
			FromEmailAddress     string
			ConfigurationSetName string
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return fmt.Errorf("body: %v", err)
		}
		if len(req.Destination.ToAddresses) != 1 || req.FromEmailAddress != "briefing@ledger.example" || req.ConfigurationSetName != "newsletters" {
			return fmt.Errorf("destination %v, from %q, configuration set %q", req.Destination.ToAddresses, req.FromEmailAddress, req.ConfigurationSetName)
		}
		*got = append(*got, req.Content.Raw.Data)
		fail := func(status int, kind, msg string) error {
			w.Header().Set("X-Amzn-ErrorType", kind+":http://internal.amazon.com/coral/com.amazonaws.sesv2/")
			writeJSON(w, status, map[string]string{"message": msg})
			return nil
		}
		switch strings.Split(req.Destination.ToAddresses[0], "@")[0] {
		case "rejected":
			return fail(400, "MessageRejected", "Email address is not verified.")
		case "throttled":
			return fail(429, "TooManyRequestsException", "Maximum sending rate exceeded.")
		case "paused":
			return fail(400, "SendingPausedException", "Sending is paused for this account.")
		case "broken":
			return fail(500, "InternalFailure", "An internal error occurred.")
		}
		writeJSON(w, 200, map[string]string{"MessageId": "0102018f-ses-id"})
		return nil
	})
}

// TestSESRelay sends through SendEmail with raw content, signed with
// SigV4 as the stand-in server recomputes it; the message arrives byte
// for byte but for Herald's DKIM signature, which covers the Date and
// Message-ID that SES replaces (SES signs with Easy DKIM instead), and
// SES's errors map to classes.
func TestSESRelay(t *testing.T) {
	var got [][]byte
	srv := sesServer(t, &got)
	rc := relayFor(t, "ses://"+sesKeyID+":"+url.PathEscape(sesSecret)+"@eu-west-1?configuration_set=newsletters&name=ses&endpoint="+url.QueryEscape(srv.URL))
	m := newMailer(t, Config{Relays: []RelayConfig{rc}})

	msg, _ := heraldMessage(t, "ana@readers.example", true)
	if err := m.Send(context.Background(), Envelope{From: "briefing@ledger.example", To: "ana@readers.example"}, msg); err != nil {
		t.Fatal(err)
	}
	// The signature is the message's first field, folded over lines.
	if !bytes.HasPrefix(msg, []byte("DKIM-Signature:")) {
		t.Fatalf("the test message is not signed as expected:\n%.300s", msg)
	}
	if len(got) != 1 || bytes.Contains(got[0], []byte("DKIM-Signature")) || !bytes.HasSuffix(msg, got[0]) ||
		!bytes.HasPrefix(got[0], []byte("From: ")) {
		t.Fatalf("SES received %d messages; the first:\n%.400s", len(got), got)
	}
	wantError(t, "rejected", sendTo(t, m, "rejected@readers.example"), Permanent, StageData, "MessageRejected: Email address is not verified.")
	wantError(t, "throttled", sendTo(t, m, "throttled@readers.example"), Temporary, StageLimit, "TooManyRequestsException")
	wantError(t, "paused", sendTo(t, m, "paused@readers.example"), Temporary, StageConnect, "SendingPausedException")
	wantError(t, "broken", sendTo(t, m, "broken@readers.example"), Temporary, StageData, "HTTP 500")

	// A wrong secret: the server's signature differs, the credentials
	// are refused, and that is the relay's fault, not the message's.
	bad := relayFor(t, "ses://"+sesKeyID+":wrong@eu-west-1?configuration_set=newsletters&endpoint="+url.QueryEscape(srv.URL))
	wantError(t, "wrong secret", sendTo(t, newMailer(t, Config{Relays: []RelayConfig{bad}}), "ana@readers.example"),
		Temporary, StageConnect, "HTTP 403")
}

const postmarkToken = "pm-server-token-1"

// postmarkServer answers as Postmark's /email/batch does: one result per
// message, in order; inactive@ is an inactive recipient (406), invalid@
// an invalid request (300). hold, when set, is waited on before answering.
func postmarkServer(t *testing.T, batches *[][]postmarkMessage, hold <-chan struct{}) *apiServer {
	var mu sync.Mutex
	return newAPIServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) error {
		if r.Method != "POST" || r.URL.Path != "/email/batch" {
			return fmt.Errorf("%s %s", r.Method, r.URL.Path)
		}
		if r.Header.Get("Accept") != "application/json" || r.Header.Get("Content-Type") != "application/json" {
			return fmt.Errorf("Accept %q, Content-Type %q", r.Header.Get("Accept"), r.Header.Get("Content-Type"))
		}
		if r.Header.Get("X-Postmark-Server-Token") != postmarkToken {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"ErrorCode": 10, "Message": "Bad or missing Server API token."})
			return nil
		}
		var msgs []postmarkMessage
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&msgs); err != nil || len(msgs) == 0 || len(msgs) > 500 {
			return fmt.Errorf("not a batch of 1 to 500 messages: %v", err)
		}
		mu.Lock()
		*batches = append(*batches, msgs)
		mu.Unlock()
		if hold != nil {
			<-hold
		}
		var results []map[string]any
		for _, m := range msgs {
			addr, err := parseAddr(m.To)
			if err != nil || m.From == "" || m.Subject == "" || (m.TextBody == "" && m.HtmlBody == "") {
				return fmt.Errorf("message %+v", m)
			}
			switch strings.Split(addr, "@")[0] {
			case "inactive":
				results = append(results, map[string]any{"ErrorCode": 406, "Message": "You tried to send to recipient(s) that have been marked as inactive.", "To": m.To})
			case "invalid":
				results = append(results, map[string]any{"ErrorCode": 300, "Message": "Invalid 'To' address.", "To": m.To})
			default:
				results = append(results, map[string]any{"ErrorCode": 0, "Message": "OK", "MessageID": "pm-" + addr, "To": m.To,
					"SubmittedAt": "2026-03-04T18:30:00Z"})
			}
		}
		writeJSON(w, http.StatusOK, results)
		return nil
	})
}

func parseAddr(s string) (string, error) {
	list, err := (&mime.WordDecoder{}).DecodeHeader(s)
	if err != nil {
		return "", err
	}
	if i := strings.LastIndexByte(list, '<'); i >= 0 {
		return strings.TrimSuffix(list[i+1:], ">"), nil
	}
	return list, nil
}

// TestPostmarkRelay sends a message taken apart into Postmark's fields,
// with Herald's list headers carried over and the metadata Postmark's
// webhooks hand back, and maps Postmark's error codes.
func TestPostmarkRelay(t *testing.T) {
	var batches [][]postmarkMessage
	srv := postmarkServer(t, &batches, nil)
	m := newMailer(t, Config{Relays: []RelayConfig{relayFor(t, "postmark://"+postmarkToken+"@api?stream=broadcast&endpoint="+url.QueryEscape(srv.URL))}})
	if err := sendTo(t, m, "ana@readers.example"); err != nil {
		t.Fatal(err)
	}
	if len(batches) != 1 || len(batches[0]) != 1 {
		t.Fatalf("batches %v", batches)
	}
	p := batches[0][0]
	headers := map[string]string{}
	for _, h := range p.Headers {
		headers[h.Name] = h.Value
	}
	want := postmarkMessage{From: `"Evening Ledger" <briefing@ledger.example>`, To: `"Ana Ruiz" <ana@readers.example>`,
		ReplyTo: "<desk@ledger.example>", Subject: "Harbour vote — delayed", MessageStream: "broadcast", TrackLinks: "None"}
	if p.From != want.From || p.To != want.To || p.ReplyTo != want.ReplyTo || p.Subject != want.Subject ||
		p.MessageStream != want.MessageStream || p.TrackLinks != want.TrackLinks || p.TrackOpens {
		t.Errorf("message fields\n got %+v\nwant %+v", p, want)
	}
	if !strings.Contains(p.TextBody, "The harbour vote moves to Thursday.") || !strings.Contains(p.HtmlBody, "<b>harbour</b>") {
		t.Errorf("bodies not decoded: %q / %q", p.TextBody, p.HtmlBody)
	}
	if headers["List-Unsubscribe"] != "<https://ledger.example/unsubscribe/tok7>" || headers["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" ||
		headers["Message-ID"] != "<herald.c1.s7@ledger.example>" || headers["Feedback-ID"] != "c1:evening:herald" ||
		!strings.Contains(headers["List-Id"], "<evening.ledger.example>") || len(headers) != 5 {
		t.Errorf("headers carried over: %v", headers)
	}
	if p.Metadata["herald-message-id"] != "herald.c1.s7@ledger.example" || len(p.Metadata) != 1 {
		t.Errorf("metadata %v", p.Metadata)
	}
	wantError(t, "inactive", sendTo(t, m, "inactive@readers.example"), HardBounce, StageRcpt, "Postmark error 406")
	wantError(t, "invalid", sendTo(t, m, "invalid@readers.example"), Permanent, StageData, "Postmark error 300")

	badToken := newMailer(t, Config{Relays: []RelayConfig{relayFor(t, "postmark://wrong@api?endpoint="+url.QueryEscape(srv.URL))}})
	wantError(t, "bad token", sendTo(t, badToken, "ana@readers.example"), Temporary, StageConnect, "HTTP 401: Bad or missing Server API token.")
}

// TestPostmarkBatchesUnderLoad holds the only request slot busy; the
// messages that arrive meanwhile go out together in one batch, and each
// sender gets its own message's result.
func TestPostmarkBatchesUnderLoad(t *testing.T) {
	var batches [][]postmarkMessage
	hold := make(chan struct{})
	srv := postmarkServer(t, &batches, hold)
	m := newMailer(t, Config{Relays: []RelayConfig{relayFor(t, "postmark://"+postmarkToken+"@api?max_conns=1&endpoint="+url.QueryEscape(srv.URL))}})
	link := m.relays[0].link.(*apiLink)
	queued := func() int { link.mu.Lock(); defer link.mu.Unlock(); return len(link.queue) }

	first := make(chan error, 1)
	go func() { first <- sendTo(t, m, "first@readers.example") }()
	waitFor(t, "the first request", func() bool { return srv.count() == 1 })
	const n = 12
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		to := fmt.Sprintf("r%d@readers.example", i)
		if i == 5 {
			to = "inactive@readers.example"
		}
		wg.Go(func() { errs[i] = sendTo(t, m, to) })
	}
	waitFor(t, "the messages to queue", func() bool { return queued() == n })
	close(hold)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if len(batches) != 2 || len(batches[0]) != 1 || len(batches[1]) != n {
		sizes := []int{}
		for _, b := range batches {
			sizes = append(sizes, len(b))
		}
		t.Fatalf("batch sizes %v, want [1 %d]", sizes, n)
	}
	for i, err := range errs {
		if i == 5 {
			wantError(t, "inactive in a batch", err, HardBounce, StageRcpt, "406")
		} else if err != nil {
			t.Errorf("message %d: %v", i, err)
		}
	}
	if st := m.Stats()[0]; st.Sent != n || st.Failed != 1 || st.OpenConns != 0 {
		t.Errorf("stats %+v", st)
	}
}

const sendGridKey = "SG.herald.test-key"

// TestSendGridRelay sends a mail/send request built from the message's
// parts and maps SendGrid's answers.
func TestSendGridRelay(t *testing.T) {
	var got []sendGridMail
	srv := newAPIServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) error {
		if r.Method != "POST" || r.URL.Path != "/v3/mail/send" || r.Header.Get("Content-Type") != "application/json" {
			return fmt.Errorf("%s %s %s", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		if r.Header.Get("Authorization") != "Bearer "+sendGridKey {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"errors": []map[string]any{{"message": "The provided authorization grant is invalid, expired, or revoked", "field": nil}}})
			return nil
		}
		var m sendGridMail
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			return fmt.Errorf("body: %v", err)
		}
		if len(m.Personalizations) != 1 || len(m.Personalizations[0].To) != 1 || len(m.Content) == 0 || m.Content[0].Type != "text/plain" {
			return fmt.Errorf("mail %+v", m)
		}
		for k := range m.Headers {
			switch strings.ToLower(k) {
			case "x-sg-id", "x-sg-eid", "received", "dkim-signature", "content-type", "content-transfer-encoding", "to", "from", "subject", "reply-to", "cc", "bcc":
				return fmt.Errorf("reserved header %s", k)
			}
		}
		got = append(got, m)
		switch strings.Split(m.Personalizations[0].To[0].Email, "@")[0] {
		case "invalid":
			writeJSON(w, http.StatusBadRequest, map[string]any{"errors": []map[string]any{{"message": "Does not contain a valid address.", "field": "personalizations.0.to.0.email"}}})
		case "flood":
			writeJSON(w, http.StatusTooManyRequests, map[string]any{"errors": []map[string]any{{"message": "too many requests"}}})
		default:
			w.Header().Set("X-Message-Id", "sg-id-1")
			w.WriteHeader(http.StatusAccepted)
		}
		return nil
	})
	m := newMailer(t, Config{Relays: []RelayConfig{relayFor(t, "sendgrid://"+sendGridKey+"@api?endpoint="+url.QueryEscape(srv.URL))}})
	if err := sendTo(t, m, "ana@readers.example"); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("got %d requests", len(got))
	}
	g := got[0]
	if to := g.Personalizations[0].To[0]; to.Email != "ana@readers.example" || to.Name != "Ana Ruiz" ||
		g.From != (sendGridAddress{Email: "briefing@ledger.example", Name: "Evening Ledger"}) || g.ReplyTo == nil || g.ReplyTo.Email != "desk@ledger.example" ||
		g.Subject != "Harbour vote — delayed" || len(g.Content) != 2 || g.Content[1].Type != "text/html" ||
		g.TrackingSettings.ClickTracking.Enable || g.TrackingSettings.OpenTracking.Enable {
		t.Errorf("mail %+v", g)
	}
	if g.Headers["List-Unsubscribe"] != "<https://ledger.example/unsubscribe/tok7>" || g.Headers["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" ||
		g.Headers["Message-ID"] != "<herald.c1.s7@ledger.example>" || g.CustomArgs["herald_message_id"] != "herald.c1.s7@ledger.example" {
		t.Errorf("headers %v, custom args %v", g.Headers, g.CustomArgs)
	}
	wantError(t, "invalid", sendTo(t, m, "invalid@readers.example"), Permanent, StageData, "Does not contain a valid address. (personalizations.0.to.0.email)")
	wantError(t, "flood", sendTo(t, m, "flood@readers.example"), Temporary, StageLimit, "HTTP 429")
	bad := newMailer(t, Config{Relays: []RelayConfig{relayFor(t, "sendgrid://SG.wrong@api?endpoint="+url.QueryEscape(srv.URL))}})
	wantError(t, "bad key", sendTo(t, bad, "ana@readers.example"), Temporary, StageConnect, "HTTP 401")
}

const mailgunKey = "key-herald-test"

// TestMailgunRelay posts the MIME as messages.mime takes it and maps
// Mailgun's answers, its plain-text 401 included.
func TestMailgunRelay(t *testing.T) {
	var got [][]byte
	srv := newAPIServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) error {
		if r.Method != "POST" {
			return fmt.Errorf("method %s", r.Method)
		}
		if user, pass, ok := r.BasicAuth(); !ok || user != "api" || pass != mailgunKey {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte("Forbidden"))
			return nil
		}
		if r.URL.Path != "/v3/mg.ledger.example/messages.mime" {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "Domain not found: " + r.URL.Path})
			return nil
		}
		mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/form-data" {
			return fmt.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
		}
		form, err := multipart.NewReader(bytes.NewReader(body), params["boundary"]).ReadForm(1 << 20)
		if err != nil || len(form.Value["to"]) != 1 || len(form.File["message"]) != 1 {
			return fmt.Errorf("form: %v %v", form, err)
		}
		f, _ := form.File["message"][0].Open()
		raw, _ := io.ReadAll(f)
		got = append(got, raw)
		if strings.HasPrefix(form.Value["to"][0], "invalid@") {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": "to parameter is not a valid address. please check documentation"})
			return nil
		}
		writeJSON(w, http.StatusOK, map[string]string{"id": "<20260304.1@mg.ledger.example>", "message": "Queued. Thank you."})
		return nil
	})
	m := newMailer(t, Config{Relays: []RelayConfig{relayFor(t, "mailgun://"+mailgunKey+"@api/mg.ledger.example?endpoint="+url.QueryEscape(srv.URL))}})
	msg, record := heraldMessage(t, "ana@readers.example", true)
	if err := m.Send(context.Background(), Envelope{From: "briefing@ledger.example", To: "ana@readers.example"}, msg); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !bytes.Equal(got[0], msg) {
		t.Fatalf("Mailgun received %d messages, the first byte for byte: %v", len(got), len(got) > 0 && bytes.Equal(got[0], msg))
	}
	verifs, err := dkim.VerifyWithOptions(bytes.NewReader(got[0]), &dkim.VerifyOptions{
		LookupTXT: func(string) ([]string, error) { return []string{record}, nil }})
	if err != nil || len(verifs) != 1 || verifs[0].Err != nil {
		t.Errorf("the message's DKIM signature does not verify after Mailgun's API: %v %v", verifs, err)
	}
	wantError(t, "invalid", sendTo(t, m, "invalid@readers.example"), Permanent, StageData, "to parameter is not a valid address")
	bad := newMailer(t, Config{Relays: []RelayConfig{relayFor(t, "mailgun://api:wrong@api/mg.ledger.example?endpoint="+url.QueryEscape(srv.URL))}})
	wantError(t, "bad key", sendTo(t, bad, "ana@readers.example"), Temporary, StageConnect, "HTTP 401: Forbidden")
	otherDomain := newMailer(t, Config{Relays: []RelayConfig{relayFor(t, "mailgun://"+mailgunKey+"@api/elsewhere.example?endpoint="+url.QueryEscape(srv.URL))}})
	wantError(t, "unknown domain", sendTo(t, otherDomain, "ana@readers.example"), Temporary, StageConnect, "Domain not found")
}

// TestAPIRelayFailover: an API relay that is down (503, then no listener
// at all) takes no message, its breaker opens, and the next relay by
// priority takes the mail; a request that went out without an answer is
// not sent elsewhere.
func TestAPIRelayFailover(t *testing.T) {
	down := newAPIServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) error {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"ErrorCode": 100, "Message": "Maintenance"})
		return nil
	})
	var batches [][]postmarkMessage
	backup := postmarkServer(t, &batches, nil)
	m := newMailer(t, Config{BreakerFailures: 2, BreakerCooldown: time.Hour, Relays: []RelayConfig{
		relayFor(t, "sendgrid://"+sendGridKey+"@api?name=primary&priority=0&endpoint="+url.QueryEscape(down.URL)),
		relayFor(t, "postmark://"+postmarkToken+"@api?name=backup&priority=5&endpoint="+url.QueryEscape(backup.URL)),
	}})
	for i := range 4 {
		if err := sendTo(t, m, fmt.Sprintf("r%d@readers.example", i)); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	st := m.Stats()
	if st[0].Name != "primary" || st[0].Failed != 2 || st[0].Breaker != BreakerOpen || st[1].Sent != 4 || len(batches) != 4 || down.count() != 2 {
		t.Errorf("stats %+v; backup batches %d, primary requests %d", st, len(batches), down.count())
	}

	// Nothing listens: the connection fails before a byte is sent.
	unreachable := relayFor(t, "ses://"+sesKeyID+":x@eu-west-1?name=unreachable&endpoint=http://"+freePort(t))
	m2 := newMailer(t, Config{Relays: []RelayConfig{unreachable, relayFor(t, "postmark://"+postmarkToken+"@api?name=backup&priority=5&endpoint="+url.QueryEscape(backup.URL))}})
	if err := sendTo(t, m2, "s@readers.example"); err != nil || len(batches) != 5 {
		t.Errorf("failover from an unreachable API: %v, backup batches %d", err, len(batches))
	}

	// The request reaches the API and the connection drops before an
	// answer: the API may have the message, so no other relay sends it.
	hangup := newAPIServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) error {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return err
	})
	m3 := newMailer(t, Config{Relays: []RelayConfig{
		relayFor(t, "mailgun://"+mailgunKey+"@api/mg.ledger.example?name=hangup&endpoint="+url.QueryEscape(hangup.URL)),
		relayFor(t, "postmark://"+postmarkToken+"@api?name=backup&priority=5&endpoint="+url.QueryEscape(backup.URL)),
	}})
	wantError(t, "no answer", sendTo(t, m3, "t@readers.example"), Temporary, StageData, "no answer from the API")
	if len(batches) != 5 {
		t.Errorf("a message that may have reached the first API went to the backup too")
	}
}

func TestParseAPIRelay(t *testing.T) {
	rc, err := ParseRelay("ses://AKIAEXAMPLE:abc%2Fdef%2Bghi@eu-central-1?configuration_set=news&max_conns=8&rate=14&priority=1&weight=2&name=aws")
	if err != nil {
		t.Fatal(err)
	}
	if rc.Kind != KindSES || rc.API.AccessKeyID != "AKIAEXAMPLE" || rc.API.Key != "abc/def+ghi" || rc.API.Region != "eu-central-1" ||
		rc.API.Endpoint != "https://email.eu-central-1.amazonaws.com" || rc.API.ConfigurationSet != "news" ||
		rc.MaxConns != 8 || rc.Rate != 14 || rc.Priority != 1 || rc.Weight != 2 || rc.Name != "aws" {
		t.Errorf("ses: %+v", rc)
	}
	if s := rc.String(); strings.Contains(s, "abc") || !strings.Contains(s, "xxxxx") {
		t.Errorf("String leaks the secret: %s", s)
	}
	if s := fmt.Sprint(rc.LogValue()); strings.Contains(s, "abc") {
		t.Errorf("LogValue leaks the secret: %s", s)
	}
	q, err := ParseRelay("ses://eu-west-1?access_key=AKIAQ&secret_key=q%2Bs&session_token=sess-9")
	if err != nil || q.API.AccessKeyID != "AKIAQ" || q.API.Key != "q+s" || q.API.SessionToken != "sess-9" || q.Name != "ses" {
		t.Errorf("ses with query credentials: %+v %v", q, err)
	}
	if s := q.String(); strings.Contains(s, "sess-9") || strings.Contains(s, "q+s") || strings.Contains(s, "q%2Bs") {
		t.Errorf("String leaks a secret: %s", s)
	}
	pm, err := ParseRelay("postmark://token-123@api?stream=broadcast")
	if err != nil || pm.API.Key != "token-123" || pm.API.Endpoint != "https://api.postmarkapp.com" || pm.API.Stream != "broadcast" || pm.Name != "postmark" || pm.Addr() != "api.postmarkapp.com" {
		t.Errorf("postmark: %+v %v", pm, err)
	}
	if strings.Contains(pm.String(), "token-123") {
		t.Errorf("String leaks the token: %s", pm.String())
	}
	sg, err := ParseRelay("sendgrid://SG.key@api.eu.sendgrid.com")
	if err != nil || sg.API.Endpoint != "https://api.eu.sendgrid.com" || sg.API.Key != "SG.key" {
		t.Errorf("sendgrid: %+v %v", sg, err)
	}
	mg, err := ParseRelay("mailgun://api:key-1@api.eu.mailgun.net/mg.example.com")
	if err != nil || mg.API.Key != "key-1" || mg.API.Domain != "mg.example.com" || mg.API.Endpoint != "https://api.eu.mailgun.net" {
		t.Errorf("mailgun: %+v %v", mg, err)
	}
	for raw, want := range map[string]string{
		"ses://AKIA:secret@moon-base":                     "not an AWS region",
		"ses://:secret@eu-west-1":                         "no access key ID",
		"ses://eu-west-1?access_key=A&secret_key=a+b":     "space or line break",
		"postmark://@api":                                 "no server token",
		"postmark://tok@api?endpoint=http://mail.example": "only allowed on a loopback host",
		"postmark://tok@api?endpoint=ftp://mail.example":  "absolute https URL",
		"sendgrid://":       "has no host",
		"mailgun://key@api": "no sending domain",
		"mailgun://key@api/mg.example.com?max_conns=-1":    "whole number",
		"postmark://tok@api?allow_plain=perhaps":           "want true or false",
		"mandrill://key@api":                               "want smtp, smtps, ses, postmark, sendgrid or mailgun",
		"sendgrid://SG.key@api?endpoint=https://x.example": "",
	} {
		_, err := ParseRelay(raw)
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", raw, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: error %v, want one containing %q", raw, err, want)
		case err != nil && (strings.Contains(err.Error(), ":secret") || strings.Contains(err.Error(), "tok@")):
			t.Errorf("%s: the error quotes a credential: %v", raw, err)
		}
	}
	// Built by hand rather than parsed, an API relay gets the same
	// defaults and checks.
	if _, err := New(Config{Relays: []RelayConfig{{Kind: KindPostmark, API: APIConfig{Key: "t", Endpoint: "http://127.0.0.1:1"}}}}); err != nil {
		t.Errorf("a hand-built API relay: %v", err)
	}
}
