package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/store"
)

// TestSignupNameCarriesNoLink: a public signup whose name holds a link or
// an address, or is over 100 characters, is refused with the reason and
// stores nothing; a plain name signs up.
func TestSignupNameCarriesNoLink(t *testing.T) {
	st := newSite(t, sqlite(t), nil)
	ctx := context.Background()
	c := st.client()
	for email, name := range map[string]string{
		"link@example.com": "=HYPERLINK(\"http://evil.example/x\",\"Win\")",
		"addr@example.com": "write to prizes@evil.example",
		"long@example.com": strings.Repeat("a", 101),
	} {
		resp, body := st.post(c, "/subscribe/daily/embed", url.Values{"email": {email}, "name": {name}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "A name ") {
			t.Errorf("signup with name %q = %d:\n%.400s", name, resp.StatusCode, body)
		}
		if _, err := st.store.SubscriberByEmail(ctx, email); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a refused signup stored %s: %v", email, err)
		}
	}
	if resp, _ := st.post(c, "/subscribe/daily/embed", url.Values{"email": {"ada@example.com"}, "name": {"Ada Lovelace"}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("plain signup = %d", resp.StatusCode)
	}
	if sub, err := st.store.SubscriberByEmail(ctx, "ada@example.com"); err != nil || sub.Name != "Ada Lovelace" {
		t.Fatalf("plain signup stored %+v, %v", sub, err)
	}
}
