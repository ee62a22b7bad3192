package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/validator"
)

// SignupOutcome says what a public signup did to one subscription. The web
// layer uses it to decide which message to send, never to decide what to
// show: every outcome gets the same answer on screen.
type SignupOutcome int

// Signup outcomes.
const (
	// SignupJoined: the subscription is now confirmed (single opt-in).
	SignupJoined SignupOutcome = iota + 1
	// SignupPending: the subscription awaits confirmation (double opt-in);
	// a confirmation message is due, also when one was sent before.
	SignupPending
	// SignupAlready: the address was already confirmed on the list.
	SignupAlready
	// SignupRefused: the address is suppressed, erased or blocklisted;
	// nothing changed and nothing may be sent.
	SignupRefused
	// SignupRecent: the subscription awaits confirmation and a
	// confirmation went out less than ConfirmResendAfter ago; nothing is
	// sent, so a form cannot be used to flood someone's inbox.
	SignupRecent
)

// ConfirmResendAfter is how long a pending subscription waits before a new
// signup sends its confirmation again.
const ConfirmResendAfter = 15 * time.Minute

// Signup puts an address on a list from a public form, in one transaction:
// the subscriber is created if new (a stranger's form never changes an
// existing subscriber), and the subscription
// becomes confirmed on a single opt-in list or unconfirmed on a double
// opt-in list. A confirmed subscription is left alone. The message the
// outcome calls for is queued in the same transaction: the confirmation
// of SignupPending, and the welcome of SignupJoined when welcome is set;
// so are the subscriber.created and subscriber.confirmed webhooks.
func (s *Store) Signup(ctx context.Context, email, name string, list *model.List, source model.Source, welcome bool) (subscriberID int64, out SignupOutcome, err error) {
	if err := validator.Name(name); err != nil {
		return 0, 0, err
	}
	st, err := s.signupStmts(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("sign up to list %q: %w", list.Slug, err)
	}
	now := s.now()
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		bind := func(q *sql.Stmt) *sql.Stmt { return tx.StmtContext(ctx, q) }
		var one int
		err := bind(st.suppressed).QueryRowContext(ctx, email, erasureHash(email)).Scan(&one)
		if err == nil {
			out = SignupRefused
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var status model.SubscriberStatus
		err = bind(st.subscriber).QueryRowContext(ctx, email).Scan(&subscriberID, &status)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			status = model.SubscriberActive
			if err := bind(st.insertSubscriber).QueryRowContext(ctx, email, name, now).Scan(&subscriberID); err != nil {
				return err
			}
			created := func() (any, error) {
				return hookSubscription{Subscriber: hookSubscriber{ID: subscriberID, Email: email, Name: name},
					List: &hookList{ID: list.ID, Slug: list.Slug, Name: list.Name}, Source: source}, nil
			}
			if err := queueWebhooksTx(ctx, tx, bind(st.webhooks), model.EventSubscriberCreated, now, created); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		// An existing subscriber is never changed by an anonymous form:
		// anyone can type anyone's address into it.
		if status != model.SubscriberActive {
			out = SignupRefused
			return nil
		}
		var cur model.SubscriptionStatus
		var changed time.Time
		err = bind(st.subscription).QueryRowContext(ctx, list.ID, subscriberID).Scan(&cur, &changed)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		want, result := model.SubUnconfirmed, SignupPending
		if list.OptIn != model.OptInDouble && cur != model.SubUnsubscribed {
			// Single opt-in joins at once, except for someone who left:
			// coming back takes their confirmation, not a stranger's form.
			want, result = model.SubConfirmed, SignupJoined
		}
		out = result
		switch cur {
		case model.SubConfirmed:
			out = SignupAlready
			return nil
		case want:
			// Still unconfirmed: send the confirmation again, but not more
			// often than ConfirmResendAfter.
			if now.Sub(changed) < ConfirmResendAfter {
				out = SignupRecent
				return nil
			}
			if _, err := bind(st.touchSubscription).ExecContext(ctx, now, list.ID, subscriberID); err != nil {
				return err
			}
		case "":
			// The usual case, a new subscription: its beginning is its row.
			if _, err := bind(st.insertSubscription).ExecContext(ctx, list.ID, subscriberID, want, source, now); err != nil {
				return err
			}
			if want == model.SubConfirmed {
				// Read back: an existing subscriber keeps the name they
				// had, whatever the form said.
				data := subscriptionDataTx(ctx, tx, subscriberID, list.ID, source)
				if err := queueWebhooksTx(ctx, tx, bind(st.webhooks), model.EventSubscriberConfirmed, now, data); err != nil {
					return err
				}
			}
		default:
			if err := setSubscriptionTx(ctx, tx, subscriberID, list.ID, want, source, now); err != nil {
				return err
			}
		}
		kind := model.MailConfirm
		switch {
		case out == SignupJoined && welcome:
			kind = model.MailWelcome
		case out != SignupPending:
			return nil
		}
		_, err = bind(st.queueMail).ExecContext(ctx, kind, subscriberID, list.ID, now)
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("sign up to list %q: %w", list.Slug, err)
	}
	return subscriberID, out, nil
}

