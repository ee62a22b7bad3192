package web_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/inbound"
	"github.com/herald-news/herald/internal/web"
)

// TestSendGridSignedWebhook: with SendGrid's verification key configured,
// a post must carry a signature over its timestamp and body; unsigned,
// altered or foreign-signed posts are refused and change nothing.
func TestSendGridSignedWebhook(t *testing.T) {
	t.Parallel()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	key, err := inbound.ParseSendGridKey(base64.StdEncoding.EncodeToString(der))
	if err != nil {
		t.Fatal(err)
	}
	st := newSite(t, sqlite(t), func(o *web.Options) { o.Webhooks.SendGridKey = key })
	sg := st.ts.URL + "/webhooks/sendgrid?secret=hook-secret"
	body := `[{"email":"signed@example.com","timestamp":1795000000,"event":"spamreport"}]`
	sign := func(k *ecdsa.PrivateKey, ts, body string) string {
		h := sha256.Sum256([]byte(ts + body))
		sig, err := ecdsa.SignASN1(rand.Reader, k, h[:])
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(sig)
	}
	post := func(sig, ts, body string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, sg, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if sig != "" {
			req.Header.Set("X-Twilio-Email-Event-Webhook-Signature", sig)
			req.Header.Set("X-Twilio-Email-Event-Webhook-Timestamp", ts)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	const ts = "1795000000"
	for name, code := range map[string]int{
		"unsigned":          post("", "", body),
		"signed by another": post(sign(other, ts, body), ts, body),
		"body altered":      post(sign(priv, ts, body), ts, strings.Replace(body, "signed@", "victim@", 1)),
		"timestamp altered": post(sign(priv, ts, body), "1795000001", body),
		"not base64":        post("%%%", ts, body),
	} {
		if code != http.StatusForbidden {
			t.Errorf("%s post = %d, want 403", name, code)
		}
	}
	if sp, _ := st.store.Suppression(t.Context(), "victim@example.com"); sp != nil {
		t.Fatal("a forged post suppressed an address")
	}
	if code := post(sign(priv, ts, body), ts, body); code != http.StatusNoContent {
		t.Fatalf("signed post = %d", code)
	}
	if sp, err := st.store.Suppression(t.Context(), "signed@example.com"); err != nil || sp == nil {
		t.Fatalf("signed complaint not applied: %v", err)
	}
}

// TestSNSTopicAllowlist: with topics configured, a correctly signed
// message from another topic is refused before anything is fetched or
// applied, a subscription confirmation included.
func TestSNSTopicAllowlist(t *testing.T) {
	t.Parallel()
	sns := newFakeSNS(t)
	st := newSite(t, sqlite(t), func(o *web.Options) {
		o.Webhooks.SNSCertHosts = []string{sns.host()}
		o.Webhooks.SNSClient = sns.ts.Client()
		o.Webhooks.SNSTopics = []string{"arn:aws:sns:eu-west-1:123:ses"}
	})
	ses := st.ts.URL + "/webhooks/ses"
	post := func(m map[string]string) int {
		sns.sign(m)
		b, _ := json.Marshal(m)
		return postJSON(t, ses, "sns", "hook-secret", string(b))
	}
	conf := func(topic string) map[string]string {
		return map[string]string{"Type": "SubscriptionConfirmation", "MessageId": "m2", "Token": "tok", "TopicArn": topic,
			"Message": "You have chosen to subscribe", "SubscribeURL": sns.ts.URL + "/confirm", "Timestamp": "2026-11-27T18:00:00.000Z"}
	}
	if code := post(conf("arn:aws:sns:eu-west-1:666:stranger")); code != http.StatusForbidden || sns.confirmed.Load() != 0 {
		t.Fatalf("stranger's topic = %d, confirmed %d", code, sns.confirmed.Load())
	}
	note := map[string]string{"Type": "Notification", "MessageId": "m1", "TopicArn": "arn:aws:sns:eu-west-1:666:stranger",
		"Message": sesBounce("topic@example.com", "Permanent", ""), "Timestamp": "2026-11-27T18:00:00.000Z"}
	if code := post(note); code != http.StatusForbidden {
		t.Fatalf("stranger's notification = %d", code)
	}
	if sp, _ := st.store.Suppression(t.Context(), "topic@example.com"); sp != nil {
		t.Fatal("a stranger's topic suppressed an address")
	}
	if code := post(conf("arn:aws:sns:eu-west-1:123:ses")); code != http.StatusNoContent || sns.confirmed.Load() != 1 {
		t.Fatalf("our topic = %d, confirmed %d", code, sns.confirmed.Load())
	}
}
