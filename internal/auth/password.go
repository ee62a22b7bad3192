package auth

import (
	"context"

	"golang.org/x/crypto/bcrypt"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/validator"
)

// Errors ChangePassword returns besides validator.Password's; test with
// errors.Is. Each names the form field it is about.
var (
	// ErrCurrentPassword is a wrong current password.
	ErrCurrentPassword = &validator.Error{Field: "current", Message: "That is not your current password."}
	// ErrSamePassword is a new password equal to the one it replaces.
	ErrSamePassword = &validator.Error{Field: "password", Message: "Choose a password other than the one it replaces."}
)

// NeedsCurrentPassword reports whether changing id's password asks for
// the current one: always, but right after a sign-in with a password
// Herald generated, which the session has just proved.
func NeedsCurrentPassword(id *Identity) bool {
	return !(id.User.MustChangePassword && id.Method == "password")
}

// ChangePassword sets a signed-in user's own password: the current one
// (unless NeedsCurrentPassword says otherwise) must be theirs, the new
// one must pass validator.Password and differ from it. Every other
// session of theirs ends; the one making the change (id) stays signed
// in. The change is audited; wrong current passwords count towards the
// sign-in limit. It returns how many sessions ended.
func (s *Service) ChangePassword(ctx context.Context, id *Identity, current, next string, c Client) (int64, error) {
	u := id.User
	pol, err := s.policy(ctx)
	if err != nil {
		return 0, err
	}
	if pol.PasswordSignInOff {
		return 0, ErrPasswordSignInOff
	}
	key := "password:" + u.Email
	if !s.limiter.Allow(c.IP, key) {
		return 0, ErrRateLimited
	}
	// Read the hash again: the identity may be a minute old.
	fresh, err := s.st.UserByID(ctx, u.ID)
	if err != nil {
		return 0, err
	}
	if NeedsCurrentPassword(id) {
		if bcrypt.CompareHashAndPassword([]byte(fresh.PasswordHash), []byte(current)) != nil {
			s.limiter.Fail(c.IP, key)
			s.opts.Log.Warn("password change refused: wrong current password", "user", u.Email, "client", c.IP)
			return 0, ErrCurrentPassword
		}
	}
	if err := validator.Password(next); err != nil {
		return 0, err
	}
	if bcrypt.CompareHashAndPassword([]byte(fresh.PasswordHash), []byte(next)) == nil {
		return 0, ErrSamePassword
	}
	h, err := HashPassword(next, s.opts.BcryptCost)
	if err != nil {
		return 0, err
	}
	if _, ok := audit.ActorFrom(ctx); !ok {
		// The change is the user's own, whichever door they came through.
		ctx = audit.WithActor(ctx, audit.Actor{UserID: u.ID, Name: u.Email, Via: audit.ViaAdmin, IP: c.IP})
	}
	ended, err := s.st.SetUserPassword(ctx, u.ID, h, false, id.SessionHash)
	if err != nil {
		return 0, err
	}
	s.limiter.Succeed(c.IP, key)
	u.PasswordHash, u.MustChangePassword = h, false
	s.opts.Log.Info("password changed by its user; other sessions ended", "user", u.Email, "ended", ended, "client", c.IP)
	return ended, nil
}
