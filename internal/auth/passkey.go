package auth

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/validator"
)

// ErrPasskey is a passkey ceremony that failed: unknown or expired
// challenge, a credential Herald does not know, a signature that does not
// verify. The person tries again.
var ErrPasskey = errors.New("the passkey could not be verified; try again")

// ErrNoPasskeys means passkeys are not available: base_url is not an
// address a browser accepts as a relying party.
var ErrNoPasskeys = errors.New("passkeys need base_url set to the address people open Herald at")

// MaxPasskeyName bounds a passkey's name, in characters.
const MaxPasskeyName = 80

// ErrPasskeyName is a passkey name over MaxPasskeyName characters or on
// more than one line: refused before the ceremony's answer is checked,
// never cut.
var ErrPasskeyName = &validator.Error{Field: "name", Message: fmt.Sprintf("A passkey's name is at most %d characters, on one line.", MaxPasskeyName)}

// passkeyTTL bounds a passkey ceremony.
const passkeyTTL = 5 * time.Minute

const (
	challengeRegister = "passkey-register"
	challengeLogin    = "passkey-login"
)

// newWebAuthn configures the relying party from the public address: its
// host is the RP ID, its origin the only one accepted.
func newWebAuthn(baseURL, name string) *webauthn.WebAuthn {
	u, err := url.Parse(baseURL)
	if err != nil || u.Hostname() == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil
	}
	if net.ParseIP(u.Hostname()) != nil {
		return nil // browsers refuse an IP address as relying party
	}
	wa, err := webauthn.New(&webauthn.Config{RPID: u.Hostname(), RPDisplayName: name,
		RPOrigins: []string{u.Scheme + "://" + u.Host}})
	if err != nil {
		return nil
	}
	return wa
}

// waUser is a user as the WebAuthn library sees one.
type waUser struct {
	u     *store.User
	keys  []store.Passkey
	creds []webauthn.Credential
}

// WebAuthnID is the user handle: the user's ID, 8 bytes big-endian.
func (w *waUser) WebAuthnID() []byte { return userHandle(w.u.ID) }

// WebAuthnName is the sign-in address.
func (w *waUser) WebAuthnName() string { return w.u.Email }

// WebAuthnDisplayName is the name, or the address.
func (w *waUser) WebAuthnDisplayName() string {
	if w.u.Name != "" {
		return w.u.Name
	}
	return w.u.Email
}

// WebAuthnCredentials are the user's passkeys.
func (w *waUser) WebAuthnCredentials() []webauthn.Credential { return w.creds }

func userHandle(id int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(id)) }

func (s *Service) loadWAUser(ctx context.Context, u *store.User) (*waUser, error) {
	keys, err := s.st.Passkeys(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	w := &waUser{u: u, keys: keys}
	for _, k := range keys {
		var c webauthn.Credential
		if err := json.Unmarshal([]byte(k.Credential), &c); err != nil {
			return nil, fmt.Errorf("passkey %d: %w", k.ID, err)
		}
		w.creds = append(w.creds, c)
	}
	return w, nil
}

// PasskeysAvailable reports whether passkeys can be used (base_url set).
func (s *Service) PasskeysAvailable() bool { return s.wa != nil }

// Ceremony is what a browser needs to run a passkey ceremony: the options
// for navigator.credentials (JSON), and the key that names the ceremony
// when the browser answers.
type Ceremony struct {
	Options json.RawMessage `json:"options"`
	Key     string          `json:"key"`
}

func (s *Service) saveCeremony(ctx context.Context, kind string, userID int64, options any, sd *webauthn.SessionData) (*Ceremony, error) {
	opts, err := json.Marshal(options)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(sd)
	if err != nil {
		return nil, err
	}
	key := randomToken(32)
	if err := s.st.PutChallenge(ctx, &store.Challenge{IDHash: hash(key), Kind: kind, UserID: userID, Data: string(data),
		ExpiresAt: s.opts.Now().Add(passkeyTTL)}); err != nil {
		return nil, err
	}
	return &Ceremony{Options: opts, Key: key}, nil
}

func (s *Service) takeCeremony(ctx context.Context, key, kind string) (*store.Challenge, webauthn.SessionData, error) {
	var sd webauthn.SessionData
	ch, err := s.st.TakeChallenge(ctx, hash(key), kind)
	if errors.Is(err, store.ErrNotFound) {
		return nil, sd, ErrPasskey
	}
	if err != nil {
		return nil, sd, err
	}
	if err := json.Unmarshal([]byte(ch.Data), &sd); err != nil {
		return nil, sd, fmt.Errorf("passkey ceremony: %w", err)
	}
	return ch, sd, nil
}

// BeginPasskeyRegistration starts adding a passkey to u's account.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, u *store.User) (*Ceremony, error) {
	if s.wa == nil {
		return nil, ErrNoPasskeys
	}
	w, err := s.loadWAUser(ctx, u)
	if err != nil {
		return nil, err
	}
	exclude := make([]protocol.CredentialDescriptor, len(w.creds))
	for i, c := range w.creds {
		exclude[i] = c.Descriptor()
	}
	creation, sd, err := s.wa.BeginRegistration(w,
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired),
		webauthn.WithExclusions(exclude))
	if err != nil {
		return nil, fmt.Errorf("begin passkey registration: %w", err)
	}
	return s.saveCeremony(ctx, challengeRegister, u.ID, creation, sd)
}

