package auth

import (
	"context"

	"github.com/herald-news/herald/internal/settings"
	"github.com/herald-news/herald/internal/store"
)

// Policy is the sign-in policy (package settings keeps it): two-factor
// required of owners and editors, password sign-in off, session lifetime
// and idle timeout.
type Policy = settings.SignIn

// DefaultPolicy is the policy until an owner saves one.
func DefaultPolicy() Policy { return settings.DefaultSignIn() }

// LoadPolicy reads the sign-in policy.
func LoadPolicy(ctx context.Context, st *store.Store) (Policy, error) {
	return settings.LoadSignIn(ctx, st)
}

// SavePolicy checks and stores the sign-in policy. Password sign-in
// cannot be turned off without a single sign-on provider (haveSSO):
// nobody could sign in.
func SavePolicy(ctx context.Context, st *store.Store, p Policy, haveSSO bool) error {
	if err := p.Check(); err != nil {
		return &PolicyError{Reason: err.Error()}
	}
	if p.PasswordSignInOff && !haveSSO {
		return ErrNeedSSO
	}
	return settings.SaveSignIn(ctx, st, p)
}

// PolicyError is a policy refused, with the reason for the person.
type PolicyError struct{ Reason string }

// The policy's refusals of a change, each its own error so that a front
// door can word it in its reader's language (test with errors.Is).
var (
	// ErrNeedSSO: password sign-in cannot be turned off without a single
	// sign-on provider.
	ErrNeedSSO = &PolicyError{Reason: "configure a single sign-on provider before turning password sign-in off, or nobody could sign in"}
	// ErrNeedPasskeyFirst: the authenticator app is the last second
	// factor the policy requires.
	ErrNeedPasskeyFirst = &PolicyError{Reason: "the newsroom requires a second factor for your role: add a passkey before removing the app"}
	// ErrLastSecondFactor: the passkey is the last second factor the
	// policy requires.
	ErrLastSecondFactor = &PolicyError{Reason: "the newsroom requires a second factor for your role: this is your last one"}
)

// Error returns the reason.
func (e *PolicyError) Error() string { return e.Reason }

// policy returns the sign-in policy in force, read at every use so a
// change on one node applies on all at once.
func (s *Service) policy(ctx context.Context) (Policy, error) { return LoadPolicy(ctx, s.st) }

// Policy returns the sign-in policy in force.
func (s *Service) Policy(ctx context.Context) (Policy, error) { return s.policy(ctx) }

// SavePolicy stores a new policy, with this service's providers deciding
// whether password sign-in may be turned off.
func (s *Service) SavePolicy(ctx context.Context, p Policy) error {
	return SavePolicy(ctx, s.st, p, len(s.sso) > 0)
}
