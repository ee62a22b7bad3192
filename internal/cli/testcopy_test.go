package cli

import (
	"bufio"
	"bytes"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/message"
	"github.com/herald-news/herald/internal/smtpsink"
)

// TestSendTestCopyIsSignedAndLabelled: `herald send --test` copies carry
// what campaign mail carries: a DKIM signature that verifies, Feedback-ID,
// and the list's own List-Id.
func TestSendTestCopyIsSignedAndLabelled(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := "--data=" + dir
	file := filepath.Join(dir, "briefing.md")
	if err := os.WriteFile(file, sample.Source(), 0o644); err != nil {
		t.Fatal(err)
	}
	pem, err := message.GenerateKey("ed25519")
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "dkim.pem")
	if err := os.WriteFile(keyFile, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	key, err := message.ParseKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	record, err := message.DNSRecord(key)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"HERALD_DKIM_KEY_FILE": keyFile, "HERALD_DKIM_SELECTOR": "h1", "HERALD_DKIM_DOMAIN": "ledger.example",
		"HERALD_FROM": "The Ledger <news@ledger.example>"}
	if _, errs, code := herald(t, vars, nil, data, "lists", "create", "evening", "--name", "Evening Ledger"); code != 0 {
		t.Fatalf("lists create: %d %s", code, errs)
	}
	if _, errs, code := herald(t, vars, nil, data, "edition", "import", file); code != 0 {
		t.Fatalf("edition import: %d %s", code, errs)
	}
	sink, err := smtpsink.Start(smtpsink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	out, errs, code := herald(t, vars, nil, data, "send", "--edition", "1", "--list", "evening", "--test", "editor@ledger.example",
		"--relay", sink.URL())
	if code != 0 || !strings.Contains(out, "sent a test copy") {
		t.Fatalf("send --test: %d %q %q", code, out, errs)
	}
	msgs := sink.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages received", len(msgs))
	}
	raw := msgs[0].Raw
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw))).ReadMIMEHeader()
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Get("List-Id"); got != `"Evening Ledger" <evening.ledger.example>` {
		t.Errorf("List-Id = %q, want the list's own", got)
	}
	if got := h.Get("Feedback-Id"); got != "test:evening:herald" {
		t.Errorf("Feedback-ID = %q", got)
	}
	if !strings.HasPrefix(h.Get("Subject"), "[Test]") {
		t.Errorf("Subject = %q", h.Get("Subject"))
	}
	opts := &dkim.VerifyOptions{LookupTXT: func(string) ([]string, error) { return []string{record}, nil }}
	verifs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), opts)
	if err != nil || len(verifs) != 1 || verifs[0].Err != nil || verifs[0].Domain != "ledger.example" {
		t.Fatalf("test copy is not DKIM-signed by ledger.example: %v %+v", err, verifs)
	}
}
