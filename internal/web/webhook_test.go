package web_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/web"
)

// fakeSNS is a local HTTPS server standing in for SNS: it serves the
// signing certificate (generated here) and the subscription confirmation.
type fakeSNS struct {
	ts        *httptest.Server
	key       *rsa.PrivateKey
	confirmed atomic.Int64
}

func newFakeSNS(t *testing.T) *fakeSNS {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sns.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	f := &fakeSNS{key: key}
	f.ts = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/SimpleNotificationService-test.pem":
			w.Write(certPEM)
		case "/confirm":
			f.confirmed.Add(1)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.ts.Close)
	return f
}

func (f *fakeSNS) host() string { u, _ := url.Parse(f.ts.URL); return u.Host }

// sign fills in the signature fields the way SNS does (version 2).
func (f *fakeSNS) sign(m map[string]string) {
	m["SignatureVersion"] = "2"
	m["SigningCertURL"] = f.ts.URL + "/SimpleNotificationService-test.pem"
	keys := []string{"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"}
	if m["Type"] != "Notification" {
		keys = []string{"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"}
	}
	var b strings.Builder
	for _, k := range keys {
		if v, ok := m[k]; ok {
			b.WriteString(k + "\n" + v + "\n")
		}
	}
	sum := sha256.Sum256([]byte(b.String()))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, f.key, crypto.SHA256, sum[:])
	m["Signature"] = base64.StdEncoding.EncodeToString(sig)
}

func sesBounce(email, bounceType, messageID string) string {
	b, _ := json.Marshal(map[string]any{
		"notificationType": "Bounce",
		"bounce": map[string]any{
			"bounceType": bounceType, "bounceSubType": "General",
			"bouncedRecipients": []map[string]string{{"emailAddress": email, "status": "5.1.1", "diagnosticCode": "smtp; 550 5.1.1 user unknown"}},
			"timestamp":         "2026-11-27T18:05:00.000Z", "feedbackId": "0100-abc",
		},
		"mail": map[string]any{"messageId": "0100-ses-id", "source": "news@example.com",
			"commonHeaders": map[string]any{"messageId": "<" + messageID + ">"}},
	})
	return string(b)
}

