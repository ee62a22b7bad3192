package message

import (
	"bytes"
	"crypto"
	"errors"
	"io"
	"net/mail"
	"strings"
	"testing"
	"time"

	gomessage "github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-msgauth/dkim"
)

func testConfig() Config {
	return Config{
		From:              Address{Name: "The Evening Ledger", Email: "briefing@ledger.example"},
		ReplyTo:           Address{Name: "Desk", Email: "desk@ledger.example"},
		Subject:           "Harbour vote delayed again",
		ListID:            "evening.ledger.example",
		ListName:          "Evening Ledger",
		FeedbackID:        "c17:evening:herald",
		UnsubscribeMailto: "unsubscribe@ledger.example",
		Headers:           []Field{{Key: "X-Campaign", Value: "17"}},
	}
}

func testMessage() *Message {
	return &Message{
		To:             Address{Name: "Ana Reader", Email: "ana@readers.example"},
		MessageID:      ID(17, 4242, "ledger.example"),
		Date:           time.Date(2026, 3, 4, 18, 30, 0, 0, time.UTC),
		UnsubscribeURL: "https://ledger.example/u/one-click?t=abc123",
		Text:           []byte("Good evening.\nThe harbour vote is delayed: read https://ledger.example/a/1\n"),
		HTML:           []byte("<p>Good evening.</p>\n<p>The harbour vote is <a href=\"https://ledger.example/a/1\">delayed</a>.</p>\n"),
	}
}

func build(t testing.TB, cfg Config, m *Message) []byte {
	t.Helper()
	tpl, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	out, err := tpl.Append(nil, m)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return out
}

func TestBuildParsesWithEveryHeader(t *testing.T) {
	raw := build(t, testConfig(), testMessage())

	// net/mail: the header as a plain RFC 5322 reader sees it.
	nm, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("net/mail: %v\n%s", err, raw)
	}
	want := map[string]string{
		"From":                  `"The Evening Ledger" <briefing@ledger.example>`,
		"Reply-To":              `"Desk" <desk@ledger.example>`,
		"To":                    `"Ana Reader" <ana@readers.example>`,
		"Subject":               "Harbour vote delayed again",
		"Date":                  "Wed, 04 Mar 2026 18:30:00 +0000",
		"Message-Id":            "<herald.c17.s4242@ledger.example>",
		"Mime-Version":          "1.0",
		"List-Unsubscribe":      "<https://ledger.example/u/one-click?t=abc123>, <mailto:unsubscribe@ledger.example>",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		"List-Id":               `"Evening Ledger" <evening.ledger.example>`,
		"Feedback-Id":           "c17:evening:herald",
		"X-Campaign":            "17",
	}
	for k, v := range want {
		if got := nm.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if _, err := nm.Header.AddressList("To"); err != nil {
		t.Errorf("To does not parse: %v", err)
	}

	// go-message: the MIME structure.
	mr, err := gomail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("go-message: %v", err)
	}
	if mt, _, _ := mr.Header.ContentType(); mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q", mt)
	}
	var types []string
	var bodies []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("NextPart: %v", err)
		}
		h := p.Header.(*gomail.InlineHeader)
		mt, params, _ := h.ContentType()
		if params["charset"] != "utf-8" || h.Get("Content-Transfer-Encoding") != "quoted-printable" {
			t.Errorf("part %s: charset %q, encoding %q", mt, params["charset"], h.Get("Content-Transfer-Encoding"))
		}
		b, _ := io.ReadAll(p.Body)
		types = append(types, mt)
		bodies = append(bodies, string(b))
	}
	if strings.Join(types, ",") != "text/plain,text/html" {
		t.Fatalf("parts %v", types)
	}
	m := testMessage()
	if bodies[0] != strings.ReplaceAll(string(m.Text), "\n", "\r\n") || bodies[1] != strings.ReplaceAll(string(m.HTML), "\n", "\r\n") {
		t.Errorf("bodies differ after decoding:\n%q\n%q", bodies[0], bodies[1])
	}
	for i, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 998 {
			t.Errorf("line %d is %d bytes", i, len(line))
		}
	}
}

func TestNonASCIIEncoded(t *testing.T) {
	cfg := testConfig()
	cfg.From.Name = "Le Café Quotidien"
	cfg.ListName = "Zürich Abend"
	m := testMessage()
	m.To.Name = "Zoë Ŝmith-Łukasz"
	m.Subject = "Ceasefire talks: “no deal” — what’s next for Kyiv? Ünïcödé and a long tail of words to fold the line"
	m.Text = []byte("Straße, café, naïve — ✓\n")
	raw := build(t, cfg, m)

	head := string(raw[:bytes.Index(raw, []byte("\r\n\r\n"))])
	for i := 0; i < len(head); i++ {
		if head[i] >= 0x80 {
			t.Fatalf("raw header holds 8-bit byte at %d:\n%s", i, head)
		}
	}
	mr, err := gomail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	subj, err := mr.Header.Subject()
	if err != nil || subj != m.Subject {
		t.Errorf("Subject = %q, %v", subj, err)
	}
	to, err := mr.Header.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Name != m.To.Name || to[0].Address != m.To.Email {
		t.Errorf("To = %v, %v", to, err)
	}
	from, err := mr.Header.AddressList("From")
	if err != nil || from[0].Name != cfg.From.Name {
		t.Errorf("From = %v, %v", from, err)
	}
	if !strings.Contains(mr.Header.Get("List-Id"), "<evening.ledger.example>") {
		t.Errorf("List-Id = %q", mr.Header.Get("List-Id"))
	}
	p, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(p.Body)
	if string(b) != "Straße, café, naïve — ✓\r\n" {
		t.Errorf("text body %q", b)
	}
}

