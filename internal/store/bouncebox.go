package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ClaimBounceMailbox leases the bounce mailbox name until now+lease when it
// is due (or new), and reports whether this node holds it: the holder reads
// the mailbox, and if it dies the lease runs out and another node may. On
// PostgreSQL a row another node is claiming is skipped, not waited for.
func (s *Store) ClaimBounceMailbox(ctx context.Context, name string, lease time.Duration) (bool, error) {
	now := s.now()
	got := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO bounce_mailboxes (name, next_poll_at) VALUES ($1, $2)
			ON CONFLICT (name) DO NOTHING`, name, now); err != nil {
			return err
		}
		var claimed string
		err := tx.QueryRowContext(ctx, `
			UPDATE bounce_mailboxes SET next_poll_at = $1
			WHERE name IN (SELECT name FROM bounce_mailboxes WHERE name = $2 AND next_poll_at <= $3`+s.skipLocked()+`)
			RETURNING name`, now.Add(lease), name, now).Scan(&claimed)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		got = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("claim bounce mailbox: %w", err)
	}
	return got, nil
}

// FinishBounceMailbox records a poll of the bounce mailbox name: how many
// reports it recorded, the problem if it failed (empty when it did not),
// and when the mailbox is next due, which ends this node's lease.
func (s *Store) FinishBounceMailbox(ctx context.Context, name string, recorded int, problem string, next time.Time) error {
	_, err := s.w.ExecContext(ctx, `UPDATE bounce_mailboxes SET next_poll_at = $1, last_poll_at = $2, last_problem = $3,
		recorded = recorded + $4 WHERE name = $5`, next.UTC(), s.now(), problem, recorded, name)
	if err != nil {
		return fmt.Errorf("finish bounce mailbox poll: %w", err)
	}
	return nil
}
