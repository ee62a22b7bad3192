package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/herald-news/herald/internal/audit"
)

// Session stages: a session is signed in only at StageFull.
const (
	// StageFull is a signed-in session.
	StageFull = "full"
	// StageSecond has passed the password and waits for a second factor.
	StageSecond = "second"
	// StageEnrol has passed the password and must set up a second factor
	// before anything else (the owners' two-factor requirement).
	StageEnrol = "enrol"
)

// Session is a signed-in admin browser. IDHash is the SHA-256 (hex) of the
// cookie value; CSRF is the token its forms must carry. Stage is one of
// StageFull, StageSecond or StageEnrol; Method says how it began
// (password, passkey, sso:NAME); UserAgent and IP are the browser's when it
// signed in, LastSeenAt its latest request (to within a minute).
type Session struct {
	IDHash     string
	UserID     int64
	CSRF       string
	Stage      string
	Method     string
	UserAgent  string
	IP         string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastSeenAt time.Time
}

// CreateSession stores a session.
func (s *Store) CreateSession(ctx context.Context, ss *Session) error {
	ss.CreatedAt = s.now()
	ss.LastSeenAt = ss.CreatedAt
	if ss.Stage == "" {
		ss.Stage = StageFull
	}
	if ss.Method == "" {
		ss.Method = "password"
	}
	_, err := s.w.ExecContext(ctx, `
		INSERT INTO sessions (id_hash, user_id, csrf, stage, method, user_agent, ip, created_at, expires_at, last_seen_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8)`,
		ss.IDHash, ss.UserID, ss.CSRF, ss.Stage, ss.Method, truncate(ss.UserAgent, 400), ss.IP, ss.CreatedAt, ss.ExpiresAt.UTC())
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

const sessionColumns = `s.id_hash, s.user_id, s.csrf, s.stage, s.method, s.user_agent, s.ip, s.created_at, s.expires_at, s.last_seen_at`

func sessionDest(ss *Session, last *sql.NullTime) []any {
	return []any{&ss.IDHash, &ss.UserID, &ss.CSRF, &ss.Stage, &ss.Method, &ss.UserAgent, &ss.IP, &ss.CreatedAt, &ss.ExpiresAt, last}
}

// SessionUser returns an unexpired session and its user.
func (s *Store) SessionUser(ctx context.Context, idHash string) (*Session, *User, error) {
	var ss Session
	var last sql.NullTime
	u, err := scanUser(s.r.QueryRowContext(ctx, `
		SELECT `+userColumns+`, `+sessionColumns+`
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.id_hash = $1 AND s.expires_at > $2`, idHash, s.now()), sessionDest(&ss, &last)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, fmt.Errorf("session: %w", ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read session: %w", err)
	}
	ss.LastSeenAt = last.Time
	if !last.Valid {
		ss.LastSeenAt = ss.CreatedAt
	}
	return &ss, u, nil
}

// UserSessions returns a user's unexpired sessions that are signed in,
// the most recently seen first.
func (s *Store) UserSessions(ctx context.Context, userID int64) ([]Session, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+sessionColumns+` FROM sessions s
		WHERE s.user_id = $1 AND s.expires_at > $2 AND s.stage = $3
		ORDER BY COALESCE(s.last_seen_at, s.created_at) DESC, s.created_at DESC`, userID, s.now(), StageFull)
	if err != nil {
		return nil, fmt.Errorf("read sessions of user %d: %w", userID, err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var ss Session
		var last sql.NullTime
		if err := rows.Scan(sessionDest(&ss, &last)...); err != nil {
			return nil, fmt.Errorf("read sessions of user %d: %w", userID, err)
		}
		ss.LastSeenAt = last.Time
		if !last.Valid {
			ss.LastSeenAt = ss.CreatedAt
		}
		out = append(out, ss)
	}
	return out, rows.Err()
}

// TouchSession records that a session was just used.
func (s *Store) TouchSession(ctx context.Context, idHash string) error {
	if _, err := s.w.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2`, s.now(), idHash); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// DeleteSession ends one session (sign out).
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = $1`, idHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUserSession ends one of a user's sessions (audited); a session of
// another user is ErrNotFound.
func (s *Store) DeleteUserSession(ctx context.Context, userID int64, idHash string) error {
	return s.inAuditedTx(ctx, audit.SessionEnd, func(tx *sql.Tx) (string, audit.Changes, error) {
		var ua, ip string
		err := tx.QueryRowContext(ctx, `DELETE FROM sessions WHERE id_hash = $1 AND user_id = $2 RETURNING user_agent, ip`, idHash, userID).Scan(&ua, &ip)
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil, fmt.Errorf("session: %w", ErrNotFound)
		}
		if err != nil {
			return "", nil, fmt.Errorf("delete session: %w", err)
		}
		return audit.Object("user", userID), audit.Changes{}.Set("session", ip+" "+truncate(ua, 120), nil), nil
	})
}

// DeleteUserSessions ends every session of a user, as part of another
// change (password, role) that is recorded itself, and returns how many
// there were.
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID)
	if err != nil {
		return 0, fmt.Errorf("delete sessions of user %d: %w", userID, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// DeleteOtherSessions ends every session of a user but keep (a hash; ""
// keeps none: an owner signing someone out everywhere), audited, and
// returns how many it ended.
func (s *Store) DeleteOtherSessions(ctx context.Context, userID int64, keep string) (int64, error) {
	var n int64
	err := s.inAuditedTx(ctx, audit.SessionEnd, func(tx *sql.Tx) (string, audit.Changes, error) {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2`, userID, keep)
		if err != nil {
			return "", nil, err
		}
		if n, _ = res.RowsAffected(); n == 0 {
			return "", nil, nil
		}
		return audit.Object("user", userID), audit.Changes{}.Set("sessions_ended", nil, n), nil
	})
	if err != nil {
		return 0, fmt.Errorf("delete sessions of user %d: %w", userID, err)
	}
	return n, nil
}

// DeleteExpiredSessions removes sessions past their expiry, and those
// idle for longer than idle when it is set.
func (s *Store) DeleteExpiredSessions(ctx context.Context, idle time.Duration) (int64, error) {
	now := s.now()
	cutoff := time.Time{}
	if idle > 0 {
		cutoff = now.Add(-idle)
	}
	res, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1 OR COALESCE(last_seen_at, created_at) < $2`, now, cutoff)
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// SetSessionStage moves a session to another stage (enrolment done).
func (s *Store) SetSessionStage(ctx context.Context, idHash, stage string) error {
	if _, err := s.w.ExecContext(ctx, `UPDATE sessions SET stage = $1 WHERE id_hash = $2`, stage, idHash); err != nil {
		return fmt.Errorf("set session stage: %w", err)
	}
	return nil
}
