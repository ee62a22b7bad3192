package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/herald-news/herald/internal/model"
)

// SoftBounce counts one soft bounce for an address and suppresses it (as a
// hard bounce) when threshold soft bounces arrived with no gap longer than
// window between them. It returns the count so far and whether the address
// is now suppressed; a suppressed address's count starts over.
func (s *Store) SoftBounce(ctx context.Context, email, detail string, threshold int, window time.Duration) (int, bool, error) {
	now := s.now()
	count := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var last time.Time
		err := tx.QueryRowContext(ctx, `SELECT count, last_at FROM soft_bounces WHERE email = $1`, email).Scan(&count, &last)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			count = 0
		case err != nil:
			return err
		case window > 0 && now.Sub(last) > window:
			count = 0 // the earlier run of bounces is over
		}
		count++
		_, err = tx.ExecContext(ctx, `INSERT INTO soft_bounces (email, count, first_at, last_at, detail) VALUES ($1, $2, $3, $3, $4)
			ON CONFLICT (email) DO UPDATE SET count = excluded.count, last_at = excluded.last_at, detail = excluded.detail,
			first_at = CASE WHEN excluded.count = 1 THEN excluded.first_at ELSE soft_bounces.first_at END`,
			email, count, now, detail)
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("count soft bounce: %w", err)
	}
	if threshold <= 0 || count < threshold {
		return count, false, nil
	}
	if err := s.Suppress(ctx, email, model.SuppressHardBounce, fmt.Sprintf("%d soft bounces; last: %s", count, detail)); err != nil {
		return count, false, err
	}
	if _, err := s.w.ExecContext(ctx, `DELETE FROM soft_bounces WHERE email = $1`, email); err != nil {
		return count, true, fmt.Errorf("reset soft bounces: %w", err)
	}
	return count, true, nil
}

// SoftBounceCount returns the current soft-bounce count of an address (0
// when none is counted).
func (s *Store) SoftBounceCount(ctx context.Context, email string) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count FROM soft_bounces WHERE email = $1`, email).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read soft bounces: %w", err)
	}
	return n, nil
}
