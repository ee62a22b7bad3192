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

// BounceEvent is one recorded bounce or complaint, with its subscriber's
// address.
type BounceEvent struct {
	At           time.Time
	Kind         model.EventKind // bounce, soft_bounce or complaint
	SubscriberID int64
	Email        string // "" when the subscriber is gone
	CampaignID   int64
	Detail       string
}

// BounceEvents returns the latest bounces and complaints of a subscriber
// (subscriberID set) or of a campaign (campaignID set), newest first.
func (s *Store) BounceEvents(ctx context.Context, subscriberID, campaignID int64, limit int) ([]BounceEvent, error) {
	where, arg := "e.subscriber_id = $1", subscriberID
	if subscriberID == 0 {
		where, arg = "e.campaign_id = $1", campaignID
	}
	rows, err := s.r.QueryContext(ctx, `SELECT e.at, e.kind, COALESCE(e.subscriber_id, 0), COALESCE(sub.email, ''), COALESCE(e.campaign_id, 0), e.detail
		FROM events e LEFT JOIN subscribers sub ON sub.id = e.subscriber_id
		WHERE `+where+` AND e.kind IN ('bounce', 'soft_bounce', 'complaint')
		ORDER BY e.at DESC, e.id DESC LIMIT $2`, arg, limit)
	if err != nil {
		return nil, fmt.Errorf("read bounces: %w", err)
	}
	defer rows.Close()
	var out []BounceEvent
	for rows.Next() {
		var b BounceEvent
		if err := rows.Scan(&b.At, &b.Kind, &b.SubscriberID, &b.Email, &b.CampaignID, &b.Detail); err != nil {
			return nil, fmt.Errorf("read bounces: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}
