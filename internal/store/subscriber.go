package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/herald-news/herald/internal/model"
)

const subscriberColumns = `id, email, name, attributes, status, created_at, updated_at`

func scanSubscriber(row interface{ Scan(...any) error }) (*model.Subscriber, error) {
	var sub model.Subscriber
	var attrs []byte
	if err := row.Scan(&sub.ID, &sub.Email, &sub.Name, &attrs, &sub.Status, &sub.CreatedAt, &sub.UpdatedAt); err != nil {
		return nil, err
	}
	if len(attrs) > 0 {
		if err := json.Unmarshal(attrs, &sub.Attributes); err != nil {
			return nil, fmt.Errorf("subscriber %d attributes: %w", sub.ID, err)
		}
	}
	return &sub, nil
}

func marshalAttributes(a map[string]any) (string, error) {
	if len(a) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(a)
	return string(b), err
}

// UpsertSubscriber creates the subscriber, or updates the name, attributes
// and status of the one with the same (normalised) email. It fills in ID and
// times and reports whether a new subscriber was created.
func (s *Store) UpsertSubscriber(ctx context.Context, sub *model.Subscriber) (created bool, err error) {
	if sub.Status == "" {
		sub.Status = model.SubscriberActive
	}
	if err := model.CheckAttributes(sub.Attributes); err != nil {
		return false, err
	}
	attrs, err := marshalAttributes(sub.Attributes)
	if err != nil {
		return false, fmt.Errorf("subscriber attributes: %w", err)
	}
	now := s.now()
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT id, created_at FROM subscribers WHERE email = $1`, sub.Email).Scan(&sub.ID, &sub.CreatedAt)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			created = true
			sub.CreatedAt = now
			return tx.QueryRowContext(ctx, `
				INSERT INTO subscribers (email, name, attributes, status, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $5) RETURNING id`,
				sub.Email, sub.Name, attrs, sub.Status, now).Scan(&sub.ID)
		case err != nil:
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE subscribers SET name = $1, attributes = $2, status = $3, updated_at = $4 WHERE id = $5`,
			sub.Name, attrs, sub.Status, now, sub.ID)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("save subscriber: %w", err)
	}
	sub.UpdatedAt = now
	return created, nil
}

// SubscriberByEmail returns the subscriber with the given normalised email.
func (s *Store) SubscriberByEmail(ctx context.Context, email string) (*model.Subscriber, error) {
	sub, err := scanSubscriber(s.r.QueryRowContext(ctx, `SELECT `+subscriberColumns+` FROM subscribers WHERE email = $1`, email))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("subscriber %s: %w", email, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read subscriber: %w", err)
	}
	return sub, nil
}

// SubscriberByID returns the subscriber with the given ID.
func (s *Store) SubscriberByID(ctx context.Context, id int64) (*model.Subscriber, error) {
	sub, err := scanSubscriber(s.r.QueryRowContext(ctx, `SELECT `+subscriberColumns+` FROM subscribers WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("subscriber %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read subscriber: %w", err)
	}
	return sub, nil
}

// SetSubscriberStatus blocklists or reactivates a subscriber.
func (s *Store) SetSubscriberStatus(ctx context.Context, id int64, status model.SubscriberStatus) error {
	if !status.Valid() {
		return fmt.Errorf("unknown subscriber status %q", status)
	}
	res, err := s.w.ExecContext(ctx, `UPDATE subscribers SET status = $1, updated_at = $2 WHERE id = $3`, status, s.now(), id)
	if err != nil {
		return fmt.Errorf("set subscriber status: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("subscriber %d: %w", id, ErrNotFound)
	}
	return nil
}

// SubscriberFilter narrows a count or listing of subscribers. Zero values
// match everything.
type SubscriberFilter struct {
	ListID int64
	Status model.SubscriptionStatus
}

// CountSubscribers counts subscribers, or with a list, that list's
// subscriptions (by status when given).
func (s *Store) CountSubscribers(ctx context.Context, f SubscriberFilter) (int64, error) {
	var n int64
	var err error
	switch {
	case f.ListID == 0 && f.Status == "":
		err = s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM subscribers`).Scan(&n)
	case f.ListID == 0:
		err = s.r.QueryRowContext(ctx, `SELECT COUNT(DISTINCT subscriber_id) FROM subscriptions WHERE status = $1`, f.Status).Scan(&n)
	default:
		err = s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM subscriptions WHERE list_id = $1 AND ($2 = '' OR status = $2)`,
			f.ListID, string(f.Status)).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("count subscribers: %w", err)
	}
	return n, nil
}

// EraseSubscriber removes a subscriber's personal data: the subscriber row,
// their subscriptions and its history, and their address in campaign ledgers. A suppression entry for the address
// stays, so that an address that bounced or complained is never mailed again.
func (s *Store) EraseSubscriber(ctx context.Context, email string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM subscribers WHERE email = $1`, email).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("subscriber %s: %w", email, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("erase subscriber: %w", err)
		}
		for _, q := range []string{
			`DELETE FROM subscription_log WHERE subscriber_id = $1`,
			`DELETE FROM subscriptions WHERE subscriber_id = $1`,
			// The ledger keeps its counts but loses who the row was for.
			`UPDATE deliveries SET subscriber_id = NULL, name = '', email = 'erased-' || id WHERE subscriber_id = $1`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("erase subscriber: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM subscribers WHERE id = $1`, id); err != nil {
			return fmt.Errorf("erase subscriber: %w", err)
		}
		return nil
	})
}
