package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/model"
)

// Suppress blocks an address across every list, including the rows of
// running campaigns not yet sent to it. Suppressing an address that is
// already suppressed keeps the first reason and time. An erased address is
// left as it is: its hash keeps it out already, and writing it down again
// would undo the erasure. A hard bounce or a complaint queues the
// subscriber.bounced or subscriber.complained webhooks in the same
// transaction, every time one is reported.
func (s *Store) Suppress(ctx context.Context, email string, reason model.SuppressionReason, detail string) error {
	if !reason.Valid() {
		return fmt.Errorf("unknown suppression reason %q", reason)
	}
	now := s.now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if erased, err := isErased(ctx, tx, email); err != nil || erased {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO suppressions (email, reason, detail, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (email) DO NOTHING`, email, reason, detail, now); err != nil {
			return err
		}
		// Mail not yet sent to the address stops now, in running campaigns too.
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'skipped', last_reply = $1, updated_at = $2
			WHERE email = $3 AND status IN ('pending', 'deferred')`, "suppressed: "+string(reason), now, email); err != nil {
			return err
		}
		// A person's suppression is on record (bounces and complaints
		// come with no actor and are not).
		if err := s.audit(ctx, tx, audit.SuppressionAdd, suppressionObject(email), audit.Changes{}.Set("reason", nil, reason)); err != nil {
			return err
		}
		// A bounce or complaint is news for webhooks each time it comes.
		return queueSuppressionWebhookTx(ctx, tx, email, reason, detail, now)
	})
	if err != nil {
		return fmt.Errorf("suppress %s: %w", email, err)
	}
	return nil
}

// Unsuppress lifts a suppression (an admin decision), and with it the
// erasure of the address, if it was erased: only someone who knows the
// address can lift it, and the address may then be added again.
func (s *Store) Unsuppress(ctx context.Context, email string) error {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, d := range []struct{ q, arg string }{
			{`DELETE FROM suppressions WHERE email = $1`, email},
			{`DELETE FROM erasures WHERE email_sha256 = $1`, erasureHash(email)},
		} {
			res, err := tx.ExecContext(ctx, d.q, d.arg)
			if err != nil {
				return err
			}
			m, _ := res.RowsAffected()
			n += m
		}
		if n == 0 {
			return fmt.Errorf("suppression of %s: %w", email, ErrNotFound)
		}
		return s.audit(ctx, tx, audit.SuppressionRemove, suppressionObject(email), nil)
	})
	if errors.Is(err, ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("unsuppress %s: %w", email, err)
	}
	return nil
}

// SuppressRow is one address an import puts on the suppression list.
type SuppressRow struct {
	Line   int    // where the import file has it
	Email  string // normalised
	Reason model.SuppressionReason
	Detail string
}

