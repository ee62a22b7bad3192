package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/token"
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

// TestPreferencesNameCarriesNoLink: the preference centre refuses a name
// with a link as the signup form does, and keeps the name as it was.
func TestPreferencesNameCarriesNoLink(t *testing.T) {
	st := newSite(t, sqlite(t), nil)
	id := st.subscriber("ada@example.com", st.daily)
	before, err := st.store.SubscriberByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	tok := st.signer.Sign(token.Claims{Purpose: token.Preferences, SubscriberID: id})
	c := st.client()
	csrf := st.csrf(c, "/preferences/"+tok)
	resp, body := st.post(c, "/preferences/"+tok, url.Values{"csrf": {csrf}, "name": {"Prizes at www.evil.example"}, "list": {itoa(st.daily.ID)}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "cannot hold a web or email address") {
		t.Fatalf("a name with a link = %d:\n%.400s", resp.StatusCode, body)
	}
	if sub, err := st.store.SubscriberByID(context.Background(), id); err != nil || sub.Name != before.Name {
		t.Fatalf("name after the refusal = %q, %v", sub.Name, err)
	}
}
