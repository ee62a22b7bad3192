package admin_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/auth"
)

// TestGeneratedDKIMKeySignsTestSendsAtOnce: a key generated in the settings
// signs the next test send, with no restart.
func TestGeneratedDKIMKeySignsTestSendsAtOnce(t *testing.T) {
	e := newEnv(t, nil)
	owner := e.login(auth.Owner)
	res := owner.post("/admin/settings/dkim", url.Values{"csrf": {owner.csrf}, "algorithm": {"ed25519"}, "selector": {"h2026"}, "domain": {"example.com"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("generate = %d", res.StatusCode)
	}
	res = owner.post("/admin/campaigns/"+e.ids["campaign"]+"/test", url.Values{"csrf": {owner.csrf}, "to": {"editor@example.com"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("test send = %d", res.StatusCode)
	}
	items, err := e.outbox.List(0, 10)
	if err != nil || len(items) != 1 {
		t.Fatalf("outbox = %d, %v", len(items), err)
	}
	_, raw, err := e.outbox.Get(items[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "DKIM-Signature:") || !strings.Contains(string(raw), "s=h2026") || !strings.Contains(string(raw), "d=example.com") {
		t.Fatalf("the test send is not signed with the new key:\n%.600s", raw)
	}
}