// FinishPasskeyRegistration checks the browser's answer (body, the
// PublicKeyCredential as JSON) and stores the passkey under name.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, u *store.User, key, name string, body []byte) (*store.Passkey, error) {
	if s.wa == nil {
		return nil, ErrNoPasskeys
	}
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > MaxPasskeyName || !validator.OneLine(name) {
		return nil, ErrPasskeyName
	}
	ch, sd, err := s.takeCeremony(ctx, key, challengeRegister)
	if err != nil {
		return nil, err
	}
	if ch.UserID != u.ID {
		return nil, ErrPasskey
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(body)
	if err != nil {
		return nil, ErrPasskey
	}
	w, err := s.loadWAUser(ctx, u)
	if err != nil {
		return nil, err
	}
	cred, err := s.wa.CreateCredential(w, sd, parsed)
	if err != nil {
		s.opts.Log.Warn("passkey registration refused", "user", u.Email, "err", err)
		return nil, ErrPasskey
	}
	data, err := json.Marshal(cred)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = "Passkey"
	}
	p := &store.Passkey{UserID: u.ID, CredentialID: base64.RawURLEncoding.EncodeToString(cred.ID), Name: name, Credential: string(data)}
	if err := s.st.AddPasskey(ctx, p); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, ErrPasskey
		}
		return nil, err
	}
	s.opts.Log.Info("passkey added", "user", u.Email, "passkey", p.ID)
	return p, nil
}

// BeginPasskeyLogin starts a sign-in with a passkey alone: the browser
// offers the passkeys it holds for Herald.
func (s *Service) BeginPasskeyLogin(ctx context.Context) (*Ceremony, error) {
	if s.wa == nil {
		return nil, ErrNoPasskeys
	}
	pol, err := s.policy(ctx)
	if err != nil {
		return nil, err
	}
	if pol.PasswordSignInOff {
		return nil, ErrPasswordSignInOff
	}
	assertion, sd, err := s.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, fmt.Errorf("begin passkey sign-in: %w", err)
	}
	return s.saveCeremony(ctx, challengeLogin, 0, assertion, sd)
}

// FinishPasskeyLogin checks the browser's assertion (body) and signs its
// user in. A passkey with user verification is two factors (something
// held, something known or been), so the session is signed in at once.
func (s *Service) FinishPasskeyLogin(ctx context.Context, key string, body []byte, c Client) (string, *Identity, error) {
	if s.wa == nil {
		return "", nil, ErrNoPasskeys
	}
	if !s.limiter.Allow(c.IP, "passkey") {
		return "", nil, ErrRateLimited
	}
	pol, err := s.policy(ctx)
	if err != nil {
		return "", nil, err
	}
	if pol.PasswordSignInOff {
		return "", nil, ErrPasswordSignInOff
	}
	_, sd, err := s.takeCeremony(ctx, key, challengeLogin)
	if err != nil {
		s.limiter.Fail(c.IP, "passkey")
		return "", nil, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(body)
	if err != nil {
		s.limiter.Fail(c.IP, "passkey")
		return "", nil, ErrPasskey
	}
	var found *waUser
	handler := func(rawID, handle []byte) (webauthn.User, error) {
		if len(handle) != 8 {
			return nil, ErrPasskey
		}
		u, err := s.st.UserByID(ctx, int64(binary.BigEndian.Uint64(handle)))
		if err != nil {
			return nil, ErrPasskey
		}
		w, err := s.loadWAUser(ctx, u)
		if err != nil {
			return nil, err
		}
		found = w
		return w, nil
	}
	_, cred, err := s.wa.ValidatePasskeyLogin(handler, sd, parsed)
	if err != nil || found == nil {
		s.limiter.Fail(c.IP, "passkey")
		s.opts.Log.Warn("passkey sign-in refused", "client", c.IP, "err", err)
		return "", nil, ErrPasskey
	}
	for _, k := range found.keys {
		if k.CredentialID == base64.RawURLEncoding.EncodeToString(cred.ID) {
			data, err := json.Marshal(cred)
			if err != nil {
				return "", nil, err
			}
			if err := s.st.UpdatePasskeyUse(ctx, k.ID, string(data)); err != nil {
				return "", nil, err
			}
		}
	}
	role, err := ParseRole(found.u.Role)
	if err != nil {
		return "", nil, err
	}
	return s.startSession(ctx, found.u, role, store.StageFull, "passkey", c, pol)
}

// RemovePasskey deletes one of u's passkeys, unless it is the last second
// factor the policy requires of their role.
func (s *Service) RemovePasskey(ctx context.Context, id *Identity, passkeyID int64) error {
	pol, err := s.policy(ctx)
	if err != nil {
		return err
	}
	if pol.RequireTwoFactor && MustUseTwoFactor(id.Role) && !id.User.TOTP && id.User.Passkeys <= 1 {
		return ErrLastSecondFactor
	}
	return s.st.DeletePasskey(ctx, id.User.ID, passkeyID)
}
