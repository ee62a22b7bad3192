package admin_test

import (
	"github.com/herald-news/herald/internal/admin"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/herald-news/herald/internal/auth"
)

// TestOriginCheckBehindAProxy: behind a proxy that rewrites Host (nginx's
// default), the browser's Origin is base_url's, not the Host the server
// sees; admin posts are taken. A post from another origin stays refused.
func TestOriginCheckBehindAProxy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.login(auth.Owner)
	post := func(origin string) int {
		t.Helper()
		form := url.Values{"csrf": {c.csrf}, "query": {"list = nope"}}
		req, _ := http.NewRequest("POST", e.srv.URL+"/admin/segments/count", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, ck := range c.http.Jar.Cookies(req.URL) {
			req.AddCookie(ck) // the client's jar sends none once Host differs
		}
		req.Host = "herald-upstream:8080" // proxy_set_header Host $proxy_host
		req.Header.Set("Origin", origin)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	if code := post(e.srv.URL); code != http.StatusOK {
		t.Errorf("a post from base_url's origin through a proxy: %d, want 200", code)
	}
	if code := post("https://evil.example"); code != http.StatusForbidden {
		t.Errorf("a post from another origin: %d, want 403", code)
	}
}

// countingReader is an endless body that counts what was read of it.
type countingReader struct{ n atomic.Int64 }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	r.n.Add(int64(len(p)))
	return len(p), nil
}

// TestBodiesAreBoundedBeforeParsing: a 300 MB multipart post to the
// sign-in form is cut off at its bound, before the CSRF check, instead of
// being written to disk whole.
func TestBodiesAreBoundedBeforeParsing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	body := &countingReader{}
	head := "--xyz\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"big.bin\"\r\n\r\n"
	tail := "\r\n--xyz--\r\n"
	req, _ := http.NewRequest("POST", e.srv.URL+"/admin/login",
		io.MultiReader(strings.NewReader(head), io.LimitReader(body, 300<<20), strings.NewReader(tail)))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=xyz")
	req.ContentLength = int64(len(head)) + 300<<20 + int64(len(tail))
	res, err := http.DefaultClient.Do(req)
	if err == nil {
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode == http.StatusSeeOther || res.StatusCode == http.StatusOK {
			t.Errorf("an oversized sign-in post answered %d", res.StatusCode)
		}
	}
	if n := body.n.Load(); n > 8<<20 {
		t.Errorf("the server read %d MB of a sign-in post before refusing it", n>>20)
	}
}

// TestSignInThrottleHonoursTrustProxy: behind a proxy (trust_proxy), a
// stranger's failed sign-ins slow the stranger's address, not the owner
// signing in through the same proxy (every attempt came from the proxy's
// address before, so 20 bad guesses locked everyone out).
func TestSignInThrottleHonoursTrustProxy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(d *admin.Deps) { d.TrustProxy = true })
	attempt := func(from, pw string) int {
		t.Helper()
		jar, _ := cookiejar.New(nil)
		hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := hc.Get(e.srv.URL + "/admin/login")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(res.Body)
		res.Body.Close()
		tok := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
		form := url.Values{"csrf": {string(tok[1])}, "email": {"owner@example.com"}, "password": {pw}}
		req, _ := http.NewRequest("POST", e.srv.URL+"/admin/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", from)
		res, err = hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	for range 5 {
		attempt("198.51.100.7", "not the password")
	}
	if code := attempt("198.51.100.7", password); code != http.StatusTooManyRequests {
		t.Errorf("the guessing address: %d, want 429", code)
	}
	if code := attempt("203.0.113.9", password); code != http.StatusSeeOther {
		t.Errorf("the owner through the same proxy: %d, want 303 (signed in)", code)
	}
}
