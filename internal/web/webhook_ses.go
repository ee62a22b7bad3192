package web

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/herald-news/herald/internal/model"
)

// snsMessage is an Amazon SNS HTTP(S) delivery.
type snsMessage struct {
	Type             string
	MessageId        string
	Token            string
	TopicArn         string
	Subject          string
	Message          string
	SubscribeURL     string
	Timestamp        string
	SignatureVersion string
	Signature        string
	SigningCertURL   string
}

// stringToSign is the canonical form SNS signs: chosen fields as
// "Name\nvalue\n", in byte order of the names.
func (m *snsMessage) stringToSign() string {
	var b strings.Builder
	add := func(k, v string) { b.WriteString(k + "\n" + v + "\n") }
	add("Message", m.Message)
	add("MessageId", m.MessageId)
	if m.Type == "Notification" {
		if m.Subject != "" {
			add("Subject", m.Subject)
		}
		add("Timestamp", m.Timestamp)
		add("TopicArn", m.TopicArn)
		add("Type", m.Type)
		return b.String()
	}
	add("SubscribeURL", m.SubscribeURL)
	add("Timestamp", m.Timestamp)
	add("Token", m.Token)
	add("TopicArn", m.TopicArn)
	add("Type", m.Type)
	return b.String()
}

// snsVerifier checks SNS signatures. Certificates are fetched only over
// HTTPS from hosts matching the allowlist, and cached.
type snsVerifier struct {
	hosts  []string
	client *http.Client

	mu    sync.Mutex
	certs map[string]*x509.Certificate
}

func newSNSVerifier(hosts []string, client *http.Client) *snsVerifier {
	return &snsVerifier{hosts: hosts, client: client, certs: map[string]*x509.Certificate{}}
}

var errSNSSignature = errors.New("SNS signature does not verify")

// allowedURL reports whether raw is an https URL on an allowlisted host.
func (v *snsVerifier) allowedURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.User != nil || u.Host == "" {
		return false
	}
	for _, p := range v.hosts {
		if hostMatches(p, strings.ToLower(u.Host)) {
			return true
		}
	}
	return false
}

// hostMatches matches a host against a pattern where "*" stands for
// exactly one DNS label.
func hostMatches(pattern, host string) bool {
	pl, hl := strings.Split(strings.ToLower(pattern), "."), strings.Split(host, ".")
	if len(pl) != len(hl) {
		return false
	}
	for i := range pl {
		if pl[i] != "*" && pl[i] != hl[i] {
			return false
		}
		if pl[i] == "*" && (hl[i] == "" || strings.ContainsAny(hl[i], ":/@")) {
			return false
		}
	}
	return true
}

func (v *snsVerifier) cert(ctx context.Context, raw string) (*x509.Certificate, error) {
	if !v.allowedURL(raw) || !strings.HasSuffix(strings.ToLower(strings.SplitN(raw, "?", 2)[0]), ".pem") {
		return nil, fmt.Errorf("signing certificate URL %q is not on an allowed host", raw)
	}
	v.mu.Lock()
	c := v.certs[raw]
	v.mu.Unlock()
	if c != nil {
		return c, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, err
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch signing certificate: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch signing certificate: %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("fetch signing certificate: %w", err)
	}
	block, _ := pem.Decode(body)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("signing certificate is not a PEM certificate")
	}
	c, err = x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse signing certificate: %w", err)
	}
	v.mu.Lock()
	if len(v.certs) > 100 {
		clear(v.certs)
	}
	v.certs[raw] = c
	v.mu.Unlock()
	return c, nil
}

// verify checks m's signature (versions 1, SHA1withRSA, and 2,
// SHA256withRSA).
func (v *snsVerifier) verify(ctx context.Context, m *snsMessage) error {
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil || len(sig) == 0 {
		return errSNSSignature
	}
	c, err := v.cert(ctx, m.SigningCertURL)
	if err != nil {
		return err
	}
	pub, ok := c.PublicKey.(*rsa.PublicKey)
	if !ok {
		return errSNSSignature
	}
	msg := []byte(m.stringToSign())
	switch m.SignatureVersion {
	case "1":
		sum := sha1.Sum(msg)
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA1, sum[:], sig)
	case "2":
		sum := sha256.Sum256(msg)
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
	default:
		return errSNSSignature
	}
	if err != nil {
		return errSNSSignature
	}
	return nil
}