// SuppressBatch suppresses many addresses in one transaction, as Suppress
// does one: an address already suppressed keeps its first reason, rows of
// running campaigns not yet sent to an address are skipped, and an erased
// address is left as it is. Emails must be distinct.
func (s *Store) SuppressBatch(ctx context.Context, rows []SuppressRow) error {
	for _, r := range rows {
		if !r.Reason.Valid() {
			return fmt.Errorf("line %d: unknown suppression reason %q", r.Line, r.Reason)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	now := s.now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for start := 0; start < len(rows); start += importChunk {
			chunk := rows[start:min(start+importChunk, len(rows))]
			emails := make([]string, len(chunk))
			for i, r := range chunk {
				emails[i] = r.Email
			}
			erased, err := erasedAmong(ctx, tx, nil, emails)
			if err != nil {
				return err
			}
			insert := make([]any, 0, 3*len(chunk)+1)
			emails = emails[:0]
			for _, r := range chunk {
				if !erased[r.Email] {
					insert = append(insert, r.Email, r.Reason, r.Detail)
					emails = append(emails, r.Email)
				}
			}
			n := len(emails)
			if n == 0 {
				continue
			}
			at := 3*n + 1
			if _, err := tx.ExecContext(ctx, `INSERT INTO suppressions (email, reason, detail, created_at) VALUES `+
				valuesList(n, 3, func(b *strings.Builder, p int) { fmt.Fprintf(b, "($%d, $%d, $%d, $%d)", p, p+1, p+2, at) })+
				` ON CONFLICT (email) DO NOTHING`, append(insert, now)...); err != nil {
				return err
			}
			skip := make([]any, 0, n+1)
			skip = append(skip, now)
			for _, e := range emails {
				skip = append(skip, e)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE deliveries
				SET status = 'skipped', updated_at = $1,
				    last_reply = 'suppressed: ' || (SELECT x.reason FROM suppressions x WHERE x.email = deliveries.email)
				WHERE status IN ('pending', 'deferred') AND email IN (`+placeholders(n, 1, 2)+`)`, skip...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("suppress lines %d to %d: %w", rows[0].Line, rows[len(rows)-1].Line, err)
	}
	return nil
}

// erasureHash is the form in which an erased address is kept: the SHA-256,
// in hex, of the normalised address lower-cased, so that the mailbox
// spelt with another case in its local part is recognised too.
func erasureHash(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(email)))
	return hex.EncodeToString(sum[:])
}

// querier runs a query: *sql.Tx or *sql.DB.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Erased reports whether email was erased (and not lifted since).
func (s *Store) Erased(ctx context.Context, email string) (bool, error) {
	erased, err := isErased(ctx, s.r, strings.ToLower(email))
	if err != nil {
		return false, fmt.Errorf("read erasures: %w", err)
	}
	return erased, nil
}

// isErased reports whether email was erased.
func isErased(ctx context.Context, q querier, email string) (bool, error) {
	erased, err := erasedAmong(ctx, q, nil, []string{email})
	return erased[email], err
}

// erasedAmong returns which of emails (at most importChunk) were erased,
// with st, when not nil, as the prepared query for a full chunk.
func erasedAmong(ctx context.Context, q querier, st *sql.Stmt, emails []string) (map[string]bool, error) {
	byHash := make(map[string]string, len(emails))
	args := make([]any, len(emails))
	for i, e := range emails {
		h := erasureHash(e)
		byHash[h] = e
		args[i] = h
	}
	var rows *sql.Rows
	var err error
	if st != nil {
		rows, err = st.QueryContext(ctx, args...)
	} else {
		rows, err = q.QueryContext(ctx, erasedSQL(len(args)), args...)
	}
	if err != nil {
		return nil, fmt.Errorf("look for erased addresses: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, fmt.Errorf("look for erased addresses: %w", err)
		}
		out[byHash[h]] = true
	}
	return out, rows.Err()
}

// anyErasures reports whether any address was ever erased, so that a bulk
// import need not look up each of its addresses when none was.
func anyErasures(ctx context.Context, q querier) (bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT 1 FROM erasures LIMIT 1`)
	if err != nil {
		return false, fmt.Errorf("look for erased addresses: %w", err)
	}
	defer rows.Close()
	return rows.Next(), rows.Err()
}

// erasedSQL selects which of n hashes are erased.
func erasedSQL(n int) string {
	return `SELECT email_sha256 FROM erasures WHERE email_sha256 IN (` + placeholders(n, 1, 1) + `)`
}

// Suppression returns the suppression of an address.
func (s *Store) Suppression(ctx context.Context, email string) (*model.Suppression, error) {
	var sp model.Suppression
	err := s.r.QueryRowContext(ctx, `SELECT email, reason, detail, created_at FROM suppressions WHERE email = $1`, email).
		Scan(&sp.Email, &sp.Reason, &sp.Detail, &sp.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("suppression of %s: %w", email, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read suppression: %w", err)
	}
	return &sp, nil
}

// Suppressions lists suppressions, newest first.
func (s *Store) Suppressions(ctx context.Context, offset, limit int) ([]model.Suppression, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT email, reason, detail, created_at FROM suppressions
		ORDER BY created_at DESC, email LIMIT $1 OFFSET $2`, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("read suppressions: %w", err)
	}
	defer rows.Close()
	var out []model.Suppression
	for rows.Next() {
		var sp model.Suppression
		if err := rows.Scan(&sp.Email, &sp.Reason, &sp.Detail, &sp.CreatedAt); err != nil {
			return nil, fmt.Errorf("read suppressions: %w", err)
		}
		out = append(out, sp)
	}
	return out, rows.Err()
}

// suppressionObject names a suppressed address in the audit log by the
// start of its erasure hash: the log must not keep an address that its
// owner may later have erased.
func suppressionObject(email string) string {
	return "suppression/" + erasureHash(email)[:16]
}
