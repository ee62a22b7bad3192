package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
	"golang.org/x/crypto/bcrypt"

	"github.com/herald-news/herald/internal/address"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/token"
	"github.com/herald-news/herald/internal/validator"
)

// Errors Service returns; test with errors.Is.
var (
	// ErrBadCredentials hides whether the address or the password was wrong.
	ErrBadCredentials = errors.New("wrong email or password")
	// ErrRateLimited means too many failed sign-ins; try again later.
	ErrRateLimited = errors.New("too many sign-in attempts; wait a few minutes")
	// ErrNoSession means the cookie or token names no live session or token.
	ErrNoSession = errors.New("not signed in")
	// ErrWeakPassword is a password shorter than MinPasswordLength (the
	// validator's rule; validator.Password has the others).
	ErrWeakPassword = validator.ErrPasswordShort
	// ErrLongPassword is a password bcrypt would cut short.
	ErrLongPassword = validator.ErrPasswordLong
	// ErrSpacesAroundPassword is a sign-in whose password was wrong and
	// began or ended with white space, which no password Herald accepts
	// does: the form says to remove it rather than "wrong password".
	ErrSpacesAroundPassword = errors.New("the password typed begins or ends with a space")
	// ErrLastOwner refuses to remove or demote the only owner.
	ErrLastOwner = errors.New("the last owner cannot be removed or demoted")
	// ErrPasswordSignInOff: the policy sends everyone through single
	// sign-on.
	ErrPasswordSignInOff = errors.New("sign-in with a password or passkey is turned off: use single sign-on")
	// ErrBadCode is a wrong, used or expired authenticator or recovery code.
	ErrBadCode = errors.New("that code is not right, or was used already")
)

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = validator.MinPasswordLength

// TokenPrefix starts every API token, so scanners and people recognise one.
const TokenPrefix = "hrld_"

// Options configure a Service. Zero values take the defaults shown.
type Options struct {
	// BcryptCost is the bcrypt work factor (12). Tests use bcrypt.MinCost.
	BcryptCost int
	// Limit is the sign-in attempt limit; zero values take its defaults.
	Limit LimitOptions
	// Signer signs password reset links; nil turns the forgotten-password
	// flow off.
	Signer *token.Signer
	// BaseURL is the public address: reset links, passkeys' relying party.
	BaseURL string
	// Issuer names the newsroom in authenticator apps ("Herald").
	Issuer string
	// Providers are the single sign-on providers.
	Providers []ProviderConfig
	// SSOClient fetches from the providers (nil: the SSRF-safe client,
	// with the issuers' own addresses allowed).
	SSOClient *http.Client
	Log       *slog.Logger
	Now       func() time.Time
}

// Service signs people in and checks credentials. Safe for concurrent use.
type Service struct {
	st      *store.Store
	opts    Options
	limiter *Limiter
	resets  *Limiter           // reset requests per address and client
	wa      *webauthn.WebAuthn // nil without a usable BaseURL
	sso     map[string]*provider
	// dummy is checked against when the address is unknown, so a wrong
	// address takes as long as a wrong password.
	dummy []byte
}

