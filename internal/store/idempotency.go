package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// IdempotencyKey is an Idempotency-Key an API token sent with a request:
// the request's hash and, once the request is done, the answer it got
// (Status 0 while it is under way, since StartedAt).
type IdempotencyKey struct {
	ID          int64
	TokenID     int64
	Key         string
	RequestHash string
	Status      int
	Response    string
	StartedAt   time.Time
	ExpiresAt   time.Time
}

// Done reports whether the request finished and its answer is kept.
func (k *IdempotencyKey) Done() bool { return k.Status != 0 }

// ClaimIdempotencyKey starts a request under a token's key. It returns
// the key's record and whether the caller now holds it: true for a key
// not seen in the last ttl (recorded now, under way, expiring after ttl),
// and for one whose request has been under way for longer than stale with
// the same hash (its caller died: the claim passes to this one). Otherwise
// the record says what became of the first request (done, under way, or
// another request's hash) and the caller must not act on the request.
// Expired keys, any token's, are deleted on the way.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, tokenID int64, key, hash string, ttl, stale time.Duration) (*IdempotencyKey, bool, error) {
	now := s.now()
	var rec *IdempotencyKey
	held := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE expires_at <= $1`, now); err != nil {
			return err
		}
		var id int64
		err := tx.QueryRowContext(ctx, `
			INSERT INTO idempotency_keys (token_id, idem_key, request_hash, started_at, expires_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (token_id, idem_key) DO NOTHING RETURNING id`, tokenID, key, hash, now, now.Add(ttl)).Scan(&id)
		if err == nil {
			rec, held = &IdempotencyKey{ID: id, TokenID: tokenID, Key: key, RequestHash: hash, StartedAt: now, ExpiresAt: now.Add(ttl)}, true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		rec = &IdempotencyKey{TokenID: tokenID, Key: key}
		if err := tx.QueryRowContext(ctx, `
			SELECT id, request_hash, status, response, started_at, expires_at FROM idempotency_keys
			WHERE token_id = $1 AND idem_key = $2`, tokenID, key).
			Scan(&rec.ID, &rec.RequestHash, &rec.Status, &rec.Response, &rec.StartedAt, &rec.ExpiresAt); err != nil {
			return err
		}
		if rec.Status == 0 && rec.RequestHash == hash && !rec.StartedAt.After(now.Add(-stale)) {
			res, err := tx.ExecContext(ctx, `UPDATE idempotency_keys SET started_at = $1 WHERE id = $2 AND status = 0 AND started_at = $3`,
				now, rec.ID, rec.StartedAt)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				rec.StartedAt, held = now, true
			}
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("claim idempotency key: %w", err)
	}
	return rec, held, nil
}

// FinishIdempotencyKey keeps the answer a held key's request got, for
// every retry until the key expires.
func (s *Store) FinishIdempotencyKey(ctx context.Context, id int64, status int, response string) error {
	if status == 0 {
		return errors.New("finish idempotency key: status 0 means under way")
	}
	res, err := s.w.ExecContext(ctx, `UPDATE idempotency_keys SET status = $1, response = $2 WHERE id = $3`, status, response, id)
	if err != nil {
		return fmt.Errorf("finish idempotency key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("idempotency key %d: %w", id, ErrNotFound)
	}
	return nil
}

// ReleaseIdempotencyKey forgets a held key whose request did nothing that
// must not happen twice (it was refused, or the mail transport did not
// take the message), so a retry under the same key runs afresh.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, id int64) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE id = $1 AND status = 0`, id); err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}
