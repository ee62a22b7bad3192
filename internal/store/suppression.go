package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/herald-news/herald/internal/model"
)

// Suppress blocks an address across every list, including the rows of
// running campaigns not yet sent to it. Suppressing an address that is
// already suppressed keeps the first reason and time. A hard bounce or a
// complaint queues the subscriber.bounced or subscriber.complained
// webhooks in the same transaction, every time one is reported.
func (s *Store) Suppress(ctx context.Context, email string, reason model.SuppressionReason, detail string) error {
	if !reason.Valid() {
		return fmt.Errorf("unknown suppression reason %q", reason)
	}
	now := s.now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO suppressions (email, reason, detail, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (email) DO NOTHING`, email, reason, detail, now); err != nil {
			return err
		}
		// Mail not yet sent to the address stops now, in running campaigns too.
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'skipped', last_reply = $1, updated_at = $2
			WHERE email = $3 AND status IN ('pending', 'deferred')`, "suppressed: "+string(reason), now, email); err != nil {
			return err
		}
		// A bounce or complaint is news for webhooks each time it comes.
		return queueSuppressionWebhookTx(ctx, tx, email, reason, detail, now)
	})
	if err != nil {
		return fmt.Errorf("suppress %s: %w", email, err)
	}
	return nil
}

// Unsuppress lifts a suppression (an admin decision).
func (s *Store) Unsuppress(ctx context.Context, email string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM suppressions WHERE email = $1`, email)
	if err != nil {
		return fmt.Errorf("unsuppress %s: %w", email, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("suppression of %s: %w", email, ErrNotFound)
	}
	return nil
}

// Suppression returns the suppression of an address.
func (s *Store) Suppression(ctx context.Context, email string) (*model.Suppression, error) {
	var sp model.Suppression
	err := s.r.QueryRowContext(ctx, `SELECT email, reason, detail, created_at FROM suppressions WHERE email = $1`, email).
		Scan(&sp.Email, &sp.Reason, &sp.Detail, &sp.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("suppression of %s: %w", email, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read suppression: %w", err)
	}
	return &sp, nil
}

// Suppressions lists suppressions, newest first.
func (s *Store) Suppressions(ctx context.Context, offset, limit int) ([]model.Suppression, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT email, reason, detail, created_at FROM suppressions
		ORDER BY created_at DESC, email LIMIT $1 OFFSET $2`, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("read suppressions: %w", err)
	}
	defer rows.Close()
	var out []model.Suppression
	for rows.Next() {
		var sp model.Suppression
		if err := rows.Scan(&sp.Email, &sp.Reason, &sp.Detail, &sp.CreatedAt); err != nil {
			return nil, fmt.Errorf("read suppressions: %w", err)
		}
		out = append(out, sp)
	}
	return out, rows.Err()
}
