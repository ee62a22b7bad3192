package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/herald-news/herald/internal/model"
)

// Subscriptions returns a subscriber's subscriptions in list-slug order.
func (s *Store) Subscriptions(ctx context.Context, subscriberID int64) ([]model.Subscription, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT s.subscriber_id, s.list_id, l.slug, s.status, s.source, s.updated_at
		FROM subscriptions s JOIN lists l ON l.id = s.list_id
		WHERE s.subscriber_id = $1 ORDER BY l.slug`, subscriberID)
	if err != nil {
		return nil, fmt.Errorf("read subscriptions: %w", err)
	}
	defer rows.Close()
	var out []model.Subscription
	for rows.Next() {
		var sub model.Subscription
		if err := rows.Scan(&sub.SubscriberID, &sub.ListID, &sub.ListSlug, &sub.Status, &sub.Source, &sub.UpdatedAt); err != nil {
			return nil, fmt.Errorf("read subscriptions: %w", err)
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

// SetSubscription puts a subscriber on a list with the given status, or
// changes the status, and records the change with its source.
func (s *Store) SetSubscription(ctx context.Context, subscriberID, listID int64, status model.SubscriptionStatus, source model.Source) error {
	if !status.Valid() {
		return fmt.Errorf("unknown subscription status %q", status)
	}
	now := s.now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO subscriptions (list_id, subscriber_id, status, source, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $5)
			ON CONFLICT (list_id, subscriber_id) DO UPDATE
			SET status = excluded.status, source = excluded.source, updated_at = excluded.updated_at`,
			listID, subscriberID, status, source, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO subscription_log (list_id, subscriber_id, status, source, at) VALUES ($1, $2, $3, $4, $5)`,
			listID, subscriberID, status, source, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("set subscription: %w", err)
	}
	return nil
}

// SubscriptionChange is one entry of a subscription's history.
type SubscriptionChange struct {
	ListSlug string
	Status   model.SubscriptionStatus
	Source   model.Source
	At       time.Time
}

// SubscriptionHistory returns every change of a subscriber's subscriptions,
// oldest first.
func (s *Store) SubscriptionHistory(ctx context.Context, subscriberID int64) ([]SubscriptionChange, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT l.slug, g.status, g.source, g.at
		FROM subscription_log g JOIN lists l ON l.id = g.list_id
		WHERE g.subscriber_id = $1 ORDER BY g.at, g.id`, subscriberID)
	if err != nil {
		return nil, fmt.Errorf("read subscription history: %w", err)
	}
	defer rows.Close()
	var out []SubscriptionChange
	for rows.Next() {
		var c SubscriptionChange
		if err := rows.Scan(&c.ListSlug, &c.Status, &c.Source, &c.At); err != nil {
			return nil, fmt.Errorf("read subscription history: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
