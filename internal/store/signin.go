package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/model"
)

// TOTP is a user's authenticator state: Secret is the enrolled secret
// ("" without one), Pending one being enrolled, LastStep the time step of
// the last code accepted.
type TOTP struct {
	Secret, Pending string
	LastStep        int64
}

// UserTOTP reads a user's authenticator state.
func (s *Store) UserTOTP(ctx context.Context, userID int64) (TOTP, error) {
	var t TOTP
	err := s.r.QueryRowContext(ctx, `SELECT totp_secret, totp_pending, totp_last_step FROM users WHERE id = $1`, userID).
		Scan(&t.Secret, &t.Pending, &t.LastStep)
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("user %d: %w", userID, ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("read two-factor state of user %d: %w", userID, err)
	}
	return t, nil
}

// SetTOTPPending keeps a secret being enrolled until a code confirms it.
func (s *Store) SetTOTPPending(ctx context.Context, userID int64, secret string) error {
	if _, err := s.w.ExecContext(ctx, `UPDATE users SET totp_pending = $1 WHERE id = $2`, secret, userID); err != nil {
		return fmt.Errorf("save pending secret of user %d: %w", userID, err)
	}
	return nil
}

// ConfirmTOTP makes the pending secret the user's, with step as the last
// step used, and replaces their recovery codes with codeHashes, in one
// transaction. It is ErrConflict when the pending secret changed meanwhile.
func (s *Store) ConfirmTOTP(ctx context.Context, userID int64, pending string, step int64, codeHashes []string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET totp_secret = totp_pending, totp_pending = '', totp_last_step = $1
			WHERE id = $2 AND totp_pending = $3 AND totp_pending <> ''`, step, userID, pending)
		if err != nil {
			return fmt.Errorf("confirm secret of user %d: %w", userID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("pending secret of user %d: %w", userID, ErrConflict)
		}
		if err := replaceRecoveryCodes(ctx, tx, userID, codeHashes); err != nil {
			return err
		}
		return s.audit(ctx, tx, audit.UserTwoFactor, audit.Object("user", userID), audit.Changes{}.Set("app", false, true))
	})
}

// ReplaceRecoveryCodes gives a user a new set of recovery codes.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID int64, codeHashes []string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return replaceRecoveryCodes(ctx, tx, userID, codeHashes) })
}

func replaceRecoveryCodes(ctx context.Context, tx *sql.Tx, userID int64, codeHashes []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("replace recovery codes: %w", err)
	}
	for _, h := range codeHashes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)`, userID, h); err != nil {
			return fmt.Errorf("replace recovery codes: %w", err)
		}
	}
	return nil
}

// UseTOTPStep records that the code of time step was used, and reports
// false when that step or a later one was used already (a replay).
func (s *Store) UseTOTPStep(ctx context.Context, userID, step int64) (bool, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1`, step, userID)
	if err != nil {
		return false, fmt.Errorf("record code use of user %d: %w", userID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// UseRecoveryCode spends one unused recovery code, reporting false when
// the user has no unused code with that hash.
func (s *Store) UseRecoveryCode(ctx context.Context, userID int64, codeHash string) (bool, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL`,
		s.now(), userID, codeHash)
	if err != nil {
		return false, fmt.Errorf("use recovery code of user %d: %w", userID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// RecoveryCodesLeft counts a user's unused recovery codes.
func (s *Store) RecoveryCodesLeft(ctx context.Context, userID int64) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL`, userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count recovery codes of user %d: %w", userID, err)
	}
	return n, nil
}

// ClearSecondFactors removes a user's authenticator secret, recovery codes
// and passkeys in one transaction (an owner's reset, audited), and reports
// whether there was any.
func (s *Store) ClearSecondFactors(ctx context.Context, userID int64) (bool, error) {
	had := false
	err := s.inAuditedTx(ctx, audit.UserTwoFactorReset, func(tx *sql.Tx) (string, audit.Changes, error) {
		var app bool
		var passkeys, codes int
		if err := tx.QueryRowContext(ctx, `SELECT totp_secret <> '',
			(SELECT COUNT(*) FROM passkeys WHERE user_id = $1), (SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL)
			FROM users WHERE id = $1`, userID).Scan(&app, &passkeys, &codes); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return "", nil, fmt.Errorf("user %d: %w", userID, ErrNotFound)
			}
			return "", nil, err
		}
		for _, q := range []string{
			`UPDATE users SET totp_secret = '', totp_pending = '' WHERE id = $1`,
			`DELETE FROM recovery_codes WHERE user_id = $1`,
			`DELETE FROM passkeys WHERE user_id = $1`,
		} {
			if _, err := tx.ExecContext(ctx, q, userID); err != nil {
				return "", nil, err
			}
		}
		had = app || passkeys > 0
		if !had {
			return "", nil, nil // nothing changed, nothing to record
		}
		return audit.Object("user", userID), audit.Changes{}.Set("app", app, false).Set("passkeys", passkeys, 0).Set("codes_left", codes, 0), nil
	})
	if err != nil {
		return false, fmt.Errorf("clear second factors of user %d: %w", userID, err)
	}
	return had, nil
}

// Passkey is a registered WebAuthn credential. Credential is the library's
// record of it as JSON (public key, sign count, flags).
type Passkey struct {
	ID           int64
	UserID       int64
	CredentialID string // base64url
	Name         string
	Credential   string
	CreatedAt    time.Time
	LastUsedAt   time.Time
}

// AddPasskey stores a passkey (audited); a credential ID already stored
// is ErrConflict.
func (s *Store) AddPasskey(ctx context.Context, p *Passkey) error {
	p.CreatedAt = s.now()
	err := s.inAuditedTx(ctx, audit.PasskeyAdd, func(tx *sql.Tx) (string, audit.Changes, error) {
		err := tx.QueryRowContext(ctx, `INSERT INTO passkeys (user_id, credential_id, name, credential, created_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, p.UserID, p.CredentialID, p.Name, p.Credential, p.CreatedAt).Scan(&p.ID)
		if err != nil {
			return "", nil, err
		}
		return audit.Object("passkey", p.ID), audit.Changes{}.Set("user", nil, p.UserID).Set("name", nil, p.Name), nil
	})
	if isUniqueViolation(err) {
		return fmt.Errorf("passkey: %w", ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("add passkey: %w", err)
	}
	return nil
}