// signupStmts are Signup's statements, prepared once: a public form is the
// busiest writer after the delivery ledger, and on SQLite parsing each
// statement anew was a fair share of a signup's cost.
type signupStmts struct {
	suppressed, subscriber, insertSubscriber, subscription *sql.Stmt
	touchSubscription, insertSubscription, queueMail       *sql.Stmt
	webhooks                                               *sql.Stmt
}

func (s *Store) signupStmts(ctx context.Context) (signupStmts, error) {
	var st signupStmts
	for _, p := range []struct {
		dst **sql.Stmt
		q   string
	}{
		{&st.suppressed, `SELECT 1 FROM suppressions WHERE email = $1 UNION ALL SELECT 1 FROM erasures WHERE email_sha256 = $2`},
		{&st.subscriber, `SELECT id, status FROM subscribers WHERE email = $1`},
		{&st.insertSubscriber, `INSERT INTO subscribers (email, name, attributes, status, created_at, updated_at)
			VALUES ($1, $2, '{}', 'active', $3, $3) RETURNING id`},
		{&st.subscription, `SELECT status, updated_at FROM subscriptions WHERE list_id = $1 AND subscriber_id = $2`},
		{&st.touchSubscription, `UPDATE subscriptions SET updated_at = $1 WHERE list_id = $2 AND subscriber_id = $3`},
		{&st.insertSubscription, `INSERT INTO subscriptions (list_id, subscriber_id, status, source, first_status, first_source, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $3, $4, $5, $5)`},
		{&st.queueMail, queueMailSQL},
		{&st.webhooks, webhookListenersSQL},
	} {
		var err error
		if *p.dst, err = s.prepared(ctx, p.q); err != nil {
			return st, err
		}
	}
	return st, nil
}

// ConfirmSubscription turns an unconfirmed subscription into a confirmed
// one and reports whether it changed. Confirming twice is harmless; a
// subscription that was left in the meantime stays left. A subscriber or
// subscription that does not exist (erased since) is ErrNotFound.
// With welcome set, a change queues the welcome message in the same
// transaction.
func (s *Store) ConfirmSubscription(ctx context.Context, subscriberID, listID int64, source model.Source, welcome bool) (bool, error) {
	changed := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var cur model.SubscriptionStatus
		err := tx.QueryRowContext(ctx, `SELECT status FROM subscriptions WHERE list_id = $1 AND subscriber_id = $2`, listID, subscriberID).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("subscription of %d to list %d: %w", subscriberID, listID, ErrNotFound)
		}
		if err != nil || cur != model.SubUnconfirmed {
			return err
		}
		changed = true
		now := s.now()
		if err := setSubscriptionTx(ctx, tx, subscriberID, listID, model.SubConfirmed, source, now); err != nil || !welcome {
			return err
		}
		return queueMailTx(ctx, tx, model.MailWelcome, subscriberID, listID, now)
	})
	if err != nil {
		return false, fmt.Errorf("confirm subscription: %w", err)
	}
	return changed, nil
}

