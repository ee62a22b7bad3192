package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/mailer"
)

// TestErasureReachesTheOutboxAndHoldsOnReimport erases a subscriber with
// `herald subscribers delete`: the copies of mail to them in the built-in
// outbox go too, and importing the same file again leaves them out and
// says so on their line.
func TestErasureReachesTheOutboxAndHoldsOnReimport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := "--data=" + dir
	if _, errs, code := herald(t, nil, nil, data, "lists", "create", "daily", "--name", "Daily"); code != 0 {
		t.Fatalf("lists create: %s", errs)
	}
	file := "email,name\nada@example.com,Ada\nbo@example.com,Bo\n"
	if out, errs, code := herald(t, nil, strings.NewReader(file), data, "import", "--list", "daily", "-"); code != 0 {
		t.Fatalf("import: %d %s %s", code, out, errs)
	}
	outbox, err := mailer.NewOutbox(filepath.Join(dir, "outbox"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"ada@example.com", "Ada@EXAMPLE.com", "bo@example.com"} {
		msg := "From: Daily <news@example.com>\r\nTo: " + to + "\r\nSubject: Today\r\n\r\nHello\r\n"
		if err := outbox.Send(context.Background(), mailer.Envelope{From: "news@example.com", To: to}, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}

	if out, errs, code := herald(t, nil, nil, data, "subscribers", "delete", "ada@example.com"); code != 0 {
		t.Fatalf("delete: %d %s %s", code, out, errs)
	}
	left, err := outbox.List(0, 10)
	if err != nil || len(left) != 1 || left[0].Envelope.To != "bo@example.com" {
		t.Fatalf("outbox after the erasure = %+v, %v; want Bo's message only", left, err)
	}

	out, errs, code := herald(t, nil, strings.NewReader(file), data, "import", "--list", "daily", "-")
	if code != exitRejected || out != "imported 0, updated 1, skipped 0, suppressed 0, rejected 1\n" ||
		!strings.Contains(errs, "line 2: the address was erased at its owner's request") {
		t.Fatalf("re-import: %d %q\n%s", code, out, errs)
	}
	if _, errs, code := herald(t, nil, nil, data, "subscribers", "show", "ada@example.com"); code != 1 || !strings.Contains(errs, "no subscriber") {
		t.Fatalf("show after re-import: %d %s", code, errs)
	}
}
