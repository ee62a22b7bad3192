package admin_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/auth"
)

// idp is a small OpenID provider served over real HTTP on loopback:
// discovery, a JWKS with its RSA key, an authorization endpoint that
// approves at once, and a token endpoint that checks the client secret
// and the PKCE verifier and returns an RS256-signed ID token.
type idp struct {
	t      *testing.T
	srv    *httptest.Server
	key    *rsa.PrivateKey
	secret string

	mu     sync.Mutex
	grants map[string]grant
	// What the next sign-in says, and how it misbehaves.
	claims    map[string]any
	nonce     string        // overrides the nonce Herald sent
	expiresIn time.Duration // the ID token's lifetime (negative: expired)
}

type grant struct {
	nonce, challenge, redirect string
	claims                     map[string]any
}

func newIDP(t *testing.T) *idp {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &idp{t: t, key: key, secret: "provider-secret", grants: map[string]grant{}, expiresIn: 5 * time.Minute}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": p.srv.URL, "authorization_endpoint": p.srv.URL + "/authorize", "token_endpoint": p.srv.URL + "/token",
			"jwks_uri": p.srv.URL + "/jwks", "response_types_supported": []string{"code"},
			"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"},
			"code_challenge_methods_supported": []string{"S256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != "herald" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" ||
			q.Get("nonce") == "" || q.Get("state") == "" || !strings.Contains(q.Get("scope"), "openid") {
			http.Error(w, "bad authorization request", http.StatusBadRequest)
			return
		}
		p.mu.Lock()
		code := rand.Text()
		nonce := q.Get("nonce")
		if p.nonce != "" {
			nonce = p.nonce
		}
		p.grants[code] = grant{nonce: nonce, challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri"), claims: p.claims}
		p.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code="+code+"&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.FormValue("client_id"), r.FormValue("client_secret")
		}
		p.mu.Lock()
		g, found := p.grants[r.FormValue("code")]
		delete(p.grants, r.FormValue("code"))
		exp := p.expiresIn
		p.mu.Unlock()
		sum := sha256.Sum256([]byte(r.FormValue("code_verifier")))
		switch {
		case id != "herald" || secret != p.secret:
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		case !found || g.redirect != r.FormValue("redirect_uri"):
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
			http.Error(w, `{"error":"invalid_grant","error_description":"PKCE"}`, http.StatusBadRequest)
			return
		}
		now := time.Now()
		claims := map[string]any{"iss": p.srv.URL, "aud": "herald", "iat": now.Add(-time.Minute).Unix(), "exp": now.Add(exp).Unix(), "nonce": g.nonce}
		for k, v := range g.claims {
			claims[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at-" + rand.Text(), "token_type": "Bearer", "expires_in": 300,
			"id_token": p.sign(claims)})
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *idp) sign(claims map[string]any) string {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: p.key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		p.t.Fatal(err)
	}
	body, _ := json.Marshal(claims)
	obj, err := s.Sign(body)
	if err != nil {
		p.t.Fatal(err)
	}
	raw, err := obj.CompactSerialize()
	if err != nil {
		p.t.Fatal(err)
	}
	return raw
}

// next sets who the provider signs in next and how.
func (p *idp) next(claims map[string]any, nonce string, expiresIn time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.claims, p.nonce, p.expiresIn = claims, nonce, expiresIn
}

// ssoEnv is a signinEnv with the provider configured as "newsroom".
func ssoEnv(t *testing.T) (*env, string, *idp) {
	p := newIDP(t)
	e, base := signinEnv(t, auth.ProviderConfig{Name: "newsroom", Issuer: p.srv.URL, ClientID: "herald", ClientSecret: p.secret,
		AllowedDomains: []string{"newsroom.example", "example.com"}, RoleClaim: "groups",
		RoleMap:     map[string]auth.Role{"herald-owners": auth.Owner, "herald-editors": auth.Editor},
		DefaultRole: auth.Viewer, AutoCreate: true})
	return e, base, p
}

