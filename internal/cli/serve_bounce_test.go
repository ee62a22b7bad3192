package cli

import (
	"context"
	"net/http"
	"net/smtp"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store"
)

// TestServeTakesBouncesByMail runs herald serve with a bounce domain and
// the inbound listener: a reader signs up, the confirmation goes out with
// the reader's VERP envelope sender, the reader's server bounces it to
// that address through the listener (a real SMTP session), and the address
// is suppressed.
func TestServeTakesBouncesByMail(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "d")
	if _, errs, code := herald(t, nil, nil, "--data", dir, "lists", "create", "daily", "--name", "Daily", "--double-opt-in", "--public"); code != 0 {
		t.Fatalf("lists create: %s", errs)
	}
	sink, err := smtpsink.Start(smtpsink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	// An explicit base_url: mail to readers through a relay needs one.
	vars := map[string]string{"HERALD_BASE_URL": "http://127.0.0.1:8080", "HERALD_RELAY_URL": sink.URL(), "HERALD_ADMIN_PASSWORD": "a long enough password",
		"HERALD_BOUNCE_DOMAIN": "bounces.example.com", "HERALD_BOUNCE_SMTP_ADDR": "127.0.0.1:0"}
	errb := &syncBuffer{}
	base, stop := serveLogging(t, vars, errb, "--data", dir)
	defer stop()
	m := regexp.MustCompile(`msg="taking bounce reports by SMTP" addr=(127\.0\.0\.1:[0-9]+)`).FindStringSubmatch(errb.String())
	if m == nil {
		t.Fatalf("no bounce listener in the log:\n%s", errb.String())
	}
	res, err := http.PostForm(base+"/subscribe/daily/embed", url.Values{"email": {"ada@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for deadline := time.Now().Add(time.Minute); sink.Count() < 1; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no confirmation sent")
		}
	}
	verp := sink.Messages()[0].From
	if !strings.HasPrefix(verp, "bounces+") || !strings.HasSuffix(verp, "@bounces.example.com") {
		t.Fatalf("confirmation envelope sender %q, want the reader's VERP address", verp)
	}
	sample, err := os.ReadFile("../bounce/testdata/postfix_hard.eml")
	if err != nil {
		t.Fatal(err)
	}
	raw := strings.NewReplacer("{{RCPT}}", "ada@example.com", "{{VERP}}", verp, "{{MSGID}}", "x@example.com", "\n", "\r\n").Replace(string(sample))
	if err := smtp.SendMail(m[1], nil, "", []string{verp}, []byte(raw)); err != nil {
		t.Fatalf("bounce to the listener: %v", err)
	}
	st, err := store.Open(context.Background(), store.Options{SQLitePath: filepath.Join(dir, "herald.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	supp, err := st.Suppression(context.Background(), "ada@example.com")
	if err != nil || supp.Reason != model.SuppressHardBounce {
		t.Fatalf("after the bounce: %+v, %v", supp, err)
	}
}