func TestHeaderInjectionRefused(t *testing.T) {
	evil := "x\r\nBcc: victim@example.com"
	cases := map[string]func(*Config, *Message){
		"to name":      func(c *Config, m *Message) { m.To.Name = evil },
		"to email":     func(c *Config, m *Message) { m.To.Email = "a@b.example\nBcc: v@x" },
		"subject":      func(c *Config, m *Message) { m.Subject = evil },
		"subject LF":   func(c *Config, m *Message) { m.Subject = "a\nb" },
		"message-id":   func(c *Config, m *Message) { m.MessageID = "a@b\r\nX: y" },
		"unsubscribe":  func(c *Config, m *Message) { m.UnsubscribeURL = "https://x.example/u\r\nBcc: a@b" },
		"mailto":       func(c *Config, m *Message) { m.UnsubscribeMailto = "u@x.example\rX: 1" },
		"extra value":  func(c *Config, m *Message) { m.Headers = []Field{{Key: "X-Tag", Value: evil}} },
		"extra key":    func(c *Config, m *Message) { m.Headers = []Field{{Key: "X-Tag\r\nBcc", Value: "v"}} },
		"from name":    func(c *Config, m *Message) { c.From.Name = evil },
		"reply-to":     func(c *Config, m *Message) { c.ReplyTo.Email = "r@x.example\n" },
		"cfg subject":  func(c *Config, m *Message) { c.Subject = evil; m.Subject = "" },
		"list name":    func(c *Config, m *Message) { c.ListName = evil },
		"feedback id":  func(c *Config, m *Message) { c.FeedbackID = "a:b\r\nX: y" },
		"cfg header":   func(c *Config, m *Message) { c.Headers = []Field{{Key: "X-A", Value: "1\n2"}} },
		"NUL in value": func(c *Config, m *Message) { m.Subject = "a\x00b" },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			cfg, m := testConfig(), testMessage()
			mutate(&cfg, m)
			tpl, err := New(cfg)
			if err == nil {
				dst := []byte("keep")
				var out []byte
				out, err = tpl.Append(dst, m)
				if err != nil && string(out) != "keep" {
					t.Errorf("dst changed on error: %q", out)
				}
			}
			if !errors.Is(err, ErrHeaderInjection) {
				t.Fatalf("err = %v, want ErrHeaderInjection", err)
			}
		})
	}
}