// ssoSignIn follows the whole round trip in a fresh browser-like client
// (Herald → provider → Herald) and returns the last answer and its page.
func ssoSignIn(t *testing.T, base string) (*http.Client, *http.Response, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	next := base + "/admin/sso/newsroom?next=/admin/campaigns"
	for range 6 {
		res, err := c.Get(next)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		loc := res.Header.Get("Location")
		if res.StatusCode/100 != 3 || strings.HasPrefix(loc, "/admin/campaigns") || loc == "/admin/" {
			return c, res, string(body)
		}
		u, _ := res.Request.URL.Parse(loc)
		next = u.String()
	}
	t.Fatal("too many redirects")
	return nil, nil, ""
}

// TestSSORoundTrip signs in through an OpenID provider over real HTTP:
// a new user is created with the role their group maps to, an existing
// user's role follows their groups, and a wrong nonce, an expired ID
// token, a disallowed domain and a state from another browser are
// refused without a session.
func TestSSORoundTrip(t *testing.T) {
	e, base, p := ssoEnv(t)
	ctx := t.Context()

	p.next(map[string]any{"sub": "u-100", "email": "kim@newsroom.example", "email_verified": true, "name": "Kim Lee",
		"groups": []string{"staff", "herald-editors"}}, "", 5*time.Minute)
	c, res, _ := ssoSignIn(t, base)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/campaigns" {
		t.Fatalf("sign-in: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	u, err := e.st.UserByEmail(ctx, "kim@newsroom.example")
	if err != nil || u.Role != "editor" || u.Name != "Kim Lee" {
		t.Fatalf("created user: %+v, %v", u, err)
	}
	page := getPage(t, c, base+"/admin/account")
	if !strings.Contains(page, "single sign-on (newsroom)") {
		t.Fatalf("the session does not work or does not say how it began:\n%.500s", page)
	}
	// The same account again is found by its subject, not duplicated.
	p.next(map[string]any{"sub": "u-100", "email": "kim@newsroom.example", "groups": []string{"herald-owners"}}, "", 5*time.Minute)
	if _, res, _ := ssoSignIn(t, base); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("second sign-in: %d", res.StatusCode)
	}
	if u, _ := e.st.UserByEmail(ctx, "kim@newsroom.example"); u.Role != "owner" {
		t.Fatalf("role after the owners' group: %s", u.Role)
	}
	// An address the provider does not say is verified cannot link an
	// existing account (whoever can set it there would take it over).
	p.next(map[string]any{"sub": "u-8", "email": "author@example.com", "groups": []string{"herald-editors"}}, "", 5*time.Minute)
	if _, res, _ := ssoSignIn(t, base); res.StatusCode == http.StatusSeeOther {
		t.Fatalf("an unverified address linked an existing account")
	}
	if u, _ := e.st.UserByEmail(ctx, "author@example.com"); u.Role != "author" {
		t.Fatalf("the unverified sign-in changed the account: role %s", u.Role)
	}
	// An existing user, linked by address, takes the role of their groups.
	p.next(map[string]any{"sub": "u-7", "email": "viewer@example.com", "email_verified": true, "groups": []string{"herald-editors"}}, "", 5*time.Minute)
	if _, res, _ := ssoSignIn(t, base); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("existing user: %d", res.StatusCode)
	}
	if u, _ := e.st.UserByEmail(ctx, "viewer@example.com"); u.Role != "editor" {
		t.Fatalf("existing viewer's role: %s, want editor", u.Role)
	}
	// The roles the provider's groups set are in the audit log, as the
	// provider's doing for that person.
	roles := auditEntries(t, e, audit.UserRole)
	if len(roles) != 2 || roles[0].Actor != "sso:newsroom (viewer@example.com)" || roles[0].Via != audit.ViaAdmin ||
		audit.Show(roles[0].Changes["role"].Before) != "viewer" || audit.Show(roles[0].Changes["role"].After) != "editor" ||
		roles[1].Actor != "sso:newsroom (kim@newsroom.example)" || audit.Show(roles[1].Changes["role"].After) != "owner" {
		t.Fatalf("role changes in the audit log: %+v", roles)
	}
	if created := auditEntries(t, e, audit.UserCreate); len(created) != 1 || created[0].Actor != "sso:newsroom (kim@newsroom.example)" {
		t.Fatalf("user creation in the audit log: %+v", created)
	}

	refused := []struct {
		name      string
		claims    map[string]any
		nonce     string
		expiresIn time.Duration
		want      string
	}{
		{"wrong nonce", map[string]any{"sub": "u-100", "email": "kim@newsroom.example"}, "not-the-one-sent", 5 * time.Minute, "nonce"},
		{"expired token", map[string]any{"sub": "u-100", "email": "kim@newsroom.example"}, "", -5 * time.Minute, "expired"},
		{"disallowed domain", map[string]any{"sub": "x-1", "email": "someone@elsewhere.example"}, "", 5 * time.Minute, "elsewhere.example may not sign in"},
		{"unverified address", map[string]any{"sub": "x-2", "email": "pat@newsroom.example", "email_verified": false}, "", 5 * time.Minute, "not verified"},
	}
	for _, tc := range refused {
		p.next(tc.claims, tc.nonce, tc.expiresIn)
		c, res, body := ssoSignIn(t, base)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d, want 400 saying %q:\n%.300s", tc.name, res.StatusCode, tc.want, body)
		}
		if page := getPage(t, c, base+"/admin/campaigns"); strings.Contains(page, "<h1>Campaigns</h1>") {
			t.Errorf("%s: signed in all the same", tc.name)
		}
	}
	if _, err := e.st.UserByEmail(ctx, "someone@elsewhere.example"); err == nil {
		t.Error("a user was created for a disallowed domain")
	}

	// A callback whose state is not the one this browser was given.
	p.next(map[string]any{"sub": "u-100", "email": "kim@newsroom.example"}, "", 5*time.Minute)
	jar, _ := cookiejar.New(nil)
	victim := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err = victim.Get(base + "/admin/sso/newsroom/callback?code=stolen&state=forged")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("a forged state: %d, want 400", res.StatusCode)
	}
	if !strings.Contains(e.logs.String(), "single sign-on refused") {
		t.Fatal("refusals were not logged at all (the check below would prove nothing)")
	}
	e.assertNotLogged(p.secret)
}

