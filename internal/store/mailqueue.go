package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/model"
)

// MailJob is one queued confirmation or welcome message. Attempts, as the
// claim returned it, identifies the claim: settling a job whose lease
// expired and was claimed again changes nothing.
type MailJob struct {
	ID           int64
	Kind         model.MailKind
	SubscriberID int64 // 0 for a password reset
	ListID       int64 // 0 for a password reset
	// ResetID names the password reset request of a MailPasswordReset.
	ResetID  int64
	Attempts int
}

// MailResult is what became of one claimed job.
type MailResult struct {
	Job MailJob
	// RetryAt, when set, puts the job back to be tried again then, with
	// Reason kept as its last error. Unset, the job is done (sent, or given
	// up) and leaves the queue.
	RetryAt time.Time
	Reason  string
	// Unsent, with RetryAt, gives the job back without its having been
	// tried (its batch ran out of time first, or the sender shut down):
	// the claim does not count as an attempt.
	Unsent bool
}

const queueMailSQL = `INSERT INTO mail_queue (kind, subscriber_id, list_id, due_at, created_at) VALUES ($1, $2, $3, $4, $4)`

// queueMailTx queues one message in the caller's transaction, due at once.
func queueMailTx(ctx context.Context, tx *sql.Tx, kind model.MailKind, subscriberID, listID int64, now time.Time) error {
	_, err := tx.ExecContext(ctx, queueMailSQL, kind, subscriberID, listID, now)
	if err != nil {
		return fmt.Errorf("queue %s message: %w", kind, err)
	}
	return nil
}

// MailDue reports whether a queued message is due now. It reads, so an idle
// sender can poll it without taking the writer.
func (s *Store) MailDue(ctx context.Context) (bool, error) {
	var one int
	err := s.r.QueryRowContext(ctx, `SELECT 1 FROM mail_queue WHERE due_at <= $1 LIMIT 1`, s.now()).Scan(&one)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	default:
		return false, fmt.Errorf("read mail queue: %w", err)
	}
}

// MailBacklog counts the queued messages, due or not.
func (s *Store) MailBacklog(ctx context.Context) (int64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM mail_queue`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count mail queue: %w", err)
	}
	return n, nil
}

// ClaimMail leases up to limit due messages, oldest first, until now+lease:
// a sender that dies holding them leaves them to be claimed again after
// that. On PostgreSQL rows another node is claiming are skipped.
func (s *Store) ClaimMail(ctx context.Context, limit int, lease time.Duration) ([]MailJob, error) {
	now := s.now()
	lock := s.skipLocked()
	var out []MailJob
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `
			UPDATE mail_queue SET due_at = $1, attempts = attempts + 1
			WHERE id IN (SELECT id FROM mail_queue WHERE due_at <= $2 ORDER BY due_at, id LIMIT $3`+lock+`)
			RETURNING id, kind, COALESCE(subscriber_id, 0), COALESCE(list_id, 0), COALESCE(reset_id, 0), attempts`, now.Add(lease), now, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var j MailJob
			if err := rows.Scan(&j.ID, &j.Kind, &j.SubscriberID, &j.ListID, &j.ResetID, &j.Attempts); err != nil {
				return err
			}
			out = append(out, j)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claim queued mail: %w", err)
	}
	return out, nil
}

// SettleMail records what became of claimed jobs, in one transaction: done
// jobs leave the queue, the others wait for their retry time.
func (s *Store) SettleMail(ctx context.Context, results []MailResult) error {
	if len(results) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, r := range results {
			var err error
			if r.RetryAt.IsZero() {
				_, err = tx.ExecContext(ctx, `DELETE FROM mail_queue WHERE id = $1 AND attempts = $2`, r.Job.ID, r.Job.Attempts)
			} else {
				given := 0
				if r.Unsent {
					given = 1
				}
				_, err = tx.ExecContext(ctx, `UPDATE mail_queue SET due_at = $1, last_error = $2, attempts = attempts - $3
					WHERE id = $4 AND attempts = $5`,
					r.RetryAt, truncate(r.Reason, 500), given, r.Job.ID, r.Job.Attempts)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("settle queued mail: %w", err)
	}
	return nil
}

// RenewMail extends the lease of claimed jobs until now+lease and returns
// those still held by this claim (a job whose lease ended and was claimed
// again, or that was settled, is left out).
func (s *Store) RenewMail(ctx context.Context, jobs []MailJob, lease time.Duration) ([]MailJob, error) {
	until := s.now().Add(lease)
	var held []MailJob
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		held = held[:0]
		for _, j := range jobs {
			res, err := tx.ExecContext(ctx, `UPDATE mail_queue SET due_at = $1 WHERE id = $2 AND attempts = $3`, until, j.ID, j.Attempts)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 1 {
				held = append(held, j)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("renew queued mail: %w", err)
	}
	return held, nil
}

// MailRecipient is who a queued message is for, as things stand when it
// is about to go out.
type MailRecipient struct {
	Email, Name string
	// Subscription is the subscription's status now ("" when gone).
	Subscription model.SubscriptionStatus
	// Sendable: the subscriber is active and the address not suppressed.
	Sendable bool
}

// MailRecipients reads, in one query, the subscriber and subscription each
// claimed job is about, keyed by job ID. A job missing from the map is
// for a subscriber erased since.
func (s *Store) MailRecipients(ctx context.Context, jobs []MailJob) (map[int64]MailRecipient, error) {
	out := make(map[int64]MailRecipient, len(jobs))
	if len(jobs) == 0 {
		return out, nil
	}
	args := make([]any, len(jobs))
	marks := make([]string, len(jobs))
	for i, j := range jobs {
		args[i], marks[i] = j.ID, fmt.Sprintf("$%d", i+1)
	}
	rows, err := s.r.QueryContext(ctx, `
		SELECT q.id, s.email, s.name, s.status, COALESCE(sub.status, ''),
		       EXISTS (SELECT 1 FROM suppressions WHERE email = s.email)
		FROM mail_queue q
		JOIN subscribers s ON s.id = q.subscriber_id
		LEFT JOIN subscriptions sub ON sub.subscriber_id = q.subscriber_id AND sub.list_id = q.list_id
		WHERE q.id IN (`+strings.Join(marks, ", ")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("read the recipients of queued messages: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var r MailRecipient
		var status model.SubscriberStatus
		var suppressed bool
		if err := rows.Scan(&id, &r.Email, &r.Name, &status, &r.Subscription, &suppressed); err != nil {
			return nil, fmt.Errorf("read the recipients of queued messages: %w", err)
		}
		r.Sendable = status == model.SubscriberActive && !suppressed
		out[id] = r
	}
	return out, rows.Err()
}

// truncate cuts s to at most n bytes, dropping a rune cut in half.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