func TestInvalidFieldsRefused(t *testing.T) {
	cases := map[string]func(*Config, *Message){
		"no unsubscribe":     func(c *Config, m *Message) { m.UnsubscribeURL = "" },
		"relative unsub":     func(c *Config, m *Message) { m.UnsubscribeURL = "/u/1" },
		"no body":            func(c *Config, m *Message) { m.Text, m.HTML = nil, nil },
		"bad to":             func(c *Config, m *Message) { m.To.Email = "not-an-address" },
		"bracketed id":       func(c *Config, m *Message) { m.MessageID = "<a@b>" },
		"reserved extra":     func(c *Config, m *Message) { m.Headers = []Field{{Key: "bcc", Value: "x@y.example"}} },
		"no list id":         func(c *Config, m *Message) { c.ListID = "" },
		"list id with space": func(c *Config, m *Message) { c.ListID = "a b.example" },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			cfg, m := testConfig(), testMessage()
			mutate(&cfg, m)
			tpl, err := New(cfg)
			if err == nil {
				_, err = tpl.Append(nil, m)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestAppendKeepsPrefixAndReusesBuffer(t *testing.T) {
	tpl, err := New(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	buf := []byte("prefix")
	out, err := tpl.Append(buf, testMessage())
	if err != nil || !bytes.HasPrefix(out, []byte("prefixFrom: ")) {
		t.Fatalf("Append: %v %q", err, out[:min(len(out), 20)])
	}
	again, err := tpl.Append(out[:0], testMessage())
	if err != nil || &again[0] != &out[0] {
		t.Errorf("second Append did not reuse the buffer (err %v)", err)
	}
}

func testKey(t testing.TB, alg string) crypto.Signer {
	t.Helper()
	pemKey, err := GenerateKey(alg)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseKey(pemKey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestDKIMVerifies(t *testing.T) {
	for _, alg := range []string{"rsa", "ed25519"} {
		t.Run(alg, func(t *testing.T) {
			key := testKey(t, alg)
			record, err := DNSRecord(key)
			if err != nil {
				t.Fatal(err)
			}
			cfg := testConfig()
			cfg.DKIM = &DKIM{Domain: "ledger.example", Selector: "h2026", Key: key}
			m := testMessage()
			m.Subject = "Über den Hafen — ein Bericht"
			raw := build(t, cfg, m)
			if !bytes.HasPrefix(raw, []byte("DKIM-Signature: ")) {
				t.Fatalf("no signature first:\n%s", raw[:200])
			}
			lookups := 0
			opts := &dkim.VerifyOptions{LookupTXT: func(name string) ([]string, error) {
				lookups++
				if name != DNSName("h2026", "ledger.example") {
					t.Errorf("lookup %q", name)
				}
				return []string{record}, nil
			}}
			verifs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), opts)
			if err != nil || len(verifs) != 1 {
				t.Fatalf("verify: %v %v", verifs, err)
			}
			v := verifs[0]
			if v.Err != nil || v.Domain != "ledger.example" || lookups != 1 {
				t.Fatalf("verification failed: %v (domain %q)", v.Err, v.Domain)
			}
			signed := strings.ToLower(strings.Join(v.HeaderKeys, ":"))
			for _, h := range SignedHeaders {
				if !strings.Contains(signed, strings.ToLower(h)) {
					t.Errorf("%s not signed (h=%s)", h, signed)
				}
			}
			// The parsed message is still valid MIME after signing.
			if _, err := gomessage.Read(bytes.NewReader(raw)); err != nil {
				t.Errorf("signed message does not parse: %v", err)
			}
			// Tampering with a signed header breaks the signature.
			bad := bytes.Replace(raw, []byte("t=abc123"), []byte("t=abc124"), 1)
			verifs, err = dkim.VerifyWithOptions(bytes.NewReader(bad), opts)
			if err != nil || verifs[0].Err == nil {
				t.Errorf("tampered message verified: %v", err)
			}
		})
	}
}

func TestKeyChecks(t *testing.T) {
	if _, err := ParseKey([]byte("not pem")); err == nil {
		t.Error("garbage accepted")
	}
	if _, err := GenerateKey("dsa"); err == nil {
		t.Error("unknown algorithm accepted")
	}
	rec, err := DNSRecord(testKey(t, "ed25519"))
	if err != nil || !strings.HasPrefix(rec, "v=DKIM1; k=ed25519; p=") {
		t.Errorf("DNSRecord = %q, %v", rec, err)
	}
	long := strings.Repeat("a", 600)
	if got := SplitTXT(long); strings.Count(got, `"`) != 6 {
		t.Errorf("SplitTXT made %s", got)
	}
}

// benchBodies returns a ~25 KB message: ~18 KB HTML and ~7 KB text.
func benchBodies() (text, html []byte) {
	para := "The council's harbour committee met on Tuesday and, after three hours, agreed on nothing — café owners in the old town say “again”. "
	var tb, hb bytes.Buffer
	for hb.Len() < 18000 {
		hb.WriteString(`<tr><td style="padding:0 24px 16px 24px;font-family:Georgia,serif;font-size:17px;line-height:1.5;color:#222222;"><p>`)
		hb.WriteString(para)
		hb.WriteString(`<a href="https://ledger.example/r/17/4242/9?u=abcdef">Read more</a></p></td></tr>` + "\n")
	}
	for tb.Len() < 7000 {
		tb.WriteString(para + "\n[1] https://ledger.example/a/9\n\n")
	}
	return tb.Bytes(), hb.Bytes()
}

func benchmarkBuild(b *testing.B, alg string) {
	cfg := testConfig()
	if alg != "" {
		cfg.DKIM = &DKIM{Domain: "ledger.example", Selector: "h", Key: testKey(b, alg)}
	}
	tpl, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	m := testMessage()
	m.Text, m.HTML = benchBodies()
	var buf []byte
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		buf, err = tpl.Append(buf[:0], m)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkBuild measures one ~25 KB message per iteration.
func BenchmarkBuild(b *testing.B) {
	b.Run("plain", func(b *testing.B) { benchmarkBuild(b, "") })
	b.Run("dkim-ed25519", func(b *testing.B) { benchmarkBuild(b, "ed25519") })
	b.Run("dkim-rsa2048", func(b *testing.B) { benchmarkBuild(b, "rsa") })
}

// TestStaffMailHasNoListHeaders: mail to the newsroom (Staff) needs no
// list or unsubscribe URL and carries no list headers; everything else,
// Feedback-ID included, is as for readers.
func TestStaffMailHasNoListHeaders(t *testing.T) {
	cfg, m := testConfig(), testMessage()
	cfg.Staff, cfg.ListID, cfg.ListName, cfg.UnsubscribeMailto, cfg.FeedbackID = true, "", "", "", "reminder:s3:herald"
	m.UnsubscribeURL = ""
	msg, err := mail.ReadMessage(bytes.NewReader(build(t, cfg, m)))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"List-Id", "List-Unsubscribe", "List-Unsubscribe-Post"} {
		if v := msg.Header.Get(k); v != "" {
			t.Errorf("%s = %q in staff mail", k, v)
		}
	}
	if got := msg.Header.Get("Feedback-ID"); got != "reminder:s3:herald" {
		t.Errorf("Feedback-ID = %q", got)
	}
}