// Passkeys returns a user's passkeys, oldest first.
func (s *Store) Passkeys(ctx context.Context, userID int64) ([]Passkey, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, user_id, credential_id, name, credential, created_at, last_used_at
		FROM passkeys WHERE user_id = $1 ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("read passkeys of user %d: %w", userID, err)
	}
	defer rows.Close()
	var out []Passkey
	for rows.Next() {
		var p Passkey
		var last sql.NullTime
		if err := rows.Scan(&p.ID, &p.UserID, &p.CredentialID, &p.Name, &p.Credential, &p.CreatedAt, &last); err != nil {
			return nil, fmt.Errorf("read passkeys of user %d: %w", userID, err)
		}
		p.LastUsedAt = last.Time
		out = append(out, p)
	}
	return out, rows.Err()
}

// UpdatePasskeyUse saves a passkey's credential after a sign-in (its sign
// count moves) and the time it was used.
func (s *Store) UpdatePasskeyUse(ctx context.Context, id int64, credential string) error {
	if _, err := s.w.ExecContext(ctx, `UPDATE passkeys SET credential = $1, last_used_at = $2 WHERE id = $3`, credential, s.now(), id); err != nil {
		return fmt.Errorf("record passkey use: %w", err)
	}
	return nil
}

// DeletePasskey removes one of a user's passkeys (audited).
func (s *Store) DeletePasskey(ctx context.Context, userID, id int64) error {
	return s.inAuditedTx(ctx, audit.PasskeyRemove, func(tx *sql.Tx) (string, audit.Changes, error) {
		var name string
		err := tx.QueryRowContext(ctx, `DELETE FROM passkeys WHERE id = $1 AND user_id = $2 RETURNING name`, id, userID).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil, fmt.Errorf("passkey %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return "", nil, fmt.Errorf("delete passkey: %w", err)
		}
		return audit.Object("passkey", id), audit.Changes{}.Set("user", userID, nil).Set("name", name, nil), nil
	})
}

// PasswordReset is one request for a reset link.
type PasswordReset struct {
	ID        int64
	UserID    int64
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time
}

// QueuePasswordReset stores a reset request for a user valid until
// expires (30 minutes after its creation) and queues its message, in one
// transaction, so a crash loses neither.
func (s *Store) QueuePasswordReset(ctx context.Context, userID int64, expires time.Time) (*PasswordReset, error) {
	now := s.now()
	r := &PasswordReset{UserID: userID, CreatedAt: now, ExpiresAt: expires.UTC()}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO password_resets (user_id, created_at, expires_at) VALUES ($1, $2, $3) RETURNING id`,
			userID, now, r.ExpiresAt).Scan(&r.ID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO mail_queue (kind, reset_id, due_at, created_at) VALUES ($1, $2, $3, $3)`,
			model.MailPasswordReset, r.ID, now)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("queue password reset of user %d: %w", userID, err)
	}
	return r, nil
}

