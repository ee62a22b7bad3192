package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/validator"
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
// times and reports whether a new subscriber was created. An erased address
// is not created again: ErrErased.
func (s *Store) UpsertSubscriber(ctx context.Context, sub *model.Subscriber) (created bool, err error) {
	if sub.Status == "" {
		sub.Status = model.SubscriberActive
	}
	if err := validator.Subscriber(sub); err != nil {
		return false, err
	}
	attrs, err := marshalAttributes(sub.Attributes)
	if err != nil {
		return false, fmt.Errorf("subscriber attributes: %w", err)
	}
	now := s.now()
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var oldName, oldAttrs string
		var oldStatus model.SubscriberStatus
		err := tx.QueryRowContext(ctx, `SELECT id, created_at, name, attributes, status FROM subscribers WHERE email = $1`, sub.Email).
			Scan(&sub.ID, &sub.CreatedAt, &oldName, &oldAttrs, &oldStatus)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if erased, err := isErased(ctx, tx, sub.Email); err != nil || erased {
				if erased {
					err = fmt.Errorf("subscriber %s: %w", sub.Email, ErrErased)
				}
				return err
			}
			created = true
			sub.CreatedAt = now
			if err := tx.QueryRowContext(ctx, `
				INSERT INTO subscribers (email, name, attributes, status, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $5) RETURNING id`,
				sub.Email, sub.Name, attrs, sub.Status, now).Scan(&sub.ID); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, audit.SubscriberCreate, audit.Object("subscriber", sub.ID),
				audit.Changes{}.Set("status", nil, sub.Status)); err != nil {
				return err
			}
			return queueWebhooksTx(ctx, tx, nil, model.EventSubscriberCreated, now, func() (any, error) {
				return hookSubscription{Subscriber: hookSubscriber{ID: sub.ID, Email: sub.Email, Name: sub.Name}}, nil
			})
		case err != nil:
			return err
		}
		if _, err = tx.ExecContext(ctx, `UPDATE subscribers SET name = $1, attributes = $2, status = $3, updated_at = $4 WHERE id = $5`,
			sub.Name, attrs, sub.Status, now, sub.ID); err != nil {
			return err
		}
		return s.auditSubscriber(ctx, tx, sub.ID, oldStatus, sub.Status, oldName != sub.Name, oldAttrs != attrs)
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
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var old model.SubscriberStatus
		err := tx.QueryRowContext(ctx, `SELECT status FROM subscribers WHERE id = $1`, id).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("subscriber %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("set subscriber status: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET status = $1, updated_at = $2 WHERE id = $3`, status, s.now(), id); err != nil {
			return fmt.Errorf("set subscriber status: %w", err)
		}
		return s.auditSubscriber(ctx, tx, id, old, status, false, false)
	})
}

// auditSubscriber records a change to a subscriber. Their name and
// attributes are personal data, which an erasure must be able to remove:
// the row says which of them changed, never their values.
func (s *Store) auditSubscriber(ctx context.Context, tx *sql.Tx, id int64, oldStatus, status model.SubscriberStatus, name, attrs bool) error {
	ch := audit.Changes{}.Set("status", oldStatus, status)
	var fields []string
	if name {
		fields = append(fields, "name")
	}
	if attrs {
		fields = append(fields, "attributes")
	}
	if len(fields) > 0 {
		ch["personal_data"] = audit.Change{After: fields}
	}
	if len(ch) == 0 {
		return nil
	}
	return s.audit(ctx, tx, audit.SubscriberUpdate, audit.Object("subscriber", id), ch)
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

// EraseSubscriber removes a subscriber's personal data at their request:
// the subscriber, their subscriptions and its history, messages queued for
// them, their soft-bounce count and any suppression of their address.
// Their rows in campaign ledgers and their events keep counting, with
// neither their address nor a link to them; ledger rows not yet sent are
// skipped. What stays is the address's hash (erasureHash), so that no later
// import, signup or API create adds them again (ErrErased; Unsuppress lifts
// it). Once the database is done, the hooks registered with OnErase remove
// copies kept elsewhere, and on PostgreSQL every node hears of it
// (ListenErasures) to do the same.
func (s *Store) EraseSubscriber(ctx context.Context, email string) error {
	now := s.now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM subscribers WHERE email = $1`, email).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("subscriber %s: %w", email, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("erase subscriber: %w", err)
		}
		for _, st := range []struct {
			q    string
			args []any
		}{
			{`UPDATE deliveries SET status = 'skipped', last_reply = 'erased', updated_at = $2
				WHERE subscriber_id = $1 AND status IN ('pending', 'deferred')`, []any{id, now}},
			// The ledger keeps its counts but loses who the row was for,
			// also in the replies of their mail servers.
			{`UPDATE deliveries SET subscriber_id = NULL, name = '', email = 'erased-' || id,
				last_reply = REPLACE(last_reply, $2, '(erased)') WHERE subscriber_id = $1`, []any{id, email}},
			{`UPDATE events SET subscriber_id = NULL, detail = REPLACE(detail, $2, '(erased)') WHERE subscriber_id = $1`, []any{id, email}},
			// Feedback keeps its ratings but not who gave them, nor their words.
			{`UPDATE feedback SET subscriber_id = NULL, comment = '' WHERE subscriber_id = $1`, []any{id}},
			{`DELETE FROM mail_queue WHERE subscriber_id = $1`, []any{id}},
			{`DELETE FROM subscription_log WHERE subscriber_id = $1`, []any{id}},
			{`DELETE FROM subscriptions WHERE subscriber_id = $1`, []any{id}},
			{`DELETE FROM subscribers WHERE id = $1`, []any{id}},
			{`DELETE FROM soft_bounces WHERE email = $1`, []any{email}},
			{`DELETE FROM suppressions WHERE email = $1`, []any{email}},
			{`INSERT INTO erasures (email_sha256, created_at) VALUES ($1, $2) ON CONFLICT (email_sha256) DO NOTHING`,
				[]any{erasureHash(email), now}},
		} {
			if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
				return fmt.Errorf("erase subscriber: %w", err)
			}
		}
		// The row names the subscriber by ID only: the address is what
		// was erased.
		return s.audit(ctx, tx, audit.SubscriberErase, audit.Object("subscriber", id), audit.Changes{}.Set("erased", nil, true))
	})
	if err != nil {
		return err
	}
	// Other nodes keep copies too (their outboxes): tell them.
	hookErr := s.notifyErasure(ctx)
	for _, fn := range s.onErase {
		hookErr = errors.Join(hookErr, fn(ctx, email))
	}
	if hookErr != nil {
		return fmt.Errorf("erase %s: the database keeps only the address's hash now, but copies elsewhere were not all removed: %w", email, hookErr)
	}
	return nil
}

// OnErase registers fn to run after each erasure commits, with the erased
// address, to remove copies of the person's mail kept outside the database
// (the built-in outbox). Register hooks before the store is shared.
func (s *Store) OnErase(fn func(ctx context.Context, email string) error) {
	s.onErase = append(s.onErase, fn)
}
