package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/unfurl"
	"github.com/herald-news/herald/internal/validator"
)

// ProviderConfig is one OpenID Connect provider ([oidc.NAME] in the
// configuration file).
type ProviderConfig struct {
	Name         string
	Issuer       string
	ClientID     string
	ClientSecret string
	// AllowedDomains are the email domains that may sign in (none: any).
	AllowedDomains []string
	// RoleClaim names the ID token claim holding groups or roles
	// ("groups"); RoleMap maps its values to Herald roles, the most
	// powerful match winning. Without a match, DefaultRole (if set).
	RoleClaim   string
	RoleMap     map[string]Role
	DefaultRole Role
	// AutoCreate makes a user at first sign-in; otherwise an owner adds
	// them first.
	AutoCreate bool
	// TrustUnverifiedEmail links an existing account by an address the
	// provider does not mark verified (config trust_unverified_email).
	TrustUnverifiedEmail bool
}

// SSOError is a single sign-on refused, with a reason for the person:
// Reason in English, and Code naming the refusal with Args (Provider,
// Email, Domain) for a front door that words it in another language.
type SSOError struct {
	Code, Reason string
	Args         map[string]string
}

// Error returns the reason.
func (e *SSOError) Error() string { return e.Reason }

// ssoErr is the refusal code, in words made of format and args; names
// gives the values a translation fills in.
func ssoErr(code string, names map[string]string, format string, args ...any) error {
	return &SSOError{Code: code, Reason: fmt.Sprintf(format, args...), Args: names}
}

// prov names a provider for ssoErr.
func prov(name string) map[string]string { return map[string]string{"Provider": name} }

// ssoTTL bounds the round trip through the provider.
const ssoTTL = 10 * time.Minute

const challengeSSO = "sso"

// provider is a configured provider, discovered at first use (so Herald
// starts while the provider is down).
type provider struct {
	cfg    ProviderConfig
	client *http.Client
	mu     sync.Mutex
	p      *oidc.Provider
}

func newProviders(opts Options) map[string]*provider {
	out := map[string]*provider{}
	for _, pc := range opts.Providers {
		c := opts.SSOClient
		if c == nil {
			c = unfurl.NewClient(unfurl.Options{Allow: issuerAddrs(pc.Issuer)})
		}
		out[pc.Name] = &provider{cfg: pc, client: c}
	}
	return out
}

