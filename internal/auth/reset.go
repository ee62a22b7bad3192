package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/token"
)

// ResetTTL is how long a password reset link works.
const ResetTTL = 30 * time.Minute

// ResetsPerWindow reset messages at most go to one account per
// ResetWindow, whichever nodes and clients ask (counted in the store).
const (
	ResetsPerWindow = 3
	ResetWindow     = 15 * time.Minute
)

// ErrResetLink is a reset link that is forged, used or expired: one answer
// for all.
var ErrResetLink = errors.New("this reset link is not valid: it may have been used or be older than 30 minutes")

// RequestReset queues a password reset link to email when it is a user's
// address. It answers the same (nil) whether or not it is, so the form
// tells a stranger nothing. A client asking too often is refused
// (ErrRateLimited, for every address alike); an account that had
// ResetsPerWindow messages in the last ResetWindow gets no more for now,
// with the same answer, so nobody can fill someone's mailbox.
func (s *Service) RequestReset(ctx context.Context, email string, c Client) error {
	email = strings.ToLower(strings.TrimSpace(email))
	if !s.resets.Allow(c.IP, email) {
		return ErrRateLimited
	}
	s.resets.Fail(c.IP, email) // every request counts, not only failures
	if s.opts.Signer == nil {
		return nil
	}
	pol, err := s.policy(ctx)
	if err != nil {
		return err
	}
	if pol.PasswordSignInOff {
		return nil // a password would not let them in
	}
	u, err := s.st.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		s.opts.Log.Info("password reset asked for an unknown address", "client", c.IP)
		return nil
	}
	if err != nil {
		return err
	}
	now := s.opts.Now()
	if n, err := s.st.RecentPasswordResets(ctx, u.ID, now.Add(-ResetWindow)); err != nil {
		return err
	} else if n >= ResetsPerWindow {
		s.opts.Log.Warn("password reset not sent: too many for this account", "user", u.Email, "client", c.IP)
		return nil
	}
	r, err := s.st.QueuePasswordReset(ctx, u.ID, now.Add(ResetTTL))
	if err != nil {
		return err
	}
	s.opts.Log.Info("password reset link queued", "user", u.Email, "reset", r.ID, "client", c.IP)
	return nil
}

// ResetLink returns the link of reset request r, signed so that only
// Herald can make one; it is single-use in the store.
func ResetLink(signer *token.Signer, baseURL string, r *store.PasswordReset) string {
	tok := signer.Sign(token.Claims{Purpose: token.PasswordReset, SubscriberID: r.ID, Expires: r.ExpiresAt})
	return strings.TrimSuffix(baseURL, "/") + "/admin/reset/" + tok
}

// CheckResetLink returns the user a reset link is for while it is unused
// and unexpired.
func (s *Service) CheckResetLink(ctx context.Context, tok string) (*store.User, error) {
	_, u, err := s.resetRequest(ctx, tok)
	return u, err
}

func (s *Service) resetRequest(ctx context.Context, tok string) (*store.PasswordReset, *store.User, error) {
	if s.opts.Signer == nil {
		return nil, nil, ErrResetLink
	}
	cl, err := s.opts.Signer.Verify(tok, token.PasswordReset, s.opts.Now())
	if err != nil {
		return nil, nil, ErrResetLink
	}
	r, u, err := s.st.PasswordResetByID(ctx, cl.SubscriberID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrResetLink
	}
	if err != nil {
		return nil, nil, err
	}
	if !r.UsedAt.IsZero() || !s.opts.Now().Before(r.ExpiresAt) {
		return nil, nil, ErrResetLink
	}
	return r, u, nil
}

// ResetPassword sets a new password through a reset link, spends the link
// (and any other of the user's) and ends all the user's sessions.
func (s *Service) ResetPassword(ctx context.Context, tok, password string, c Client) (*store.User, error) {
	if !s.limiter.Allow(c.IP, "reset") {
		return nil, ErrRateLimited
	}
	pol, err := s.policy(ctx)
	if err != nil {
		return nil, err
	}
	if pol.PasswordSignInOff {
		return nil, ErrPasswordSignInOff
	}
	r, ru, err := s.resetRequest(ctx, tok)
	if err != nil {
		s.limiter.Fail(c.IP, "reset")
		return nil, err
	}
	// The change is the user's own, made through the admin's reset page.
	ctx = audit.WithActor(ctx, audit.Actor{UserID: ru.ID, Name: ru.Email, Via: audit.ViaAdmin, IP: c.IP})
	h, err := HashPassword(password, s.opts.BcryptCost)
	if err != nil {
		return nil, err
	}
	u, err := s.st.UsePasswordReset(ctx, r.ID, h)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrResetLink
	}
	if err != nil {
		return nil, fmt.Errorf("reset password: %w", err)
	}
	s.opts.Log.Info("password reset through a link; sessions ended", "user", u.Email, "client", c.IP)
	return u, nil
}