func postJSON(t *testing.T, u, user, pass string, body string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if pass != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestWebhooks(t *testing.T) {
	t.Parallel()
	sns := newFakeSNS(t)
	st := newSite(t, sqlite(t), func(o *web.Options) {
		o.Webhooks.SNSCertHosts = []string{sns.host()}
		o.Webhooks.SNSClient = sns.ts.Client()
	})
	ctx := context.Background()
	id := st.subscriber("gone@example.com", st.daily)
	c := st.campaign(true, nil, st.daily)
	suppressed := func(email string) model.SuppressionReason {
		sp, err := st.store.Suppression(ctx, email)
		if errors.Is(err, store.ErrNotFound) {
			return ""
		}
		if err != nil {
			t.Fatal(err)
		}
		return sp.Reason
	}
	ses := st.ts.URL + "/webhooks/ses"

	note := map[string]string{"Type": "Notification", "MessageId": "m1", "TopicArn": "arn:aws:sns:eu-west-1:123:ses",
		"Message": sesBounce("gone@example.com", "Permanent", "herald.c"+itoa(c.ID)+".s"+itoa(id)+"@example.com"), "Timestamp": "2026-11-27T18:05:01.000Z"}
	sns.sign(note)
	signed, _ := json.Marshal(note)

	// Wrong or missing secret: refused before anything is read.
	if code := postJSON(t, ses, "sns", "wrong", string(signed)); code != http.StatusUnauthorized {
		t.Fatalf("wrong secret = %d", code)
	}
	// A tampered message: the signature fails.
	bad := map[string]string{}
	for k, v := range note {
		bad[k] = v
	}
	bad["Message"] = sesBounce("victim@example.com", "Permanent", "")
	tampered, _ := json.Marshal(bad)
	if code := postJSON(t, ses, "sns", "hook-secret", string(tampered)); code != http.StatusForbidden || suppressed("victim@example.com") != "" {
		t.Fatalf("tampered SNS message = %d", code)
	}
	// A certificate from a host off the allowlist is never fetched.
	off := map[string]string{}
	for k, v := range note {
		off[k] = v
	}
	off["SigningCertURL"] = "https://evil.example/SimpleNotificationService-test.pem"
	offJSON, _ := json.Marshal(off)
	if code := postJSON(t, ses, "sns", "hook-secret", string(offJSON)); code != http.StatusForbidden {
		t.Fatalf("off-allowlist certificate = %d", code)
	}
	// The real thing.
	if code := postJSON(t, ses, "sns", "hook-secret", string(signed)); code != http.StatusNoContent {
		t.Fatalf("signed SES bounce = %d", code)
	}
	if suppressed("gone@example.com") != model.SuppressHardBounce {
		t.Fatal("hard bounce did not suppress")
	}
	if n := storedEvents(t, st.store, c.ID).Total[model.EventBounce]; n != 1 {
		t.Fatalf("bounce events for the campaign = %d", n)
	}
	// Subscription confirmation: verified, then the allowlisted SubscribeURL is fetched.
	conf := map[string]string{"Type": "SubscriptionConfirmation", "MessageId": "m2", "Token": "tok", "TopicArn": "arn:aws:sns:eu-west-1:123:ses",
		"Message": "You have chosen to subscribe", "SubscribeURL": sns.ts.URL + "/confirm", "Timestamp": "2026-11-27T18:00:00.000Z"}
	sns.sign(conf)
	confJSON, _ := json.Marshal(conf)
	if code := postJSON(t, ses, "sns", "hook-secret", string(confJSON)); code != http.StatusNoContent || sns.confirmed.Load() != 1 {
		t.Fatalf("subscription confirmation = %d, confirmed %d", code, sns.confirmed.Load())
	}

	// Postmark: basic auth, hard bounce and spam complaint.
	pm := st.ts.URL + "/webhooks/postmark"
	if code := postJSON(t, pm, "", "", `{"RecordType":"Bounce","Type":"HardBounce","Email":"pm@example.com"}`); code != http.StatusUnauthorized {
		t.Fatalf("postmark without auth = %d", code)
	}
	if code := postJSON(t, pm, "postmark", "hook-secret", `{"RecordType":"Bounce","ID":4323372036854775807,"Type":"HardBounce","TypeCode":1,"Name":"Hard bounce","MessageID":"883953f4-6105-42a2-a16a-77a8eac79483","Description":"The server was unable to deliver your message","Details":"smtp;550 5.1.1 unknown","Email":"pm@example.com","From":"news@example.com","BouncedAt":"2026-11-27T18:05:00Z","Inactive":true}`); code != http.StatusNoContent || suppressed("pm@example.com") != model.SuppressHardBounce {
		t.Fatalf("postmark bounce = %d, %q", code, suppressed("pm@example.com"))
	}
	if code := postJSON(t, pm, "postmark", "hook-secret", `{"RecordType":"SpamComplaint","Type":"SpamComplaint","TypeCode":512,"Email":"angry@example.com"}`); code != http.StatusNoContent || suppressed("angry@example.com") != model.SuppressComplaint {
		t.Fatalf("postmark complaint = %d", code)
	}
	// SendGrid: an event batch; "blocked" is soft, "bounce" hard, spamreport a complaint.
	sg := st.ts.URL + "/webhooks/sendgrid?secret=hook-secret"
	batch := `[
	 {"email":"sg-hard@example.com","timestamp":1795000000,"smtp-id":"<herald.c1.s9@example.com>","event":"bounce","type":"bounce","status":"5.1.1","reason":"550 unknown user"},
	 {"email":"sg-soft@example.com","timestamp":1795000000,"event":"bounce","type":"blocked","status":"4.0.0","reason":"try later"},
	 {"email":"sg-spam@example.com","timestamp":1795000000,"event":"spamreport"},
	 {"email":"sg-open@example.com","timestamp":1795000000,"event":"open"}]`
	if code := postJSON(t, sg, "", "", batch); code != http.StatusNoContent {
		t.Fatalf("sendgrid = %d", code)
	}
	if suppressed("sg-hard@example.com") != model.SuppressHardBounce || suppressed("sg-spam@example.com") != model.SuppressComplaint || suppressed("sg-soft@example.com") != "" {
		t.Fatal("sendgrid reports not applied as expected")
	}
	// Generic: soft bounces count up to the threshold (3), then suppress.
	gen := st.ts.URL + "/webhooks/generic"
	for i := 1; i <= 3; i++ {
		if code := postJSON(t, gen, "x", "hook-secret", `{"type":"soft_bounce","email":"full@example.com","detail":"452 mailbox full"}`); code != http.StatusNoContent {
			t.Fatalf("generic soft bounce %d = %d", i, code)
		}
		if want := i == 3; (suppressed("full@example.com") != "") != want {
			t.Fatalf("after %d soft bounces suppressed = %v", i, !want)
		}
	}
	if code := postJSON(t, gen, "x", "hook-secret", `{"type":"teleport","email":"a@example.com"}`); code != http.StatusBadRequest {
		t.Fatalf("unknown generic type = %d", code)
	}
}

func TestWebhooksOffWithoutSecret(t *testing.T) {
	t.Parallel()
	st := newSite(t, sqlite(t), func(o *web.Options) { o.Webhooks.Secret = "" })
	if code := postJSON(t, st.ts.URL+"/webhooks/generic", "", "", `{"type":"complaint","email":"a@example.com"}`); code != http.StatusNotFound {
		t.Fatalf("webhook with no secret configured = %d", code)
	}
}

// TestReportsCountTowardTheirCampaign: a Postmark report carrying the
// metadata Herald's messages set is counted toward that campaign and
// subscriber; a complaint with no Herald Message-ID at all counts toward
// the last campaign that reached the reader.
func TestReportsCountTowardTheirCampaign(t *testing.T) {
	t.Parallel()
	st := newSite(t, sqlite(t), nil)
	ctx := context.Background()
	bounced := st.subscriber("bounced@example.com", st.daily)
	st.subscriber("angry@example.com", st.daily)
	c := st.campaign(false, nil, st.daily)
	rows, err := st.store.ClaimDeliveries(ctx, c.ID, 10, time.Minute)
	if err != nil || len(rows) != 2 {
		t.Fatalf("claim: %d rows, %v", len(rows), err)
	}
	var outs []store.Outcome
	for _, d := range rows {
		outs = append(outs, store.Outcome{ID: d.ID, Attempts: d.Attempts, Status: model.DeliverySent})
	}
	if err := st.store.RecordOutcomes(ctx, outs); err != nil {
		t.Fatal(err)
	}
	pm := st.ts.URL + "/webhooks/postmark"
	bounce := `{"RecordType":"Bounce","Type":"HardBounce","Email":"bounced@example.com","Metadata":{"herald-message-id":"herald.c` +
		itoa(c.ID) + ".s" + itoa(bounced) + `@example.com"}}`
	if code := postJSON(t, pm, "postmark", "hook-secret", bounce); code != http.StatusNoContent {
		t.Fatalf("postmark bounce = %d", code)
	}
	complaint := `{"RecordType":"SpamComplaint","Type":"SpamComplaint","Email":"angry@example.com"}`
	if code := postJSON(t, pm, "postmark", "hook-secret", complaint); code != http.StatusNoContent {
		t.Fatalf("postmark complaint = %d", code)
	}
	counts := storedEvents(t, st.store, c.ID)
	if counts.Total[model.EventBounce] != 1 || counts.Total[model.EventComplaint] != 1 {
		t.Fatalf("campaign %d counts bounces %d, complaints %d; want 1 and 1", c.ID,
			counts.Total[model.EventBounce], counts.Total[model.EventComplaint])
	}
}
