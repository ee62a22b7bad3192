package inbound

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/model"
)

// The webhook parsers take bodies from anyone who knows (or guesses) the
// webhook secret, and the SNS envelope is parsed before its signature is
// checked. Each fuzz target holds its parser to the same contract: no
// panic, an error only as ErrPayload (or the generic format's
// *UnknownTypeError), and every report actionable: a non-empty address and
// one of the three kinds Apply acts on. Seeds are in code below and
// in testdata/fuzz/<target>/, written from the providers' documented
// payloads.

// checkReports fails t unless every report is actionable.
func checkReports(t *testing.T, body []byte, reps []Report) {
	t.Helper()
	for i, r := range reps {
		if r.Email == "" {
			t.Fatalf("report %d has no email address\nbody: %q", i, body)
		}
		switch r.Kind {
		case model.EventBounce, model.EventSoftBounce, model.EventComplaint:
		default:
			t.Fatalf("report %d has kind %q, which Apply ignores\nbody: %q", i, r.Kind, body)
		}
	}
}

// checkErr fails t unless err is nil or one of the parsers' documented
// errors.
func checkErr(t *testing.T, body []byte, reps []Report, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var unknown *UnknownTypeError
	if !errors.Is(err, ErrPayload) && !errors.As(err, &unknown) {
		t.Fatalf("undocumented error %v\nbody: %q", err, body)
	}
	if len(reps) != 0 {
		t.Fatalf("error %v returned with %d reports\nbody: %q", err, len(reps), body)
	}
}

func FuzzPostmark(f *testing.F) {
	for _, s := range []string{
		`{"RecordType":"Bounce","ID":4323372036854775807,"Type":"HardBounce","TypeCode":1,"Name":"Hard bounce","MessageID":"883953f4-6105-42a2-a16a-77a8eac79483","Description":"The server was unable to deliver your message (ex: unknown user, mailbox not found).","Details":"smtp;550 5.1.1 The email account that you tried to reach does not exist.","Email":"reader@example.com","From":"news@example.org","BouncedAt":"2026-03-02T10:15:00Z","Inactive":true,"CanActivate":true,"Metadata":{"herald-message-id":"<herald.c3.s41@example.org>"}}`,
		`{"RecordType":"Bounce","Type":"SoftBounce","TypeCode":4096,"Email":"full@example.com","Description":"Mailbox full","Details":"452 4.2.2 over quota"}`,
		`{"RecordType":"SpamComplaint","Type":"SpamComplaint","TypeCode":512,"Email":"angry@example.com","MessageID":"00000000-0000-0000-0000-000000000000"}`,
		`{"RecordType":"Bounce","Type":"AutoResponder","TypeCode":2,"Email":"away@example.com"}`,
		`{"RecordType":"Bounce","Type":"HardBounce"}`,
		`[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		reps, err := ParsePostmark(body)
		checkErr(t, body, reps, err)
		checkReports(t, body, reps)
		if len(reps) > 1 {
			t.Fatalf("one Postmark record gave %d reports", len(reps))
		}
	})
}

func FuzzSendGrid(f *testing.F) {
	for _, s := range []string{
		`[{"email":"gone@example.com","timestamp":1772446500,"smtp-id":"<herald.c1.s9@example.org>","event":"bounce","category":["newsletter"],"sg_event_id":"6g4ZI7SA-xmRDv57GoPIPw==","sg_message_id":"filter0307p1las1-16816-5A023E36-1.0","reason":"550 5.1.1 The email account that you tried to reach does not exist.","status":"5.1.1","type":"bounce"},
 {"email":"later@example.com","timestamp":1772446501,"event":"bounce","type":"blocked","status":"4.0.0","reason":"421 try again later"},
 {"email":"angry@example.com","timestamp":1772446502,"event":"spamreport","sg_event_id":"x"},
 {"email":"fine@example.com","timestamp":1772446503,"event":"delivered","response":"250 OK"},
 {"email":"reader@example.com","timestamp":1772446504,"event":"open","useragent":"Mozilla/5.0"}]`,
		`[{"event":"bounce","type":"bounce"}]`,
		`[{"email":"x@example.com","event":"dropped","reason":"Bounced Address","status":"5.0.0"}]`,
		`{"email":"x@example.com","event":"bounce"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		reps, err := ParseSendGrid(body)
		checkErr(t, body, reps, err)
		checkReports(t, body, reps)
	})
}

