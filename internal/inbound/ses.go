package inbound

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
	"strings"
	"sync"

	"github.com/herald-news/herald/internal/model"
)

// SNSMessage is an Amazon SNS HTTP(S) delivery.
type SNSMessage struct {
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
func (m *SNSMessage) stringToSign() string {
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

// SNSVerifier checks SNS signatures. Certificates are fetched only over
// HTTPS from hosts matching the allowlist, and cached.
type SNSVerifier struct {
	hosts  []string
	client *http.Client

	mu    sync.Mutex
	certs map[string]*x509.Certificate
}

// NewSNSVerifier returns a verifier fetching certificates with client
// from hosts matching the patterns ("*" stands for one DNS label).
func NewSNSVerifier(hosts []string, client *http.Client) *SNSVerifier {
	return &SNSVerifier{hosts: hosts, client: client, certs: map[string]*x509.Certificate{}}
}

// ErrSNSSignature means an SNS message's signature does not verify.
var ErrSNSSignature = errors.New("SNS signature does not verify")

// AllowedURL reports whether raw is an https URL on an allowlisted host.
func (v *SNSVerifier) AllowedURL(raw string) bool {
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

func (v *SNSVerifier) cert(ctx context.Context, raw string) (*x509.Certificate, error) {
	if !v.AllowedURL(raw) || !strings.HasSuffix(strings.ToLower(strings.SplitN(raw, "?", 2)[0]), ".pem") {
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

// Verify checks m's signature (versions 1, SHA1withRSA, and 2,
// SHA256withRSA).
func (v *SNSVerifier) Verify(ctx context.Context, m *SNSMessage) error {
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil || len(sig) == 0 {
		return ErrSNSSignature
	}
	c, err := v.cert(ctx, m.SigningCertURL)
	if err != nil {
		return err
	}
	pub, ok := c.PublicKey.(*rsa.PublicKey)
	if !ok {
		return ErrSNSSignature
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
		return ErrSNSSignature
	}
	if err != nil {
		return ErrSNSSignature
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

func (n *sesNotification) reports() []Report {
	kind := n.NotificationType
	if kind == "" {
		kind = n.EventType
	}
	var out []Report
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
			out = append(out, Report{Kind: k, Email: r.EmailAddress, MessageID: n.messageID(),
				Detail: strings.TrimSpace(n.Bounce.BounceType + "/" + n.Bounce.BounceSubType + " " + r.Status + " " + r.DiagnosticCode)})
		}
	case "Complaint":
		for _, r := range n.Complaint.ComplainedRecipients {
			if r.EmailAddress == "" {
				continue
			}
			out = append(out, Report{Kind: model.EventComplaint, Email: r.EmailAddress, MessageID: n.messageID(),
				Detail: "complaint " + n.Complaint.ComplaintFeedbackType})
		}
	}
	return out
}

// ParseSNS reads an SNS HTTP(S) delivery envelope. It does not check the
// signature (SNSVerifier.Verify does, and is the only part that may fetch
// anything); a body that is not an SNS message is ErrPayload.
func ParseSNS(body []byte) (*SNSMessage, error) {
	var m SNSMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPayload, err)
	}
	if m.Type == "" {
		return nil, fmt.Errorf("%w: no Type", ErrPayload)
	}
	return &m, nil
}

// ParseSES reads the SES notification carried in an SNS Notification's
// Message: one report per bounced or complaining recipient with an
// address; none for other notification types. A message that is not a
// JSON object of that shape is ErrPayload.
func ParseSES(message string) ([]Report, error) {
	var n sesNotification
	if err := json.Unmarshal([]byte(message), &n); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPayload, err)
	}
	return n.reports(), nil
}

// ErrURLNotAllowed means a subscription URL is not https on an allowlisted host.
var ErrURLNotAllowed = errors.New("SNS URL not on an allowed host")

// ConfirmSubscription confirms the SNS subscription m asks for (a
// verified SubscriptionConfirmation) by fetching its SubscribeURL, which
// must be on an allowlisted host (ErrURLNotAllowed).
func (v *SNSVerifier) ConfirmSubscription(ctx context.Context, m *SNSMessage) error {
	if !v.AllowedURL(m.SubscribeURL) {
		return ErrURLNotAllowed
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.SubscribeURL, nil)
	if err != nil {
		return err
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("SNS answered %s", resp.Status)
	}
	return nil
}
