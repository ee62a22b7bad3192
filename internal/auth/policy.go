package auth

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/herald-news/herald/internal/store"
)

// Policy is how the newsroom signs in, set by owners (Admin → Settings →
// Sign-in).
type Policy struct {
	// RequireTwoFactor sends owners and editors without a second factor
	// to enrolment at their next sign-in.
	RequireTwoFactor bool
	// PasswordSignInOff refuses passwords and passkeys in the admin: staff
	// sign in through single sign-on. The CLI (herald user passwd, herald
	// settings) is the way back in.
	PasswordSignInOff bool
	// SessionLifetime is how long a sign-in lasts at most.
	SessionLifetime time.Duration
	// IdleTimeout ends a session not used for that long (0: never).
	IdleTimeout time.Duration
}

// Settings keys of the policy.
const (
	settingRequire2FA  = "auth_require_2fa"
	settingPasswordOff = "auth_password_off"
	settingLifetime    = "auth_session_lifetime"
	settingIdle        = "auth_idle_timeout"
)

// Bounds of the session settings.
const (
	DefaultSessionLifetime = 12 * time.Hour
	DefaultIdleTimeout     = 2 * time.Hour
	minLifetime            = 10 * time.Minute
	maxLifetime            = 90 * 24 * time.Hour
	minIdle                = 5 * time.Minute
)

// DefaultPolicy is the policy until an owner saves one.
func DefaultPolicy() Policy {
	return Policy{SessionLifetime: DefaultSessionLifetime, IdleTimeout: DefaultIdleTimeout}
}

// Check says what is wrong with a policy, in words for the person who set it.
func (p Policy) Check() error {
	if p.SessionLifetime < minLifetime || p.SessionLifetime > maxLifetime {
		return fmt.Errorf("the session lifetime must be between %s and 90 days", minLifetime)
	}
	if p.IdleTimeout != 0 && (p.IdleTimeout < minIdle || p.IdleTimeout > p.SessionLifetime) {
		return fmt.Errorf("the idle timeout must be off or between %s and the session lifetime", minIdle)
	}
	return nil
}

// LoadPolicy reads the sign-in policy (the default for settings not saved).
func LoadPolicy(ctx context.Context, st *store.Store) (Policy, error) {
	p := DefaultPolicy()
	m, err := st.Settings(ctx, settingRequire2FA, settingPasswordOff, settingLifetime, settingIdle)
	if err != nil {
		return p, err
	}
	p.RequireTwoFactor = m[settingRequire2FA] == "true"
	p.PasswordSignInOff = m[settingPasswordOff] == "true"
	if v, ok := m[settingLifetime]; ok {
		if d, err := time.ParseDuration(v); err == nil {
			p.SessionLifetime = d
		}
	}
	if v, ok := m[settingIdle]; ok {
		if d, err := time.ParseDuration(v); err == nil {
			p.IdleTimeout = d
		}
	}
	return p, nil
}

// SavePolicy checks and stores the sign-in policy. Password sign-in
// cannot be turned off without a single sign-on provider (haveSSO):
// nobody could sign in.
func SavePolicy(ctx context.Context, st *store.Store, p Policy, haveSSO bool) error {
	if err := p.Check(); err != nil {
		return &PolicyError{Reason: err.Error()}
	}
	if p.PasswordSignInOff && !haveSSO {
		return &PolicyError{Reason: "configure a single sign-on provider before turning password sign-in off, or nobody could sign in"}
	}
	return st.PutSettings(ctx, map[string]string{
		settingRequire2FA:  strconv.FormatBool(p.RequireTwoFactor),
		settingPasswordOff: strconv.FormatBool(p.PasswordSignInOff),
		settingLifetime:    p.SessionLifetime.String(),
		settingIdle:        p.IdleTimeout.String(),
	})
}

// PolicyError is a policy refused, with the reason for the person.
type PolicyError struct{ Reason string }

func (e *PolicyError) Error() string { return e.Reason }

// policyCache keeps the policy read for a few seconds, so a request does
// not pay a settings query; a change reaches every node within policyTTL.
type policyCache struct {
	mu   sync.Mutex
	p    Policy
	read time.Time
}

const policyTTL = 5 * time.Second

// policy returns the sign-in policy, read at most every policyTTL.
func (s *Service) policy(ctx context.Context) (Policy, error) {
	s.pc.mu.Lock()
	defer s.pc.mu.Unlock()
	now := s.opts.Now()
	if !s.pc.read.IsZero() && now.Sub(s.pc.read) < policyTTL && now.After(s.pc.read) {
		return s.pc.p, nil
	}
	p, err := LoadPolicy(ctx, s.st)
	if err != nil {
		return p, err
	}
	s.pc.p, s.pc.read = p, now
	return p, nil
}

// Policy returns the sign-in policy in force.
func (s *Service) Policy(ctx context.Context) (Policy, error) { return s.policy(ctx) }

// SavePolicy stores a new policy and applies it at once on this node.
func (s *Service) SavePolicy(ctx context.Context, p Policy) error {
	if err := SavePolicy(ctx, s.st, p, len(s.sso) > 0); err != nil {
		return err
	}
	s.pc.mu.Lock()
	s.pc.p, s.pc.read = p, s.opts.Now()
	s.pc.mu.Unlock()
	return nil
}
