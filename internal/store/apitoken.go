package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/herald-news/herald/internal/audit"
)

// APIToken is a credential for the JSON API. Hash is the SHA-256 (hex) of
// the token, which is shown once when created; Prefix is its first
// characters, so people can tell their tokens apart. Role is at most the
// owning user's.
type APIToken struct {
	ID         int64
	UserID     int64
	Name       string
	Role       string
	Prefix     string
	Hash       string
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// CreateAPIToken stores a token and fills in its ID and time.
func (s *Store) CreateAPIToken(ctx context.Context, t *APIToken) error {
	now := s.now()
	err := s.inAuditedTx(ctx, audit.TokenCreate, func(tx *sql.Tx) (string, audit.Changes, error) {
		err := tx.QueryRowContext(ctx, `
			INSERT INTO api_tokens (user_id, name, role, prefix, hash, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			t.UserID, t.Name, t.Role, t.Prefix, t.Hash, now).Scan(&t.ID)
		if err != nil {
			return "", nil, fmt.Errorf("create API token: %w", err)
		}
		// The prefix tells tokens apart; the token and its hash stay out.
		return audit.Object("token", t.ID), audit.Changes{}.Set("name", nil, t.Name).Set("role", nil, t.Role).
			Set("prefix", nil, t.Prefix).Set("user_id", nil, t.UserID), nil
	})
	if err != nil {
		return err
	}
	t.CreatedAt = now
	return nil
}

// APITokenUser returns the token with the given hash and its user, and
// records that it was used.
func (s *Store) APITokenUser(ctx context.Context, hash string) (*APIToken, *User, error) {
	var t APIToken
	var u User
	var tokUsed, userLast sql.NullTime
	err := s.r.QueryRowContext(ctx, `
		SELECT t.id, t.user_id, t.name, t.role, t.prefix, t.hash, t.created_at, t.last_used_at,
		       u.id, u.email, u.name, u.role, u.password_hash, u.created_at, u.updated_at, u.last_login_at, u.language
		FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = $1`, hash).
		Scan(&t.ID, &t.UserID, &t.Name, &t.Role, &t.Prefix, &t.Hash, &t.CreatedAt, &tokUsed,
			&u.ID, &u.Email, &u.Name, &u.Role, &u.PasswordHash, &u.CreatedAt, &u.UpdatedAt, &userLast, &u.Language)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, fmt.Errorf("API token: %w", ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read API token: %w", err)
	}
	t.LastUsedAt, u.LastLoginAt = tokUsed.Time, userLast.Time
	// Recorded at most once a minute per token, so busy clients do not
	// turn every read into a write.
	now := s.now()
	if now.Sub(t.LastUsedAt) > time.Minute {
		if _, err := s.w.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = $1 WHERE id = $2`, now, t.ID); err != nil {
			return nil, nil, fmt.Errorf("record API token use: %w", err)
		}
		t.LastUsedAt = now
	}
	return &t, &u, nil
}

// APITokens lists a user's tokens (every user's with userID 0), newest first.
func (s *Store) APITokens(ctx context.Context, userID int64) ([]APIToken, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT id, user_id, name, role, prefix, hash, created_at, last_used_at FROM api_tokens
		WHERE $1 = 0 OR user_id = $1 ORDER BY id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("read API tokens: %w", err)
	}
	defer rows.Close()
	var out []APIToken
	for rows.Next() {
		var t APIToken
		var used sql.NullTime
		if err := rows.Scan(&t.ID, &t.UserID, &t.Name, &t.Role, &t.Prefix, &t.Hash, &t.CreatedAt, &used); err != nil {
			return nil, fmt.Errorf("read API tokens: %w", err)
		}
		t.LastUsedAt = used.Time
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeleteAPIToken revokes a token.
func (s *Store) DeleteAPIToken(ctx context.Context, id int64) error {
	return s.inAuditedTx(ctx, audit.TokenDelete, func(tx *sql.Tx) (string, audit.Changes, error) {
		var name, prefix string
		err := tx.QueryRowContext(ctx, `DELETE FROM api_tokens WHERE id = $1 RETURNING name, prefix`, id).Scan(&name, &prefix)
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil, fmt.Errorf("API token %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return "", nil, fmt.Errorf("delete API token %d: %w", id, err)
		}
		return audit.Object("token", id), audit.Changes{}.Set("name", name, nil).Set("prefix", prefix, nil), nil
	})
}