// PasswordResetByID returns a reset request and its user.
func (s *Store) PasswordResetByID(ctx context.Context, id int64) (*PasswordReset, *User, error) {
	var r PasswordReset
	var used sql.NullTime
	u, err := scanUser(s.r.QueryRowContext(ctx, `SELECT `+userColumns+`, r.id, r.user_id, r.created_at, r.expires_at, r.used_at
		FROM password_resets r JOIN users u ON u.id = r.user_id WHERE r.id = $1`, id),
		&r.ID, &r.UserID, &r.CreatedAt, &r.ExpiresAt, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, fmt.Errorf("password reset %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read password reset %d: %w", id, err)
	}
	r.UsedAt = used.Time
	return &r, u, nil
}

// UsePasswordReset spends an unused, unexpired reset request: it sets the
// user's password hash and ends their sessions, all in one transaction.
// A used or expired request is ErrNotFound.
func (s *Store) UsePasswordReset(ctx context.Context, id int64, passwordHash string) (*User, error) {
	now := s.now()
	var userID int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE password_resets SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND expires_at > $1
			RETURNING user_id`, now, id).Scan(&userID)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("password reset %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		// Every other link of the user dies with this one, and so do the
		// sessions: whoever had the old password is signed out.
		if _, err := tx.ExecContext(ctx, `UPDATE password_resets SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL`, now, userID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3`, passwordHash, now, userID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID); err != nil {
			return err
		}
		// The hashes only say that it changed (package audit hides them).
		return s.audit(ctx, tx, audit.UserPassword, audit.Object("user", userID), audit.Changes{}.Set("password", "old", "reset by link"))
	})
	if err != nil {
		return nil, fmt.Errorf("use password reset: %w", err)
	}
	return s.UserByID(ctx, userID)
}

// RecentPasswordResets counts a user's reset requests since t.
func (s *Store) RecentPasswordResets(ctx context.Context, userID int64, since time.Time) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM password_resets WHERE user_id = $1 AND created_at > $2`, userID, since).Scan(&n); err != nil {
		return 0, fmt.Errorf("count password resets: %w", err)
	}
	return n, nil
}

// UserIdentity returns the user linked to a provider's subject.
func (s *Store) UserIdentity(ctx context.Context, provider, subject string) (*User, error) {
	u, err := scanUser(s.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM user_identities i JOIN users u ON u.id = i.user_id
		WHERE i.provider = $1 AND i.subject = $2`, provider, subject))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("identity %s: %w", provider, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read identity %s: %w", provider, err)
	}
	return u, nil
}

// LinkIdentity links a provider's subject to a user.
func (s *Store) LinkIdentity(ctx context.Context, provider, subject string, userID int64) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO user_identities (provider, subject, user_id, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (provider, subject) DO UPDATE SET user_id = excluded.user_id`, provider, subject, userID, s.now())
	if err != nil {
		return fmt.Errorf("link identity %s: %w", provider, err)
	}
	return nil
}

// Challenge is a sign-in ceremony in progress (passkey, single sign-on).
type Challenge struct {
	IDHash    string
	Kind      string
	UserID    int64 // 0: none yet
	Data      string
	ExpiresAt time.Time
}

// PutChallenge stores a challenge, clearing expired ones.
func (s *Store) PutChallenge(ctx context.Context, c *Challenge) error {
	now := s.now()
	var uid any
	if c.UserID != 0 {
		uid = c.UserID
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM auth_challenges WHERE expires_at <= $1`, now); err != nil {
			return fmt.Errorf("clear challenges: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO auth_challenges (id_hash, kind, user_id, data, expires_at) VALUES ($1, $2, $3, $4, $5)`,
			c.IDHash, c.Kind, uid, c.Data, c.ExpiresAt.UTC()); err != nil {
			return fmt.Errorf("save challenge: %w", err)
		}
		return nil
	})
}

// TakeChallenge returns an unexpired challenge of kind and deletes it, so
// it is used once.
func (s *Store) TakeChallenge(ctx context.Context, idHash, kind string) (*Challenge, error) {
	var c Challenge
	var uid sql.NullInt64
	err := s.w.QueryRowContext(ctx, `DELETE FROM auth_challenges WHERE id_hash = $1 AND kind = $2 AND expires_at > $3
		RETURNING id_hash, kind, user_id, data, expires_at`, idHash, kind, s.now()).Scan(&c.IDHash, &c.Kind, &uid, &c.Data, &c.ExpiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("challenge: %w", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read challenge: %w", err)
	}
	c.UserID = uid.Int64
	return &c, nil
}

// RemoveTOTP removes a user's authenticator secret and recovery codes,
// keeping passkeys.
func (s *Store) RemoveTOTP(ctx context.Context, userID int64) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET totp_secret = '', totp_pending = '' WHERE id = $1`, userID); err != nil {
			return fmt.Errorf("remove authenticator of user %d: %w", userID, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
			return fmt.Errorf("remove recovery codes of user %d: %w", userID, err)
		}
		return s.audit(ctx, tx, audit.UserTwoFactor, audit.Object("user", userID), audit.Changes{}.Set("app", true, false))
	})
}
