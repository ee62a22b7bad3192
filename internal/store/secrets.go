package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/herald-news/herald/internal/audit"
)

// ErrNoMasterKey: resealing needs a master key (Options.Box).
var ErrNoMasterKey = errors.New("no master key is set: give one with HERALD_MASTER_KEY or master_key_file first")

// ResealSecrets seals every secret the store keeps (settings whose key
// names a secret, webhook signing secrets) with the current master key:
// those still clear (kept before a master key was set) and those sealed
// with a previous key (a rotation). It returns how many it rewrote, in one
// transaction, so a failure leaves every secret as it was.
func (s *Store) ResealSecrets(ctx context.Context) (int, error) {
	if s.box == nil {
		return 0, ErrNoMasterKey
	}
	n := 0
	err := s.inAuditedTx(ctx, audit.SecretsReseal, func(tx *sql.Tx) (string, audit.Changes, error) {
		type secret struct{ key, value string }
		var settings []secret
		rows, err := tx.QueryContext(ctx, `SELECT key, value FROM settings ORDER BY key`)
		if err != nil {
			return "", nil, fmt.Errorf("read settings: %w", err)
		}
		for rows.Next() {
			var k, v string
			if err := rows.Scan(&k, &v); err != nil {
				rows.Close()
				return "", nil, err
			}
			if audit.Secret(k) && v != "" && !s.box.Current(v) {
				settings = append(settings, secret{k, v})
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return "", nil, err
		}
		for _, st := range settings {
			plain, err := s.openSetting(st.key, st.value)
			if err != nil {
				return "", nil, err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE settings SET value = $1 WHERE key = $2`, s.box.Seal(plain), st.key); err != nil {
				return "", nil, fmt.Errorf("reseal setting %s: %w", st.key, err)
			}
			n++
		}
		type endpoint struct {
			id     int64
			secret string
		}
		var eps []endpoint
		rows, err = tx.QueryContext(ctx, `SELECT id, secret FROM webhook_endpoints ORDER BY id`)
		if err != nil {
			return "", nil, fmt.Errorf("read webhook endpoints: %w", err)
		}
		for rows.Next() {
			var e endpoint
			if err := rows.Scan(&e.id, &e.secret); err != nil {
				rows.Close()
				return "", nil, err
			}
			if e.secret != "" && !s.box.Current(e.secret) {
				eps = append(eps, e)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return "", nil, err
		}
		for _, e := range eps {
			plain, err := s.box.Open(e.secret)
			if err != nil {
				return "", nil, fmt.Errorf("webhook endpoint %d: %w", e.id, err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET secret = $1 WHERE id = $2`, s.box.Seal(plain), e.id); err != nil {
				return "", nil, fmt.Errorf("reseal webhook endpoint %d: %w", e.id, err)
			}
			n++
		}
		if n == 0 {
			return "", nil, nil
		}
		return "secrets", audit.Changes{}.Set("resealed", 0, n), nil
	})
	return n, err
}