// Unsubscribe takes a subscriber off the given lists (every list when
// listIDs is empty) and returns the IDs of the lists actually left. Rows of
// running campaigns not yet sent to the subscriber are skipped when none of
// the campaign's lists still has them confirmed, so the next message
// already excludes the address.
func (s *Store) Unsubscribe(ctx context.Context, subscriberID int64, listIDs []int64, source model.Source) ([]int64, error) {
	var left []int64
	now := s.now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT list_id FROM subscriptions
			WHERE subscriber_id = $1 AND status <> 'unsubscribed' ORDER BY list_id`, subscriberID)
		if err != nil {
			return err
		}
		var current []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			current = append(current, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range current {
			if len(listIDs) > 0 && !containsID(listIDs, id) {
				continue
			}
			if err := setSubscriptionTx(ctx, tx, subscriberID, id, model.SubUnsubscribed, source, now); err != nil {
				return err
			}
			left = append(left, id)
		}
		if len(left) > 0 {
			if err := s.audit(ctx, tx, audit.SubscriptionSet, audit.Object("subscriber", subscriberID),
				audit.Changes{}.Set("unsubscribed_from", nil, left).Set("source", nil, source)); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE deliveries SET status = 'skipped', last_reply = 'unsubscribed', updated_at = $1
			WHERE subscriber_id = $2 AND status IN ('pending', 'deferred') AND NOT EXISTS (
				SELECT 1 FROM campaign_lists cl JOIN subscriptions s ON s.list_id = cl.list_id
				WHERE cl.campaign_id = deliveries.campaign_id AND s.subscriber_id = $2 AND s.status = 'confirmed')`,
			now, subscriberID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("unsubscribe %d: %w", subscriberID, err)
	}
	return left, nil
}

func containsID(ids []int64, id int64) bool {
	for _, v := range ids {
		if v == id {
			return true
		}
	}
	return false
}

// SetSubscriberName changes a subscriber's name (from the preference centre);
// the name must pass validator.Name.
func (s *Store) SetSubscriberName(ctx context.Context, id int64, name string) error {
	if err := validator.Name(name); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE subscribers SET name = $1, updated_at = $2 WHERE id = $3`, name, s.now(), id)
		if err != nil {
			return fmt.Errorf("rename subscriber: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("subscriber %d: %w", id, ErrNotFound)
		}
		return s.auditSubscriber(ctx, tx, id, "", "", true, false)
	})
}

// SubscriberEvents returns a subscriber's events, newest first (for "download
// my data").
func (s *Store) SubscriberEvents(ctx context.Context, subscriberID int64, limit int) ([]model.Event, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT kind, COALESCE(campaign_id, 0), url, detail, at FROM events
		WHERE subscriber_id = $1 ORDER BY at DESC, id DESC LIMIT $2`, subscriberID, limit)
	if err != nil {
		return nil, fmt.Errorf("read subscriber events: %w", err)
	}
	defer rows.Close()
	var out []model.Event
	for rows.Next() {
		e := model.Event{SubscriberID: subscriberID}
		if err := rows.Scan(&e.Kind, &e.CampaignID, &e.URL, &e.Detail, &e.At); err != nil {
			return nil, fmt.Errorf("read subscriber events: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// CountEvents counts stored events of one kind (all campaigns), for load
// tests and health views.
func (s *Store) CountEvents(ctx context.Context, kind model.EventKind) (int64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM events WHERE kind = $1)
		+ (SELECT CAST(COALESCE(SUM(total), 0) AS BIGINT) FROM event_counts WHERE kind = $1)`, kind).Scan(&n); err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	return n, nil
}
