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

// ClaimDeliveries leases up to limit rows of a sending campaign that are due
// (pending, or deferred with their retry time passed) and marks them sending
// until now+lease. On PostgreSQL rows locked by another node's claim are
// skipped, so no row is claimed twice while its lease holds. Rows whose
// address was suppressed or unsubscribed since the start are marked skipped
// instead of being returned.
func (s *Store) ClaimDeliveries(ctx context.Context, campaignID int64, limit int, lease time.Duration) ([]model.Delivery, error) {
	now := s.now()
	lock := ""
	if s.dialect == dialectPostgres {
		// OF d: lock the ledger rows only. Locking the joined campaign
		// row too made a claim skip the whole campaign while another
		// node's claim held it, and come back empty.
		lock = " FOR UPDATE OF d SKIP LOCKED"
	}
	var out []model.Delivery
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if s.dialect == dialectPostgres {
			// A share lock on the campaign row: a pause or cancel (which
			// updates it) waits for claims under way to commit, and a claim
			// after it sees the new status. So once a pause has committed,
			// every row claimed before it is visible as sending, and
			// none is claimed after it. Claims share the lock with each
			// other. (SQLite has one writer: its claims and status
			// changes never overlap.)
			var st model.CampaignStatus
			err := tx.QueryRowContext(ctx, `SELECT status FROM campaigns WHERE id = $1 FOR SHARE`, campaignID).Scan(&st)
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			if err != nil {
				return err
			}
			if st != model.CampaignSending {
				return nil
			}
		}
		// Due retries first, then pending rows with a due time that has
		// come (local-time delivery, an A/B test's rest once decided),
		// then pending rows without one. Each query is an index range on
		// deliveries_due (campaign, status, next_attempt_at, id) read in
		// its order, so a claim reads only the rows it takes: never rows
		// already sent (with "pending OR deferred" and ORDER BY id the
		// planner walked the primary key past all of them, quadratic in
		// the campaign's size), nor rows waiting for a later hour.
		for _, due := range []string{
			`d.status = 'deferred' AND d.next_attempt_at <= $2 ORDER BY d.next_attempt_at, d.id`,
			`d.status = 'pending' AND d.next_attempt_at <= $2 ORDER BY d.next_attempt_at, d.id`,
			// next_attempt_at is NULL in every row this one takes, so the
			// order is by id; naming the column lets PostgreSQL's planner
			// read deliveries_due in order (IS NULL is not an equality for
			// it), instead of sorting every pending row of the campaign
			// per claim (with stale statistics right after the start) or
			// walking the primary key past every row already sent.
			`d.status = 'pending' AND d.next_attempt_at IS NULL ORDER BY d.next_attempt_at, d.id`,
		} {
			if len(out) >= limit {
				break
			}
			rows, err := tx.QueryContext(ctx, `
				UPDATE deliveries SET status = 'sending', lease_until = $1, attempts = attempts + 1, updated_at = $2
				WHERE id IN (
					SELECT d.id FROM deliveries d
					JOIN campaigns c ON c.id = d.campaign_id AND c.status = 'sending'
					WHERE d.campaign_id = $3 AND `+due+` LIMIT $4`+lock+`)
				RETURNING id, campaign_id, COALESCE(subscriber_id, 0), email, name, attempts, variant`,
				now.Add(lease), now, campaignID, limit-len(out))
			if err != nil {
				return err
			}
			for rows.Next() {
				var d model.Delivery
				if err := rows.Scan(&d.ID, &d.CampaignID, &d.SubscriberID, &d.Email, &d.Name, &d.Attempts, &d.Variant); err != nil {
					rows.Close()
					return err
				}
				out = append(out, d)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		if len(out) == 0 {
			return nil
		}
		// Drop addresses suppressed since the campaign started.
		skipped, err := tx.QueryContext(ctx, `
			UPDATE deliveries SET status = 'skipped', lease_until = NULL, last_reply = 'suppressed', updated_at = $1
			WHERE campaign_id = $2 AND status = 'sending' AND lease_until = $3
			  AND email IN (SELECT email FROM suppressions)
			RETURNING id`, now, campaignID, now.Add(lease))
		if err != nil {
			return err
		}
		drop := map[int64]bool{}
		for skipped.Next() {
			var id int64
			if err := skipped.Scan(&id); err != nil {
				skipped.Close()
				return err
			}
			drop[id] = true
		}
		skipped.Close()
		if len(drop) > 0 {
			kept := out[:0]
			for _, d := range out {
				if !drop[d.ID] {
					kept = append(kept, d)
				}
			}
			out = kept
		}
		return skipped.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries of campaign %d: %w", campaignID, err)
	}
	return out, nil
}

// Outcome is the result of one delivery attempt.
type Outcome struct {
	ID int64
	// Attempts is the row's attempt count as the claim returned it: it
	// identifies the claim, so an outcome from a claim whose lease expired
	// (and was claimed again) changes nothing.
	Attempts int
	Status   model.DeliveryStatus // sent, deferred, failed, or pending to give the row back unsent
	Reply    string               // the last SMTP reply, or what went wrong
	RetryAt  time.Time            // for deferred
	// Uncount gives the attempt back: the row was not tried (given back
	// unsent, or no relay could be reached), so it must not use up tries.
	Uncount  bool
	Email    string // for Suppress
	Suppress model.SuppressionReason
}

// RecordOutcomes writes a batch of outcomes in one transaction. Only rows
// still in sending under the same claim (same attempt count) change, so a
// late outcome for a row whose lease expired and was claimed again cannot
// overwrite newer news. An outcome with Suppress set also suppresses its
// address for every future send.
func (s *Store) RecordOutcomes(ctx context.Context, outs []Outcome) error {
	if len(outs) == 0 {
		return nil
	}
	now := s.now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// The common case, sent with the usual reply, in few statements.
		byReply := map[string][]any{}
		var update *sql.Stmt
		for _, o := range outs {
			if o.Status == model.DeliverySent {
				byReply[o.Reply] = append(byReply[o.Reply], o.ID, o.Attempts)
				continue
			}
			if update == nil {
				var err error
				update, err = tx.PrepareContext(ctx, `UPDATE deliveries SET status = $1, last_reply = $2, next_attempt_at = $3,
					lease_until = NULL, updated_at = $4, attempts = attempts - $7
					WHERE id = $5 AND status = 'sending' AND attempts = $6`)
				if err != nil {
					return err
				}
				defer update.Close()
			}
			uncount := 0
			if o.Uncount {
				uncount = 1
			}
			if _, err := update.ExecContext(ctx, o.Status, o.Reply, nullTime(o.RetryAt), now, o.ID, o.Attempts, uncount); err != nil {
				return err
			}
			if o.Suppress != "" {
				if _, err := tx.ExecContext(ctx, `INSERT INTO suppressions (email, reason, detail, created_at)
					VALUES ($1, $2, $3, $4) ON CONFLICT (email) DO NOTHING`, o.Email, o.Suppress, o.Reply, now); err != nil {
					return err
				}
				if err := queueSuppressionWebhookTx(ctx, tx, o.Email, o.Suppress, o.Reply, now); err != nil {
					return err
				}
			}
		}
		for reply, claims := range byReply { // id, attempts, id, attempts, …
			for start := 0; start < len(claims); start += 2 * importChunk {
				chunk := claims[start:min(start+2*importChunk, len(claims))]
				args := append([]any{reply, now}, chunk...)
				pairs := valuesList(len(chunk)/2, 2, func(b *strings.Builder, p int) {
					fmt.Fprintf(b, "(CAST($%d AS BIGINT), CAST($%d AS INTEGER))", p+2, p+3)
				})
				if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'sent', last_reply = $1, lease_until = NULL,
					updated_at = $2 WHERE status = 'sending' AND (id, attempts) IN (VALUES `+pairs+`)`, args...); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record %d delivery outcomes: %w", len(outs), err)
	}
	return nil
}

// ReleaseLeases returns rows in sending to pending: all of them (allowed only
// when one process owns the database, as with SQLite at start), or those
// whose lease has expired. It returns how many rows it released.
func (s *Store) ReleaseLeases(ctx context.Context, all bool) (int64, error) {
	q := `UPDATE deliveries SET status = 'pending', lease_until = NULL WHERE status = 'sending' AND lease_until < $1`
	args := []any{s.now()}
	if all {
		q = `UPDATE deliveries SET status = 'pending', lease_until = NULL WHERE status = 'sending'`
		args = nil
	}
	res, err := s.w.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("release delivery leases: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// LastCampaignSentTo returns the campaign that most recently sent mail to a
// subscriber, or 0 when none did: what a bounce or complaint report without
// Herald's Message-ID is most likely about.
func (s *Store) LastCampaignSentTo(ctx context.Context, subscriberID int64) (int64, error) {
	var id int64
	err := s.r.QueryRowContext(ctx, `SELECT campaign_id FROM deliveries WHERE subscriber_id = $1 AND status = 'sent'
		ORDER BY updated_at DESC, id DESC LIMIT 1`, subscriberID).Scan(&id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("last campaign sent to subscriber %d: %w", subscriberID, err)
	}
	return id, nil
}

// InFlight counts a campaign's rows claimed by a worker and not yet
// recorded: mail that may be on its way to a relay right now.
func (s *Store) InFlight(ctx context.Context, campaignID int64) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM deliveries WHERE campaign_id = $1 AND status = 'sending'`, campaignID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("campaign %d mail in flight: %w", campaignID, err)
	}
	return n, nil
}

// SingleProcess reports whether one process owns the database (SQLite), so
// every lease found at start belongs to a process that is gone.
func (s *Store) SingleProcess() bool { return s.dialect == dialectSQLite }

// ProgressPause is how long a live progress display (the admin's campaign
// page, 'herald campaign run') waits after a CampaignProgress count that
// took d before the next: a second while counting is quick, and nine
// times the count beyond that, so a display spends at most a tenth of the
// database's time. A count of a campaign to ten million readers reads ten
// million rows (seconds on a busy server); every second from each display
// it starved the claims.
func ProgressPause(d time.Duration) time.Duration { return max(time.Second, 9*d) }

// CampaignProgress counts a campaign's ledger by status (see ProgressPause
// for how often a display may ask).
func (s *Store) CampaignProgress(ctx context.Context, id int64) (model.Progress, error) {
	var p model.Progress
	// Raw rows plus the rows retention folded (see FoldLedger).
	rows, err := s.r.QueryContext(ctx, `SELECT status, CAST(SUM(n) AS BIGINT) FROM (
			SELECT status, COUNT(*) AS n FROM deliveries WHERE campaign_id = $1 GROUP BY status
			UNION ALL
			SELECT status, SUM(total) AS n FROM ledger_counts WHERE campaign_id = $1 GROUP BY status
		) t GROUP BY status`, id)
	if err != nil {
		return p, fmt.Errorf("campaign %d progress: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var st model.DeliveryStatus
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			return p, err
		}
		p.Total += n
		switch st {
		case model.DeliveryPending:
			p.Pending = n
		case model.DeliverySending:
			p.Sending = n
		case model.DeliverySent:
			p.Sent = n
		case model.DeliveryDeferred:
			p.Deferred = n
		case model.DeliveryFailed:
			p.Failed = n
		case model.DeliverySkipped:
			p.Skipped = n
		}
	}
	return p, rows.Err()
}

// NextRetry returns the earliest retry time of a campaign's deferred rows,
// or the zero time when none is deferred.
func (s *Store) NextRetry(ctx context.Context, id int64) (time.Time, error) {
	var t sql.NullTime
	// ORDER BY, not MIN: SQLite loses the column's type through an aggregate.
	err := s.r.QueryRowContext(ctx, `SELECT next_attempt_at FROM deliveries WHERE campaign_id = $1 AND status = 'deferred'
		ORDER BY next_attempt_at LIMIT 1`, id).Scan(&t)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, fmt.Errorf("campaign %d next retry: %w", id, err)
	}
	return t.Time, nil
}

// FinishCampaign marks a sending campaign sent when no row is left to send,
// and reports whether it did. Finishing queues the campaign.sent webhooks
// in the same transaction.
func (s *Store) FinishCampaign(ctx context.Context, id int64) (bool, error) {
	now := s.now()
	done := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = 'sent', done_at = $1, updated_at = $1
		WHERE id = $2 AND status = 'sending'
		  AND NOT EXISTS (SELECT 1 FROM deliveries WHERE campaign_id = $2 AND status IN ('pending', 'sending', 'deferred'))`, now, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		done = true
		return queueWebhooksTx(ctx, tx, nil, model.EventCampaignSent, now, func() (any, error) {
			c := hookCampaign{ID: id, DoneAt: &now, Sent: new(int64), Failed: new(int64), Skipped: new(int64)}
			if err := tx.QueryRowContext(ctx, `SELECT name, total FROM campaigns WHERE id = $1`, id).Scan(&c.Name, &c.Recipients); err != nil {
				return nil, err
			}
			rows, err := tx.QueryContext(ctx, `SELECT status, COUNT(*) FROM deliveries WHERE campaign_id = $1 GROUP BY status`, id)
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			for rows.Next() {
				var st model.DeliveryStatus
				var n int64
				if err := rows.Scan(&st, &n); err != nil {
					return nil, err
				}
				switch st {
				case model.DeliverySent:
					*c.Sent = n
				case model.DeliveryFailed:
					*c.Failed = n
				case model.DeliverySkipped:
					*c.Skipped = n
				}
			}
			return hookCampaignData{Campaign: c}, rows.Err()
		})
	})
	if err != nil {
		return false, fmt.Errorf("finish campaign %d: %w", id, err)
	}
	return done, nil
}

// DeliveryFailures lists a campaign's failed rows with their last reply.
func (s *Store) DeliveryFailures(ctx context.Context, id int64, limit int) ([]Outcome, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, email, status, last_reply FROM deliveries
		WHERE campaign_id = $1 AND status = 'failed' ORDER BY id LIMIT $2`, id, limit)
	if err != nil {
		return nil, fmt.Errorf("read failures: %w", err)
	}
	defer rows.Close()
	var out []Outcome
	for rows.Next() {
		var o Outcome
		if err := rows.Scan(&o.ID, &o.Email, &o.Status, &o.Reply); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}
