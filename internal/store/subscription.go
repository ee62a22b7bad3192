package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/herald-news/herald/internal/audit"
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
//
// A new subscription keeps how it began in its own row; later changes go
// to the history table.
func (s *Store) SetSubscription(ctx context.Context, subscriberID, listID int64, status model.SubscriptionStatus, source model.Source) error {
	if !status.Valid() {
		return fmt.Errorf("unknown subscription status %q", status)
	}
	now := s.now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var old model.SubscriptionStatus
		err := tx.QueryRowContext(ctx, `SELECT status FROM subscriptions WHERE subscriber_id = $1 AND list_id = $2`, subscriberID, listID).Scan(&old)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := setSubscriptionTx(ctx, tx, subscriberID, listID, status, source, now); err != nil {
			return err
		}
		if old == status {
			return nil
		}
		return s.audit(ctx, tx, audit.SubscriptionSet, audit.Object("subscriber", subscriberID),
			audit.Changes{}.Set(audit.Object("list", listID), old, status).Set("source", nil, source))
	})
	if err != nil {
		return fmt.Errorf("set subscription: %w", err)
	}
	return nil
}

// SubscriptionChange is one entry of a subscription's history.
// Its JSON (the reader's data download) names the list "list", as the
// download's subscriptions do.
type SubscriptionChange struct {
	ListSlug string                   `json:"list"`
	Status   model.SubscriptionStatus `json:"status"`
	Source   model.Source             `json:"source"`
	At       time.Time                `json:"at"`
}

// SubscriptionHistory returns every change of a subscriber's subscriptions,
// oldest first: how each began, then what changed since.
func (s *Store) SubscriptionHistory(ctx context.Context, subscriberID int64) ([]SubscriptionChange, error) {
	var out []SubscriptionChange
	for _, q := range []string{
		`SELECT l.slug, sp.first_status, sp.first_source, sp.created_at
		FROM subscriptions sp JOIN lists l ON l.id = sp.list_id
		WHERE sp.subscriber_id = $1 ORDER BY sp.created_at`,
		`SELECT l.slug, g.status, g.source, g.at
		FROM subscription_log g JOIN lists l ON l.id = g.list_id
		WHERE g.subscriber_id = $1 ORDER BY g.at, g.id`,
	} {
		rows, err := s.r.QueryContext(ctx, q, subscriberID)
		if err != nil {
			return nil, fmt.Errorf("read subscription history: %w", err)
		}
		for rows.Next() {
			var c SubscriptionChange
			if err := rows.Scan(&c.ListSlug, &c.Status, &c.Source, &c.At); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read subscription history: %w", err)
			}
			out = append(out, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	// Beginnings and later changes, merged by time; a beginning comes
	// before a change at the same instant.
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out, nil
}

// setSubscriptionTx creates or changes one subscription inside tx. A
// subscription that becomes confirmed or unsubscribed queues the webhooks
// listening for that, in the same transaction.
func setSubscriptionTx(ctx context.Context, tx *sql.Tx, subscriberID, listID int64, status model.SubscriptionStatus, source model.Source, now time.Time) error {
	var old model.SubscriptionStatus
	err := tx.QueryRowContext(ctx, `SELECT status FROM subscriptions WHERE list_id = $1 AND subscriber_id = $2`, listID, subscriberID).Scan(&old)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = tx.ExecContext(ctx, `
			INSERT INTO subscriptions (list_id, subscriber_id, status, source, first_status, first_source, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $3, $4, $5, $5)`, listID, subscriberID, status, source, now)
	case err != nil:
		return err
	default:
		if _, err := tx.ExecContext(ctx, `UPDATE subscriptions SET status = $1, source = $2, updated_at = $3
		WHERE list_id = $4 AND subscriber_id = $5`, status, source, now, listID, subscriberID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO subscription_log (list_id, subscriber_id, status, source, at) VALUES ($1, $2, $3, $4, $5)`,
			listID, subscriberID, status, source, now)
	}
	if err != nil || status == old {
		return err
	}
	event := model.EventSubscriberConfirmed
	switch status {
	case model.SubConfirmed:
	case model.SubUnsubscribed:
		event = model.EventSubscriberUnsubscribed
	default:
		return nil
	}
	return queueWebhooksTx(ctx, tx, nil, event, now, subscriptionDataTx(ctx, tx, subscriberID, listID, source))
}