// issuerAddrs are the issuer host's own addresses when they are private:
// a provider inside the newsroom's network (Keycloak, Authentik) is
// reachable, while everything else the discovery document could point at
// stays behind the SSRF-safe client's rules.
func issuerAddrs(issuer string) []netip.Prefix {
	u, err := url.Parse(issuer)
	if err != nil {
		return nil
	}
	ips, err := net.LookupIP(u.Hostname())
	if err != nil {
		return nil
	}
	var out []netip.Prefix
	for _, ip := range ips {
		if a, ok := netip.AddrFromSlice(ip); ok {
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return out
}

func (p *provider) discover(ctx context.Context) (*oidc.Provider, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.p != nil {
		return p.p, nil
	}
	dp, err := oidc.NewProvider(oidc.ClientContext(ctx, p.client), p.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("single sign-on %s: discovery at %s: %w", p.cfg.Name, p.cfg.Issuer, err)
	}
	p.p = dp
	return dp, nil
}

func (s *Service) oauth(ctx context.Context, name string) (*provider, *oidc.Provider, *oauth2.Config, error) {
	p := s.sso[name]
	if p == nil {
		return nil, nil, nil, ssoErr("no_provider", prov(name), "there is no single sign-on provider named %q", name)
	}
	dp, err := p.discover(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	oc := &oauth2.Config{ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret, Endpoint: dp.Endpoint(),
		RedirectURL: strings.TrimSuffix(s.opts.BaseURL, "/") + "/admin/sso/" + name + "/callback",
		Scopes:      []string{oidc.ScopeOpenID, "email", "profile"}}
	return p, dp, oc, nil
}

// Providers returns the names of the single sign-on providers, sorted.
func (s *Service) Providers() []string {
	var out []string
	for n := range s.sso {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// ssoState is what Herald remembers of a round trip through a provider.
type ssoState struct {
	Provider string `json:"provider"`
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
	Next     string `json:"next"`
}

// StartSSO begins a sign-in through provider name: it returns the
// provider's address to send the browser to, and the state value the
// browser must keep (a cookie) and bring back. The nonce and PKCE verifier
// stay in the store.
func (s *Service) StartSSO(ctx context.Context, name, next string) (redirect, state string, err error) {
	_, _, oc, err := s.oauth(ctx, name)
	if err != nil {
		return "", "", err
	}
	st := ssoState{Provider: name, Nonce: randomToken(24), Verifier: oauth2.GenerateVerifier(), Next: next}
	data, err := json.Marshal(st)
	if err != nil {
		return "", "", err
	}
	state = randomToken(32)
	if err := s.st.PutChallenge(ctx, &store.Challenge{IDHash: hash(state), Kind: challengeSSO, Data: string(data),
		ExpiresAt: s.opts.Now().Add(ssoTTL)}); err != nil {
		return "", "", err
	}
	return oc.AuthCodeURL(state, oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier)), state, nil
}

// SSOResult is a finished single sign-on.
type SSOResult struct {
	Cookie   string
	Identity *Identity
	Next     string
	Created  bool // the user was created by this sign-in
	// RoleFrom is the role the user had before the provider's claim
	// changed it ("" when unchanged).
	RoleFrom Role
}

// FinishSSO completes a sign-in through provider name: the state the
// browser kept (cookieState) must be the one the provider sent back, the
// code is exchanged with the PKCE verifier, the ID token's signature,
// issuer, audience, expiry and nonce are checked, then the email domain.
// The user is found by their provider account, else by email (and
// linked), else created when the provider allows it; the role claim, when
// configured, sets their role at each sign-in.
func (s *Service) FinishSSO(ctx context.Context, name, cookieState, state, code string, c Client) (*SSOResult, error) {
	// Not throttled: nothing here can be guessed (the state is the
	// browser's own, the code and ID token the provider's), and a person
	// refused for their domain should not be made to wait as well.
	res, err := s.finishSSO(ctx, name, cookieState, state, code, c)
	var se *SSOError
	if errors.As(err, &se) {
		s.opts.Log.Warn("single sign-on refused", "provider", name, "client", c.IP, "reason", se.Reason)
	}
	return res, err
}

func (s *Service) finishSSO(ctx context.Context, name, cookieState, state, code string, c Client) (*SSOResult, error) {
	if state == "" || cookieState == "" || !equal(cookieState, state) {
		return nil, ssoErr("not_started", nil, "the sign-in did not start in this browser, or took too long; try again")
	}
	ch, err := s.st.TakeChallenge(ctx, hash(state), challengeSSO)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ssoErr("stale", nil, "the sign-in took too long or was used already; try again")
	}
	if err != nil {
		return nil, err
	}
	var st ssoState
	if err := json.Unmarshal([]byte(ch.Data), &st); err != nil {
		return nil, fmt.Errorf("single sign-on state: %w", err)
	}
	if st.Provider != name {
		return nil, ssoErr("other_provider", nil, "the sign-in came back from another provider; try again")
	}
	p, dp, oc, err := s.oauth(ctx, name)
	if err != nil {
		return nil, err
	}
	hctx := oidc.ClientContext(ctx, p.client)
	tok, err := oc.Exchange(hctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		s.opts.Log.Warn("single sign-on code exchange failed", "provider", name, "err", err)
		return nil, ssoErr("code_refused", prov(name), "%s did not accept the sign-in code; try again", name)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, ssoErr("no_id_token", prov(name), "%s sent no ID token", name)
	}
	idt, err := dp.Verifier(&oidc.Config{ClientID: p.cfg.ClientID, Now: s.opts.Now}).Verify(hctx, raw)
	if err != nil {
		var exp *oidc.TokenExpiredError
		if errors.As(err, &exp) {
			return nil, ssoErr("expired", prov(name), "the sign-in from %s has expired; try again", name)
		}
		s.opts.Log.Warn("single sign-on ID token refused", "provider", name, "err", err)
		return nil, ssoErr("unverified", prov(name), "the sign-in from %s could not be verified", name)
	}
	if !equal(idt.Nonce, st.Nonce) {
		return nil, ssoErr("nonce", prov(name), "the sign-in from %s does not belong to this attempt (nonce); try again", name)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, ssoErr("unreadable", prov(name), "the sign-in from %s could not be read", name)
	}
	email, _ := claims["email"].(string)
	verified, said := claims["email_verified"].(bool)
	if said && !verified {
		return nil, ssoErr("address_unverified", prov(name), "your address at %s is not verified", name)
	}
	email, err = NormalizeEmail(email)
	if err != nil {
		return nil, ssoErr("no_email", prov(name), "%s did not say your email address (ask for the email scope)", name)
	}
	if len(p.cfg.AllowedDomains) > 0 {
		domain := email[strings.LastIndexByte(email, '@')+1:]
		if !slices.Contains(p.cfg.AllowedDomains, domain) {
			return nil, ssoErr("domain", map[string]string{"Domain": domain}, "addresses at %s may not sign in to this Herald", domain)
		}
	}
	mapped, err := mapRole(p.cfg, claims)
	if err != nil {
		return nil, err
	}
	res := &SSOResult{Next: st.Next}
	// What this sign-in changes (a user created, linked, a role set by
	// the provider's groups) is recorded as done by the provider for this
	// person, from their address.
	ctx = audit.WithActor(ctx, audit.Actor{Name: "sso:" + name + " (" + email + ")", Via: audit.ViaAdmin, IP: c.IP})
	u, err := s.st.UserIdentity(ctx, name, idt.Subject)
	if errors.Is(err, store.ErrNotFound) {
		u, err = s.st.UserByEmail(ctx, email)
		if err == nil && !verified && !p.cfg.TrustUnverifiedEmail {
			// Linking by an address the provider does not vouch for would
			// let whoever can set that address there take the account over.
			return nil, ssoErr("cannot_link", map[string]string{"Provider": name, "Email": email}, "%s does not say your address is verified, so it cannot be linked to the Herald account %s; ask an owner (see trust_unverified_email)", name, email)
		}
		if errors.Is(err, store.ErrNotFound) {
			if !p.cfg.AutoCreate || mapped == "" {
				return nil, ssoErr("no_account", map[string]string{"Email": email}, "there is no Herald account for %s; ask an owner to add you", email)
			}
			name := stringClaim(claims, "name")
			if validator.User(email, name) != nil {
				name = "" // a name Herald would refuse is not worth refusing the sign-in for
			}
			u = &store.User{Email: email, Name: name, Role: string(mapped), PasswordHash: unusablePassword()}
			if err = s.st.CreateUser(ctx, u); err != nil {
				return nil, err
			}
			res.Created = true
		}
		if err != nil {
			return nil, err
		}
		if err := s.st.LinkIdentity(ctx, name, idt.Subject, u.ID); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	if p.cfg.RoleClaim != "" && mapped != "" && u.Role != string(mapped) && !res.Created {
		from := Role(u.Role)
		if from == Owner && mapped != Owner {
			if err := checkNotLastOwner(ctx, s.st); err != nil {
				return nil, ssoErr("last_owner", prov(name), "your role at %s would demote the last owner; an owner must be kept", name)
			}
		}
		u.Role = string(mapped)
		if err := s.st.UpdateUser(ctx, u); err != nil {
			return nil, err
		}
		res.RoleFrom = from
		s.opts.Log.Info("role set by single sign-on", "user", u.Email, "provider", name, "from", from, "to", mapped)
	}
	pol, err := s.policy(ctx)
	if err != nil {
		return nil, err
	}
	role, err := ParseRole(u.Role)
	if err != nil {
		return nil, err
	}
	cookie, id, err := s.startSession(ctx, u, role, store.StageFull, "sso:"+name, c, pol)
	if err != nil {
		return nil, err
	}
	res.Cookie, res.Identity = cookie, id
	return res, nil
}

// mapRole is the role the provider's claim gives: the most powerful
// mapped value, else the default role ("" when neither: no role here).
func mapRole(cfg ProviderConfig, claims map[string]any) (Role, error) {
	best := Role("")
	if cfg.RoleClaim != "" {
		var values []string
		switch v := claims[cfg.RoleClaim].(type) {
		case string:
			values = []string{v}
		case []any:
			for _, x := range v {
				if s, ok := x.(string); ok {
					values = append(values, s)
				}
			}
		}
		for _, v := range values {
			if r, ok := cfg.RoleMap[v]; ok && (best == "" || r.rank() > best.rank()) {
				best = r
			}
		}
	}
	if best == "" {
		best = cfg.DefaultRole
	}
	if best == "" && cfg.RoleClaim != "" {
		return "", ssoErr("no_role", prov(cfg.Name), "your groups at %s give no role in Herald; ask an owner", cfg.Name)
	}
	return best, nil
}

func stringClaim(claims map[string]any, k string) string {
	v, _ := claims[k].(string)
	return v
}

// unusablePassword is a password hash no password matches (a user made by
// single sign-on signs in through it, or through a reset link).
func unusablePassword() string { return "!sso:" + randomToken(16) }
