package admin_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/auth"
)

// TestErasedAddressInTheAdmin erases a subscriber from their page: adding
// the address again is refused with words a person understands, until the
// address is lifted on the suppressions page, typed as the person gives it.
func TestErasedAddressInTheAdmin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.login(auth.Editor)
	if res := c.post("/admin/subscribers/"+e.ids["subscriber"]+"/erase", url.Values{"csrf": {c.csrf}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("erase = %d", res.StatusCode)
	}
	add := func() (int, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", e.srv.URL+"/admin/subscribers",
			strings.NewReader(url.Values{"csrf": {c.csrf}, "email": {"reader@example.org"}, "name": {"Back"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res := c.do(req)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := add(); code != http.StatusConflict || !strings.Contains(body, "erased at its owner&#39;s request") {
		t.Fatalf("adding an erased address = %d\n%.2000s", code, body)
	}
	page := c.get("/admin/suppressions")
	if !strings.Contains(page, `action="/admin/suppressions/remove"`) || !strings.Contains(page, `id="lift-email"`) {
		t.Fatalf("the suppressions page has no field to lift an address by hand:\n%.3000s", page)
	}
	res := c.post("/admin/suppressions/remove", url.Values{"csrf": {c.csrf}, "email": {" Reader@EXAMPLE.org "}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("lift = %d", res.StatusCode)
	}
	if !strings.Contains(c.get("/admin/suppressions"), "may be mailed again") {
		t.Error("no word that the address was lifted")
	}
	if code, body := add(); code != http.StatusSeeOther {
		t.Fatalf("adding the address once lifted = %d\n%.2000s", code, body)
	}
}