// TestPasswordSignInOff: with password sign-in off, the password form and
// passkeys are refused and single sign-on still works; the CLI's policy
// call turns passwords back on.
func TestPasswordSignInOff(t *testing.T) {
	e, base, p := ssoEnv(t)
	ctx := t.Context()
	pol := auth.DefaultPolicy()
	pol.PasswordSignInOff = true
	if err := e.svc.SavePolicy(ctx, pol); err != nil {
		t.Fatal(err)
	}
	c := e.anon()
	if s := c.signIn("owner@example.com").StatusCode; s != http.StatusForbidden {
		t.Fatalf("password sign-in while off: %d, want 403", s)
	}
	if page := c.get("/admin/login"); strings.Contains(page, `id="password"`) || !strings.Contains(page, "Sign in with Newsroom") {
		t.Fatalf("the sign-in page still offers a password, or not the provider:\n%s", page)
	}
	p.next(map[string]any{"sub": "o-1", "email": "owner@example.com", "email_verified": true, "groups": []string{"herald-owners"}}, "", 5*time.Minute)
	if _, res, _ := ssoSignIn(t, base); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("single sign-on while passwords are off: %d", res.StatusCode)
	}
	// Without providers the policy cannot lock everyone out.
	if err := auth.SavePolicy(ctx, e.st, pol, false); err == nil {
		t.Fatal("password sign-in was turned off with no provider")
	}
	pol.PasswordSignInOff = false
	if err := auth.SavePolicy(ctx, e.st, pol, false); err != nil {
		t.Fatal(err)
	}
	if s := e.anon().signIn("owner@example.com").StatusCode; s != http.StatusSeeOther {
		t.Fatalf("password sign-in after turning it back on: %d", s)
	}
}

func getPage(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// TestSSOErrorParameterIsNotEchoed: the provider's error parameter is
// shown only when it is an OAuth error code; free text a crafted link
// carries never reaches the sign-in page.
func TestSSOErrorParameterIsNotEchoed(t *testing.T) {
	_, base, _ := ssoEnv(t)
	for q, want := range map[string]string{
		"error=access_denied": "(access_denied)",
		"error=" + url.QueryEscape("Call support at +1 555 0100"): "did not complete (error)",
	} {
		page := getPage(t, http.DefaultClient, base+"/admin/sso/newsroom/callback?"+q)
		if !strings.Contains(html.UnescapeString(page), want) || strings.Contains(page, "555") {
			t.Errorf("%s: page does not say %q, or echoes the text", q, want)
		}
	}
}
