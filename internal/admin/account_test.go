package admin_test

import (
	"html"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestSignInRefusalsInTheBrowsersLanguage: before signing in, the sign-in
// pages and their refusals follow the browser's Accept-Language: a
// single sign-on refusal, the forgotten-password page and the sign-in
// page's other doors read German for a German browser.
func TestSignInRefusalsInTheBrowsersLanguage(t *testing.T) {
	_, base, _ := ssoEnv(t)
	get := func(path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Accept-Language", "de-DE,de;q=0.9,en;q=0.5")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, html.UnescapeString(string(b))
	}
	if code, page := get("/admin/sso/nosuch"); code != http.StatusNotFound || !strings.Contains(page, "Es gibt keinen Single-Sign-on-Anbieter namens nosuch.") {
		t.Errorf("an unknown provider: %d\n%s", code, page)
	}
	_, page := get("/admin/login")
	for _, w := range []string{"Passwort vergessen?", "Mit einem Passkey anmelden", "Mit Newsroom anmelden", `data-msg-closed="Die Passkey-Abfrage wurde geschlossen oder ist abgelaufen."`} {
		if !strings.Contains(page, w) {
			t.Errorf("the German sign-in page lacks %q", w)
		}
	}
	if _, page := get("/admin/forgot"); !strings.Contains(page, "<h1>Passwort vergessen?</h1>") || !strings.Contains(page, "Link senden") {
		t.Errorf("the German forgotten-password page:\n%s", page)
	}
	if code, page := get("/admin/reset/forged"); code != http.StatusNotFound || !strings.Contains(page, "älter als 30 Minuten") {
		t.Errorf("a forged reset link: %d\n%s", code, page)
	}
}
