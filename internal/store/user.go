package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/validator"
)

// User is a person who signs in to the admin. Role is one of owner, editor,
// author or viewer (package auth says what each may do). PasswordHash is a
// bcrypt hash; the password itself is never stored.
type User struct {
	ID           int64
	Email        string
	Name         string
	Role         string
	PasswordHash string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	LastLoginAt  time.Time
	// Language is the admin's language for this user (BCP 47); "" is
	// English.
	Language string
	// TOTP says an authenticator app is enrolled; Passkeys counts the
	// user's passkeys. Read only: package auth changes them.
	TOTP     bool
	Passkeys int
}

// userColumns reads a user from the users table aliased u.
const userColumns = `u.id, u.email, u.name, u.role, u.password_hash, u.created_at, u.updated_at, u.last_login_at, u.language,
	u.totp_secret <> '', (SELECT COUNT(*) FROM passkeys p WHERE p.user_id = u.id)`

func scanUser(row interface{ Scan(...any) error }, extra ...any) (*User, error) {
	var u User
	var last sql.NullTime
	dest := append([]any{&u.ID, &u.Email, &u.Name, &u.Role, &u.PasswordHash, &u.CreatedAt, &u.UpdatedAt, &last, &u.Language, &u.TOTP, &u.Passkeys}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	u.LastLoginAt = last.Time
	return &u, nil
}

// CreateUser stores a new user and fills in its ID and times. A user with
// the same email is ErrConflict.
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	now := s.now()
	err := s.inAuditedTx(ctx, audit.UserCreate, func(tx *sql.Tx) (string, audit.Changes, error) {
		err := tx.QueryRowContext(ctx, `
			INSERT INTO users (email, name, role, password_hash, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $5) RETURNING id`,
			u.Email, u.Name, u.Role, u.PasswordHash, now).Scan(&u.ID)
		if isUniqueViolation(err) {
			return "", nil, fmt.Errorf("user %s: %w", u.Email, ErrConflict)
		}
		if err != nil {
			return "", nil, fmt.Errorf("create user %s: %w", u.Email, err)
		}
		return audit.Object("user", u.ID), audit.Changes{}.Set("email", nil, u.Email).Set("name", nil, u.Name).Set("role", nil, u.Role), nil
	})
	if err != nil {
		return err
	}
	u.CreatedAt, u.UpdatedAt = now, now
	return nil
}

// SetUserLanguage sets the language user id reads the admin in ("" is
// English), once validator.AdminLanguage accepts it.
func (s *Store) SetUserLanguage(ctx context.Context, id int64, lang string) error {
	if err := validator.AdminLanguage(lang); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var before string
		err := tx.QueryRowContext(ctx, `SELECT language FROM users WHERE id = $1`, id).Scan(&before)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("set the language of user %d: %w", id, err)
		}
		if before == lang {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET language = $1, updated_at = $2 WHERE id = $3`, lang, s.now(), id); err != nil {
			return fmt.Errorf("set the language of user %d: %w", id, err)
		}
		return s.audit(ctx, tx, audit.UserUpdate, audit.Object("user", id), audit.Changes{}.Set("language", before, lang))
	})
}

// UpdateUser saves a user's name, role and password hash.
func (s *Store) UpdateUser(ctx context.Context, u *User) error {
	now := s.now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, u.ID))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user %d: %w", u.ID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("update user %d: %w", u.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET name = $1, role = $2, password_hash = $3, updated_at = $4 WHERE id = $5`,
			u.Name, u.Role, u.PasswordHash, now, u.ID); err != nil {
			return fmt.Errorf("update user %d: %w", u.ID, err)
		}
		// The password's hash only says that it changed (package audit
		// hides it).
		ch := audit.Changes{}.Set("name", old.Name, u.Name).Set("role", old.Role, u.Role).Set("password", old.PasswordHash, u.PasswordHash)
		action := audit.UserUpdate
		switch {
		case len(ch) == 0:
			return nil
		case old.Role != u.Role:
			action = audit.UserRole
		case len(ch) == 1 && old.PasswordHash != u.PasswordHash:
			action = audit.UserPassword
		}
		return s.audit(ctx, tx, action, audit.Object("user", u.ID), ch)
	})
	if err != nil {
		return err
	}
	u.UpdatedAt = now
	return nil
}

// DeleteUser removes a user with their sessions and API tokens.
func (s *Store) DeleteUser(ctx context.Context, id int64) error {
	return s.inAuditedTx(ctx, audit.UserDelete, func(tx *sql.Tx) (string, audit.Changes, error) {
		var email, role string
		err := tx.QueryRowContext(ctx, `DELETE FROM users WHERE id = $1 RETURNING email, role`, id).Scan(&email, &role)
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil, fmt.Errorf("user %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return "", nil, fmt.Errorf("delete user %d: %w", id, err)
		}
		return audit.Object("user", id), audit.Changes{}.Set("email", email, nil).Set("role", role, nil), nil
	})
}

// UserByID returns the user with the given ID.
func (s *Store) UserByID(ctx context.Context, id int64) (*User, error) {
	u, err := scanUser(s.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("user %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read user %d: %w", id, err)
	}
	return u, nil
}

// UserByEmail returns the user with the given (lower-case) email.
func (s *Store) UserByEmail(ctx context.Context, email string) (*User, error) {
	u, err := scanUser(s.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.email = $1`, email))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("user %s: %w", email, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read user %s: %w", email, err)
	}
	return u, nil
}

// Users returns every user in email order.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+userColumns+` FROM users u ORDER BY u.email`)
	if err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("read users: %w", err)
		}
		out = append(out, *u)
	}
	return out, rows.Err()
}

// CountUsers counts users, optionally only those with a role ("" for all).
func (s *Store) CountUsers(ctx context.Context, role string) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE $1 = '' OR role = $1`, role).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// TouchUserLogin records a successful sign-in.
func (s *Store) TouchUserLogin(ctx context.Context, id int64) error {
	if _, err := s.w.ExecContext(ctx, `UPDATE users SET last_login_at = $1 WHERE id = $2`, s.now(), id); err != nil {
		return fmt.Errorf("record sign-in of user %d: %w", id, err)
	}
	return nil
}