// sesNotification is an Amazon SES bounce or complaint notification (the
// notificationType of SES notifications, or the eventType of SES event
// publishing).
type sesNotification struct {
	NotificationType string `json:"notificationType"`
	EventType        string `json:"eventType"`
	Bounce           struct {
		BounceType        string `json:"bounceType"`
		BounceSubType     string `json:"bounceSubType"`
		BouncedRecipients []struct {
			EmailAddress   string `json:"emailAddress"`
			Status         string `json:"status"`
			DiagnosticCode string `json:"diagnosticCode"`
		} `json:"bouncedRecipients"`
	} `json:"bounce"`
	Complaint struct {
		ComplainedRecipients []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"complainedRecipients"`
		ComplaintFeedbackType string `json:"complaintFeedbackType"`
	} `json:"complaint"`
	Mail struct {
		Headers []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"headers"`
		CommonHeaders struct {
			MessageID string `json:"messageId"`
		} `json:"commonHeaders"`
	} `json:"mail"`
}

func (n *sesNotification) messageID() string {
	if n.Mail.CommonHeaders.MessageID != "" {
		return n.Mail.CommonHeaders.MessageID
	}
	for _, h := range n.Mail.Headers {
		if strings.EqualFold(h.Name, "Message-ID") {
			return h.Value
		}
	}
	return ""
}

func (n *sesNotification) reports() []report {
	kind := n.NotificationType
	if kind == "" {
		kind = n.EventType
	}
	var out []report
	switch kind {
	case "Bounce":
		k := model.EventSoftBounce
		if n.Bounce.BounceType == "Permanent" {
			k = model.EventBounce
		}
		for _, r := range n.Bounce.BouncedRecipients {
			if r.EmailAddress == "" {
				continue // nothing to act on
			}
			out = append(out, report{kind: k, email: r.EmailAddress, messageID: n.messageID(),
				detail: strings.TrimSpace(n.Bounce.BounceType + "/" + n.Bounce.BounceSubType + " " + r.Status + " " + r.DiagnosticCode)})
		}
	case "Complaint":
		for _, r := range n.Complaint.ComplainedRecipients {
			if r.EmailAddress == "" {
				continue
			}
			out = append(out, report{kind: model.EventComplaint, email: r.EmailAddress, messageID: n.messageID(),
				detail: "complaint " + n.Complaint.ComplaintFeedbackType})
		}
	}
	return out
}

// parseSNS reads an SNS HTTP(S) delivery envelope. It does not check the
// signature (snsVerifier.verify does, and is the only part that may fetch
// anything); a body that is not an SNS message is errPayload.
func parseSNS(body []byte) (*snsMessage, error) {
	var m snsMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("%w: %w", errPayload, err)
	}
	if m.Type == "" {
		return nil, fmt.Errorf("%w: no Type", errPayload)
	}
	return &m, nil
}

// parseSES reads the SES notification carried in an SNS Notification's
// Message: one report per bounced or complaining recipient with an
// address; none for other notification types. A message that is not a
// JSON object of that shape is errPayload.
func parseSES(message string) ([]report, error) {
	var n sesNotification
	if err := json.Unmarshal([]byte(message), &n); err != nil {
		return nil, fmt.Errorf("%w: %w", errPayload, err)
	}
	return n.reports(), nil
}

// webhookSES takes Amazon SES notifications delivered by SNS. The shared
// secret (put it in the subscription URL as basic auth) and the SNS
// signature must both check out; a subscription confirmation is confirmed
// by fetching its allowlisted SubscribeURL.
func (s *Server) webhookSES(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readWebhook(w, r)
	if !ok {
		return
	}
	m, err := parseSNS(body)
	if err != nil {
		badPayload(w)
		return
	}
	if topics := s.opts.Webhooks.SNSTopics; len(topics) > 0 && !slices.Contains(topics, m.TopicArn) {
		s.log.Warn("SNS message from a topic not configured refused", "topic", m.TopicArn, "type", m.Type)
		http.Error(w, "topic not allowed", http.StatusForbidden)
		return
	}
	if err := s.sns.verify(r.Context(), m); err != nil {
		s.log.Warn("SNS message refused", "err", err, "type", m.Type)
		http.Error(w, "signature not valid", http.StatusForbidden)
		return
	}
	switch m.Type {
	case "SubscriptionConfirmation":
		if !s.sns.allowedURL(m.SubscribeURL) {
			http.Error(w, "subscribe URL not allowed", http.StatusForbidden)
			return
		}
		req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, m.SubscribeURL, nil)
		if err == nil {
			var resp *http.Response
			if resp, err = s.sns.client.Do(req); err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("SNS answered %s", resp.Status)
				}
			}
		}
		if err != nil {
			s.log.Error("confirm SNS subscription", "topic", m.TopicArn, "err", err)
			http.Error(w, "could not confirm the subscription", http.StatusBadGateway)
			return
		}
		s.log.Info("confirmed SNS subscription", "topic", m.TopicArn)
		w.WriteHeader(http.StatusNoContent)
	case "Notification":
		reps, err := parseSES(m.Message)
		if err != nil {
			badPayload(w)
			return
		}
		s.finishWebhook(w, r, "ses", reps)
	default:
		w.WriteHeader(http.StatusNoContent) // UnsubscribeConfirmation: nothing to do
	}
}
