package bounce

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/model"
)

// sample is one report in testdata and what Herald must make of it.
type sample struct {
	file   string
	kind   model.EventKind // "" when nothing is to be recorded
	status string          // the enhanced status code read, if any
}

var samples = []sample{
	{"postfix_hard.eml", model.EventBounce, "5.1.1"},
	{"postfix_expired.eml", model.EventSoftBounce, "4.4.1"},
	{"postfix_delayed.eml", "", ""},
	{"exchange_ndr.eml", model.EventBounce, "5.1.10"},
	{"outlook_dsn.eml", model.EventBounce, "5.1.10"},
	{"gmail_dsn_soft.eml", model.EventSoftBounce, "4.2.2"},
	{"gmail_plain.eml", model.EventBounce, "5.1.1"},
	{"qmail.eml", model.EventBounce, "5.1.1"},
	{"yahoo.eml", model.EventBounce, ""},
	{"arf_complaint.eml", model.EventComplaint, ""},
	{"autoreply.eml", "", ""},
}

// fill reads a sample with its placeholders filled in, line endings CRLF
// as on the wire.
func fill(t testing.TB, file, rcpt, verp, msgID string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer("{{RCPT}}", rcpt, "{{VERP}}", verp, "{{MSGID}}", msgID).Replace(string(b))
	return []byte(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n"))
}
