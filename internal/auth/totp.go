package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/herald-news/herald/internal/store"
)

// totpPeriod is the RFC 6238 time step; a code is accepted one step
// either side of now, for clocks that drift.
const totpPeriod = 30

// RecoveryCodeCount is how many recovery codes a user gets at a time.
const RecoveryCodeCount = 10

// Enrolment is what the enrolment page shows: the secret as text, the
// otpauth:// URL, and the URL as a QR code (a PNG data URL).
type Enrolment struct {
	Secret string
	URL    string
	QR     string
}

// BeginTOTP starts (or shows again) the enrolment of an authenticator app
// for u: the secret is kept pending until ConfirmTOTP sees its first code.
func (s *Service) BeginTOTP(ctx context.Context, u *store.User) (*Enrolment, error) {
	t, err := s.st.UserTOTP(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	issuer := strings.ReplaceAll(s.opts.Issuer, ":", "")
	secret := t.Pending
	if secret == "" {
		key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: u.Email, Period: totpPeriod})
		if err != nil {
			return nil, fmt.Errorf("generate authenticator secret: %w", err)
		}
		secret = key.Secret()
		if err := s.st.SetTOTPPending(ctx, u.ID, secret); err != nil {
			return nil, err
		}
	}
	v := url.Values{}
	v.Set("secret", secret)
	v.Set("issuer", issuer)
	v.Set("period", fmt.Sprint(totpPeriod))
	v.Set("digits", "6")
	v.Set("algorithm", "SHA1")
	raw := (&url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + u.Email, RawQuery: v.Encode()}).String()
	key, err := otp.NewKeyFromURL(raw)
	if err != nil {
		return nil, fmt.Errorf("authenticator URL: %w", err)
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return nil, fmt.Errorf("QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("QR code: %w", err)
	}
	return &Enrolment{Secret: spaced(secret), URL: raw, QR: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())}, nil
}

// spaced groups a secret in fours, for people typing it.
func spaced(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ConfirmTOTP checks the first code of the pending secret and, when it is
// right, makes the secret u's and returns ten new recovery codes, shown
// once. A session waiting for enrolment (id) is signed in.
func (s *Service) ConfirmTOTP(ctx context.Context, id *Identity, code string, c Client) ([]string, error) {
	u := id.User
	if !s.limiter.Allow(c.IP, "2fa:"+u.Email) {
		return nil, ErrRateLimited
	}
	t, err := s.st.UserTOTP(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	step, ok := matchTOTP(t.Pending, code, s.opts.Now())
	if t.Pending == "" || !ok {
		s.limiter.Fail(c.IP, "2fa:"+u.Email)
		return nil, ErrBadCode
	}
	codes, hashes := newRecoveryCodes()
	if err := s.st.ConfirmTOTP(ctx, u.ID, t.Pending, step, hashes); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, ErrBadCode
		}
		return nil, err
	}
	s.limiter.Succeed(c.IP, "2fa:"+u.Email)
	if id.Stage == store.StageEnrol {
		if err := s.st.SetSessionStage(ctx, id.SessionHash, store.StageFull); err != nil {
			return nil, err
		}
		id.Stage = store.StageFull
		if err := s.st.TouchUserLogin(ctx, u.ID); err != nil {
			return nil, err
		}
	}
	s.opts.Log.Info("authenticator app enrolled", "user", u.Email)
	return codes, nil
}

// ErrNoAuthenticator: recovery codes come with an authenticator app, and
// the user has none.
var ErrNoAuthenticator = errors.New("set up an authenticator app first")

// NewRecoveryCodes replaces u's recovery codes with ten new ones, shown
// once. Only a user with an authenticator app has them
// (ErrNoAuthenticator); any other error is a failure to store them.
func (s *Service) NewRecoveryCodes(ctx context.Context, u *store.User) ([]string, error) {
	if !u.TOTP {
		return nil, ErrNoAuthenticator
	}
	codes, hashes := newRecoveryCodes()
	if err := s.st.ReplaceRecoveryCodes(ctx, u.ID, hashes); err != nil {
		return nil, err
	}
	return codes, nil
}