// New returns a Service over st.
func New(st *store.Store, opts Options) *Service {
	if opts.BcryptCost == 0 {
		opts.BcryptCost = 12
	}
	if opts.Issuer == "" {
		opts.Issuer = "Herald"
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.Limit.Now = opts.Now
	dummy, _ := bcrypt.GenerateFromPassword([]byte(randomToken(16)), opts.BcryptCost)
	s := &Service{st: st, opts: opts, limiter: NewLimiter(opts.Limit), dummy: dummy,
		resets: NewLimiter(LimitOptions{PerAccount: 3, PerClient: 10, Window: 15 * time.Minute, Now: opts.Now})}
	s.wa = newWebAuthn(opts.BaseURL, opts.Issuer)
	s.sso = newProviders(opts)
	return s
}

// Identity is who is making a request: a user, and the role the request
// carries (a session carries the user's role; a token its own).
type Identity struct {
	User *store.User
	Role Role
	CSRF string // sessions only: the token forms must carry
	// SessionHash is set for sessions (sign out deletes it).
	SessionHash string
	// Stage is the session's (store.StageFull once signed in) and Method
	// how it began (password, passkey, sso:NAME).
	Stage, Method string
	TokenID       int64  // API tokens only
	TokenName     string // API tokens only: what the audit log calls it
}

// Client is the browser a sign-in comes from.
type Client struct {
	IP        string
	UserAgent string
}

// Can reports whether the identity holds permission p.
func (id *Identity) Can(p Permission) bool { return id != nil && id.Role.Can(p) }

// NormalizeEmail lower-cases and checks a sign-in address.
func NormalizeEmail(s string) (string, error) {
	e, err := address.Normalize(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("email %q: %w", s, err)
	}
	return e, nil
}

// HashPassword hashes a password with bcrypt at cost, refusing one
// validator.Password refuses.
func HashPassword(password string, cost int) (string, error) {
	if err := validator.Password(password); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// GeneratePassword returns a random 20-character password.
func GeneratePassword() string {
	b := make([]byte, 15)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// randomToken returns n random bytes as URL-safe base64.
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// randomIndex returns a uniformly random int in [0, n).
func randomIndex(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return int(v.Int64())
}

// hash is the hex SHA-256 of a secret, the form secrets are stored in.
func hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// equal compares two secrets in constant time.
func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// Login checks an email and password from client and starts a session:
// signed in, or waiting for a second factor (store.StageSecond) or for
// enrolment in one (store.StageEnrol, when the policy requires it). It
// returns the session cookie value.
func (s *Service) Login(ctx context.Context, email, password string, c Client) (string, *Identity, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	pol, err := s.policy(ctx)
	if err != nil {
		return "", nil, err
	}
	if pol.PasswordSignInOff {
		return "", nil, ErrPasswordSignInOff
	}
	if !s.limiter.Allow(c.IP, email) {
		return "", nil, ErrRateLimited
	}
	u, err := s.st.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", nil, err
	}
	h := s.dummy
	if u != nil {
		h = []byte(u.PasswordHash)
	}
	if bcrypt.CompareHashAndPassword(h, []byte(password)) != nil || u == nil {
		s.limiter.Fail(c.IP, email)
		s.opts.Log.Warn("failed sign-in", "email", email, "client", c.IP)
		if validator.HasSurroundingSpace(password) {
			// Said whether or not the address has an account.
			return "", nil, ErrSpacesAroundPassword
		}
		return "", nil, ErrBadCredentials
	}
	s.limiter.Succeed(c.IP, email)
	role, err := ParseRole(u.Role)
	if err != nil {
		return "", nil, err
	}
	stage := store.StageFull
	switch {
	case u.TOTP || u.Passkeys > 0:
		stage = store.StageSecond
	case pol.RequireTwoFactor && MustUseTwoFactor(role):
		stage = store.StageEnrol
	}
	return s.startSession(ctx, u, role, stage, "password", c, pol)
}

// MustUseTwoFactor reports whether the two-factor requirement applies to
// role: owners and editors.
func MustUseTwoFactor(r Role) bool { return r == Owner || r == Editor }

// pendingTTL bounds a session that waits for a second factor.
const pendingTTL = 10 * time.Minute

// startSession stores a new session for u and returns its cookie value.
func (s *Service) startSession(ctx context.Context, u *store.User, role Role, stage, method string, c Client, pol Policy) (string, *Identity, error) {
	ttl := pol.SessionLifetime
	if stage == store.StageSecond {
		ttl = pendingTTL
	}
	// Sign-ins are rare: each clears the sessions that ended, so the
	// table holds live ones only.
	if _, err := s.st.DeleteExpiredSessions(ctx, pol.IdleTimeout); err != nil {
		return "", nil, err
	}
	cookie := randomToken(32)
	ss := &store.Session{IDHash: hash(cookie), UserID: u.ID, CSRF: randomToken(32), Stage: stage, Method: method,
		UserAgent: c.UserAgent, IP: c.IP, ExpiresAt: s.opts.Now().Add(ttl)}
	if err := s.st.CreateSession(ctx, ss); err != nil {
		return "", nil, err
	}
	if stage == store.StageFull {
		if err := s.st.TouchUserLogin(ctx, u.ID); err != nil {
			return "", nil, err
		}
	}
	return cookie, &Identity{User: u, Role: role, CSRF: ss.CSRF, SessionHash: ss.IDHash, Stage: stage, Method: method}, nil
}

// touchEvery is how stale a session's last-seen time may get before a
// request records it again (a write per minute, not per request).
const touchEvery = time.Minute

// Session returns the identity behind a session cookie value, at any
// stage (callers check Identity.Stage). A session idle for longer than
// the policy allows has ended.
func (s *Service) Session(ctx context.Context, cookie string) (*Identity, error) {
	if cookie == "" {
		return nil, ErrNoSession
	}
	ss, u, err := s.st.SessionUser(ctx, hash(cookie))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	pol, err := s.policy(ctx)
	if err != nil {
		return nil, err
	}
	now := s.opts.Now()
	if pol.IdleTimeout > 0 && now.Sub(ss.LastSeenAt) > pol.IdleTimeout ||
		ss.Stage == store.StageFull && now.Sub(ss.CreatedAt) > pol.SessionLifetime {
		if err := s.st.DeleteSession(ctx, ss.IDHash); err != nil {
			return nil, err
		}
		return nil, ErrNoSession
	}
	if now.Sub(ss.LastSeenAt) > touchEvery {
		if err := s.st.TouchSession(ctx, ss.IDHash); err != nil {
			return nil, err
		}
	}
	role, err := ParseRole(u.Role)
	if err != nil {
		return nil, err
	}
	return &Identity{User: u, Role: role, CSRF: ss.CSRF, SessionHash: ss.IDHash, Stage: ss.Stage, Method: ss.Method}, nil
}

// Logout ends the session.
func (s *Service) Logout(ctx context.Context, id *Identity) error {
	if id == nil || id.SessionHash == "" {
		return nil
	}
	return s.st.DeleteSession(ctx, id.SessionHash)
}

// CheckCSRF reports whether a submitted token matches the session's.
func CheckCSRF(id *Identity, submitted string) bool {
	return id != nil && id.CSRF != "" && submitted != "" && equal(id.CSRF, submitted)
}

// CreateToken makes an API token for user u with the given role (at most
// u's own, or Sender when u may send messages). The returned plain token
// is shown once and never again.
func (s *Service) CreateToken(ctx context.Context, u *store.User, name string, role Role) (string, *store.APIToken, error) {
	return CreateToken(ctx, s.st, u, name, role)
}

// CreateToken is Service.CreateToken without a Service (herald token
// create).
func CreateToken(ctx context.Context, st *store.Store, u *store.User, name string, role Role) (string, *store.APIToken, error) {
	ur, err := ParseRole(u.Role)
	if err != nil {
		return "", nil, err
	}
	if _, err := ParseTokenRole(string(role)); err != nil {
		return "", nil, &validator.Error{Field: "role", Message: "Choose a role: owner, editor, author, viewer or sender."}
	}
	if !ur.AtLeast(role) {
		return "", nil, &validator.Error{Field: "role", Message: fmt.Sprintf("A %s cannot create a token with the %s role.", ur, role)}
	}
	name = strings.TrimSpace(name)
	if err := validator.Token(name); err != nil {
		return "", nil, err
	}
	plain := TokenPrefix + randomToken(32)
	t := &store.APIToken{UserID: u.ID, Name: name, Role: string(role), Prefix: plain[:len(TokenPrefix)+6], Hash: hash(plain)}
	if err := st.CreateAPIToken(ctx, t); err != nil {
		return "", nil, err
	}
	return plain, t, nil
}

// Token returns the identity behind an API token. The role is the token's,
// capped by its user's current role (a demoted user's tokens shrink too);
// a sender token whose user may no longer send is refused, as it cannot
// shrink into another role.
func (s *Service) Token(ctx context.Context, plain string) (*Identity, error) {
	if !strings.HasPrefix(plain, TokenPrefix) {
		return nil, ErrNoSession
	}
	t, u, err := s.st.APITokenUser(ctx, hash(plain))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	role, err := ParseTokenRole(t.Role)
	if err != nil {
		return nil, err
	}
	if ur, err := ParseRole(u.Role); err != nil {
		return nil, err
	} else if !ur.AtLeast(role) {
		if role == Sender {
			return nil, ErrNoSession
		}
		role = ur
	}
	return &Identity{User: u, Role: role, TokenID: t.ID, TokenName: t.Name}, nil
}

// BcryptCost is the cost the service hashes passwords with.
func (s *Service) BcryptCost() int { return s.opts.BcryptCost }
