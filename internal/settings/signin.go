package settings

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// Keys of the sign-in policy.
const (
	KeyRequire2FA      = "signin.require_2fa"      // "true": owners and editors must use two-factor
	KeyPasswordOff     = "signin.password_off"     // "true": single sign-on only
	KeySessionLifetime = "signin.session_lifetime" // Go duration
	KeyIdleTimeout     = "signin.idle_timeout"     // Go duration; 0s: never
)

// SignIn is how the newsroom signs in, set by owners (Admin → Users →
// Sign-in settings, or herald signin). Package auth applies it.
type SignIn struct {
	// RequireTwoFactor sends owners and editors without a second factor
	// to enrolment at their next sign-in.
	RequireTwoFactor bool
	// PasswordSignInOff refuses passwords, passkeys and reset links in
	// the admin: staff sign in through single sign-on. The CLI is the way
	// back in.
	PasswordSignInOff bool
	// SessionLifetime is how long a sign-in lasts at most.
	SessionLifetime time.Duration
	// IdleTimeout ends a session not used for that long (0: never).
	IdleTimeout time.Duration
}

// Bounds and defaults of the session settings.
const (
	DefaultSessionLifetime = 12 * time.Hour
	DefaultIdleTimeout     = 2 * time.Hour
	MinSessionLifetime     = 10 * time.Minute
	MaxSessionLifetime     = 90 * 24 * time.Hour
	MinIdleTimeout         = 5 * time.Minute
)

// DefaultSignIn is the policy until an owner saves one.
func DefaultSignIn() SignIn {
	return SignIn{SessionLifetime: DefaultSessionLifetime, IdleTimeout: DefaultIdleTimeout}
}

// Check says what is wrong with a policy, in words for the person who set
// it.
func (p SignIn) Check() error {
	if p.SessionLifetime < MinSessionLifetime || p.SessionLifetime > MaxSessionLifetime {
		return fmt.Errorf("the session lifetime must be between %s and 90 days", MinSessionLifetime)
	}
	if p.IdleTimeout != 0 && (p.IdleTimeout < MinIdleTimeout || p.IdleTimeout > p.SessionLifetime) {
		return fmt.Errorf("the idle timeout must be off or between %s and the session lifetime", MinIdleTimeout)
	}
	return nil
}

// LoadSignIn reads the sign-in policy (the default for what was never
// saved).
func LoadSignIn(ctx context.Context, st Reader) (SignIn, error) {
	p := DefaultSignIn()
	m, err := st.Settings(ctx, KeyRequire2FA, KeyPasswordOff, KeySessionLifetime, KeyIdleTimeout)
	if err != nil {
		return p, err
	}
	p.RequireTwoFactor = m[KeyRequire2FA] == "true"
	p.PasswordSignInOff = m[KeyPasswordOff] == "true"
	if d, err := time.ParseDuration(m[KeySessionLifetime]); err == nil {
		p.SessionLifetime = d
	}
	if d, err := time.ParseDuration(m[KeyIdleTimeout]); err == nil {
		p.IdleTimeout = d
	}
	return p, nil
}

// SaveSignIn checks and stores the sign-in policy.
func SaveSignIn(ctx context.Context, st Store, p SignIn) error {
	if err := p.Check(); err != nil {
		return err
	}
	return st.PutSettings(ctx, map[string]string{
		KeyRequire2FA:      strconv.FormatBool(p.RequireTwoFactor),
		KeyPasswordOff:     strconv.FormatBool(p.PasswordSignInOff),
		KeySessionLifetime: p.SessionLifetime.String(),
		KeyIdleTimeout:     p.IdleTimeout.String(),
	})
}