// matchTOTP reports whether code is the secret's code for the time step
// of now or one either side, and which step it is.
func matchTOTP(secret, code string, now time.Time) (int64, bool) {
	code = strings.Join(strings.Fields(code), "")
	if secret == "" || len(code) != 6 {
		return 0, false
	}
	for _, d := range []int64{0, -1, 1} {
		at := now.Add(time.Duration(d*totpPeriod) * time.Second)
		want, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && equal(want, code) {
			return at.Unix() / totpPeriod, true
		}
	}
	return 0, false
}

// recoveryAlphabet has no letters people confuse (0/o, 1/l/i).
const recoveryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// newRecoveryCodes returns RecoveryCodeCount codes like "k7m2p-q9xrt"
// (about 49 bits each) and their hashes.
func newRecoveryCodes() (codes, hashes []string) {
	for range RecoveryCodeCount {
		b := make([]byte, 10)
		for i := range b {
			b[i] = recoveryAlphabet[randomIndex(len(recoveryAlphabet))]
		}
		c := string(b[:5]) + "-" + string(b[5:])
		codes = append(codes, c)
		hashes = append(hashes, hash(normalizeRecovery(c)))
	}
	return codes, hashes
}

// normalizeRecovery forgives case, spaces and dashes in a typed code.
func normalizeRecovery(c string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(c)))
}

// SecondFactor completes a sign-in that waits for a second factor
// (cookie names a StageSecond session) with an authenticator code or a
// recovery code. The waiting session is replaced by a signed-in one,
// whose cookie value is returned; recoveryLeft is the count of unused
// recovery codes when one was spent, else -1.
func (s *Service) SecondFactor(ctx context.Context, cookie, code string, c Client) (string, *Identity, int, error) {
	id, err := s.Session(ctx, cookie)
	if err != nil {
		return "", nil, -1, err
	}
	if id.Stage != store.StageSecond {
		return "", nil, -1, ErrNoSession
	}
	u := id.User
	if !s.limiter.Allow(c.IP, "2fa:"+u.Email) {
		return "", nil, -1, ErrRateLimited
	}
	left := -1
	t, err := s.st.UserTOTP(ctx, u.ID)
	if err != nil {
		return "", nil, -1, err
	}
	ok := false
	if step, match := matchTOTP(t.Secret, code, s.opts.Now()); match {
		// A code seen already in its window is refused: someone who
		// watched it typed cannot sign in with it too.
		if ok, err = s.st.UseTOTPStep(ctx, u.ID, step); err != nil {
			return "", nil, -1, err
		}
	} else if rc := normalizeRecovery(code); len(rc) == 10 {
		if ok, err = s.st.UseRecoveryCode(ctx, u.ID, hash(rc)); err != nil {
			return "", nil, -1, err
		}
		if ok {
			if left, err = s.st.RecoveryCodesLeft(ctx, u.ID); err != nil {
				return "", nil, -1, err
			}
		}
	}
	if !ok {
		s.limiter.Fail(c.IP, "2fa:"+u.Email)
		s.opts.Log.Warn("failed second factor", "email", u.Email, "client", c.IP)
		return "", nil, -1, ErrBadCode
	}
	s.limiter.Succeed(c.IP, "2fa:"+u.Email)
	if err := s.st.DeleteSession(ctx, id.SessionHash); err != nil {
		return "", nil, -1, err
	}
	pol, err := s.policy(ctx)
	if err != nil {
		return "", nil, -1, err
	}
	newCookie, nid, err := s.startSession(ctx, u, id.Role, store.StageFull, id.Method, c, pol)
	return newCookie, nid, left, err
}

// ResetSecondFactors removes a user's authenticator app, recovery codes
// and passkeys (an owner's reset, herald user 2fa-reset), so they sign in
// with their password alone, or enrol again where the policy requires it.
// It reports whether the user had any.
func ResetSecondFactors(ctx context.Context, st *store.Store, userID int64) (bool, error) {
	return st.ClearSecondFactors(ctx, userID)
}

// DisableTOTP removes u's own authenticator app and recovery codes,
// unless the policy requires a second factor of their role and they have
// no passkey.
func (s *Service) DisableTOTP(ctx context.Context, id *Identity) error {
	pol, err := s.policy(ctx)
	if err != nil {
		return err
	}
	if pol.RequireTwoFactor && MustUseTwoFactor(id.Role) && id.User.Passkeys == 0 {
		return ErrNeedPasskeyFirst
	}
	if err := s.st.RemoveTOTP(ctx, id.User.ID); err != nil {
		return err
	}
	return nil
}