func FuzzGeneric(f *testing.F) {
	for _, s := range []string{
		`{"type":"hard_bounce","email":"gone@example.com","message_id":"<herald.c2.s7@example.org>","detail":"550 5.1.1 user unknown"}`,
		`[{"type":"soft_bounce","email":"full@example.com","detail":"452 mailbox full"},{"type":"complaint","email":"angry@example.com"}]`,
		`{"events":[{"type":"bounce","email":"a@example.com"},{"type":"complaint","email":"b@example.com"}]}`,
		`{"type":"teleport","email":"a@example.com"}`,
		`  [ ]`,
		`null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		reps, err := ParseGeneric(body)
		checkErr(t, body, reps, err)
		checkReports(t, body, reps)
	})
}

// failTransport fails every request, so a fuzz target that reached the
// network would fail instead.
type failTransport struct{ t *testing.T }

func (ft failTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	ft.t.Errorf("the SNS parse made a request to %s", r.URL)
	return nil, errors.New("no network in a fuzz target")
}

// FuzzSNS fuzzes the SNS envelope as it arrives, before its signature is
// checked: ParseSNS, the string it would sign, the certificate URL
// allowlist, and ParseSES of a notification's message. None of it may
// touch the network.
func FuzzSNS(f *testing.F) {
	// Fuzz targets run after every test of the package, so swapping the
	// default transport here disturbs no other test.
	saved := http.DefaultTransport
	f.Cleanup(func() { http.DefaultTransport = saved })
	for _, s := range []string{
		`{"Type":"Notification","MessageId":"22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324","TopicArn":"arn:aws:sns:eu-west-1:123456789012:herald-ses","Message":"{\"notificationType\":\"Bounce\",\"bounce\":{\"bounceType\":\"Permanent\",\"bounceSubType\":\"General\",\"bouncedRecipients\":[{\"emailAddress\":\"gone@example.com\",\"action\":\"failed\",\"status\":\"5.1.1\",\"diagnosticCode\":\"smtp; 550 5.1.1 user unknown\"}],\"timestamp\":\"2026-03-02T10:15:00.000Z\",\"feedbackId\":\"0100017e-abc\"},\"mail\":{\"timestamp\":\"2026-03-02T10:14:58.000Z\",\"source\":\"news@example.org\",\"messageId\":\"0100017e-def\",\"destination\":[\"gone@example.com\"],\"headersTruncated\":false,\"headers\":[{\"name\":\"Message-ID\",\"value\":\"<herald.c3.s41@example.org>\"}],\"commonHeaders\":{\"messageId\":\"<herald.c3.s41@example.org>\"}}}","Timestamp":"2026-03-02T10:15:01.000Z","SignatureVersion":"1","Signature":"EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=","SigningCertURL":"https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem","UnsubscribeURL":"https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:eu-west-1:123456789012:herald-ses:1"}`,
		`{"Type":"SubscriptionConfirmation","MessageId":"165545c9-2a5c-472c-8df2-7ff2be2b3b1b","Token":"2336412f37f","TopicArn":"arn:aws:sns:eu-west-1:123456789012:herald-ses","Message":"You have chosen to subscribe to the topic.","SubscribeURL":"https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:eu-west-1:123456789012:herald-ses&Token=2336412f37f","Timestamp":"2026-03-02T10:00:00.000Z","SignatureVersion":"2","Signature":"AAAA","SigningCertURL":"https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-1.pem"}`,
		`{"Type":"UnsubscribeConfirmation","MessageId":"47138184-6831-46b8-8f7c-afc488602d7d","Token":"2336412f37","TopicArn":"arn:aws:sns:eu-west-1:123456789012:herald-ses","Message":"You have unsubscribed.","SigningCertURL":"https://evil.example/x.pem"}`,
		`{"Type":"Notification","Message":"not json","SigningCertURL":"https://sns.x.amazonaws.com@evil.example/a.pem"}`,
		`{"Type":""}`,
	} {
		f.Add([]byte(s))
	}
	v := NewSNSVerifier([]string{"sns.*.amazonaws.com", "sns.*.amazonaws.com.cn"}, nil)
	f.Fuzz(func(t *testing.T, body []byte) {
		http.DefaultTransport = failTransport{t: t}
		m, err := ParseSNS(body)
		if err != nil {
			if !errors.Is(err, ErrPayload) || m != nil {
				t.Fatalf("ParseSNS = %v, %v", m, err)
			}
			return
		}
		if m.Type == "" {
			t.Fatalf("ParseSNS accepted a message with no Type: %q", body)
		}
		_ = m.stringToSign()
		for _, raw := range []string{m.SigningCertURL, m.SubscribeURL} {
			checkAllowed(t, v, raw)
		}
		if m.Type == "Notification" {
			reps, err := ParseSES(m.Message)
			checkErr(t, body, reps, err)
			checkReports(t, body, reps)
		}
	})
}

// checkAllowed fails t when the allowlist lets through a URL that is not
// https on an SNS host of AWS.
func checkAllowed(t *testing.T, v *SNSVerifier, raw string) {
	t.Helper()
	if !v.AllowedURL(raw) {
		return
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.User != nil {
		t.Fatalf("AllowedURL(%q) = true", raw)
	}
	host := strings.ToLower(u.Hostname())
	if !strings.HasPrefix(host, "sns.") ||
		!(strings.HasSuffix(host, ".amazonaws.com") || strings.HasSuffix(host, ".amazonaws.com.cn")) {
		t.Fatalf("AllowedURL(%q) = true for host %q", raw, host)
	}
}

// FuzzSES fuzzes the SES notification inside an SNS message directly,
// where mutations reach the notification's fields more easily than
// through the envelope's escaped string.
func FuzzSES(f *testing.F) {
	for _, s := range []string{
		`{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bounceSubType":"General","bouncedRecipients":[{"emailAddress":"gone@example.com","action":"failed","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"}],"timestamp":"2026-03-02T10:15:00.000Z","feedbackId":"0100017e-abc"},"mail":{"timestamp":"2026-03-02T10:14:58.000Z","source":"news@example.org","messageId":"0100017e-def","destination":["gone@example.com"],"commonHeaders":{"messageId":"<herald.c3.s41@example.org>"}}}`,
		`{"notificationType":"Bounce","bounce":{"bounceType":"Transient","bounceSubType":"MailboxFull","bouncedRecipients":[{"emailAddress":"full@example.com"},{"emailAddress":""}]},"mail":{"headers":[{"name":"Message-Id","value":"<herald.c1.s2@example.org>"}]}}`,
		`{"notificationType":"Complaint","complaint":{"complainedRecipients":[{"emailAddress":"angry@example.com"}],"timestamp":"2026-03-02T11:00:00.000Z","feedbackId":"0100017e-ghi","complaintFeedbackType":"abuse","userAgent":"ExampleISP Feedback Loop (V0.01)"},"mail":{"messageId":"0100017e-jkl"}}`,
		`{"eventType":"Bounce","bounce":{"bounceType":"Undetermined","bouncedRecipients":[{"emailAddress":"who@example.com"}]}}`,
		`{"notificationType":"Delivery","delivery":{"recipients":["fine@example.com"],"smtpResponse":"250 2.0.0 OK"}}`,
		`[1,2,3]`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		reps, err := ParseSES(msg)
		checkErr(t, []byte(msg), reps, err)
		checkReports(t, []byte(msg), reps)
	})
}
