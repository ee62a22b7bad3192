package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/model"
)

// The audit log. Every write method that changes something a person asked
// for calls s.audit inside its own transaction, with the action, the
// object and what changed; the actor comes from the context (see package
// audit). So the row commits with the change or not at all, and no front
// door needs to remember it. Rows are only ever inserted here and deleted
// by PruneAudit.

// hookAudit is the data of an audit.* webhook.
type hookAudit struct {
	At      time.Time     `json:"at"`
	Actor   string        `json:"actor"`
	Via     audit.Via     `json:"via"`
	IP      string        `json:"ip,omitempty"`
	Action  string        `json:"action"`
	Object  string        `json:"object,omitempty"`
	Changes audit.Changes `json:"changes"`
}

// audit appends the audit row of a change made in tx by the actor ctx
// carries (none: the change is background work and is not recorded).
// Secret fields in changes are hidden whatever the caller put there. The
// row is also queued for webhook endpoints listening for audit.* events.
func (s *Store) audit(ctx context.Context, tx *sql.Tx, action, object string, changes audit.Changes) error {
	return s.auditOn(ctx, sqlOps{tx}, action, object, changes)
}

// auditOn is audit in either driver's transaction (pgx's for the
// PostgreSQL import).
func (s *Store) auditOn(ctx context.Context, tx txOps, action, object string, changes audit.Changes) error {
	a, ok := audit.ActorFrom(ctx)
	if !ok {
		return nil
	}
	changes = changes.Redacted()
	body, err := json.Marshal(changes)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	now := s.now()
	var userID sql.NullInt64
	if a.UserID != 0 {
		userID = sql.NullInt64{Int64: a.UserID, Valid: true}
	}
	if err := tx.exec(ctx, `INSERT INTO audit_log (at, user_id, actor, via, ip, action, object, changes)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, now, userID, a.Name, string(a.Via), a.IP, action, object, string(body)); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	ids, err := tx.ids(ctx, webhookListenersSQL, "%,"+string(model.EventAudit)+",%")
	if err != nil {
		return fmt.Errorf("find webhooks for %s: %w", model.EventAudit, err)
	}
	return queueFor(ctx, tx, ids, model.WebhookEvent("audit."+action), now, func() (any, error) {
		return hookAudit{At: now, Actor: a.Name, Via: a.Via, IP: a.IP, Action: action, Object: object, Changes: changes}, nil
	})
}

// txOps is the little of a write transaction that audit rows and webhook
// notices need, so they are written alike in database/sql's transactions
// and in pgx's (the PostgreSQL import's COPY runs in one).
type txOps interface {
	exec(ctx context.Context, q string, args ...any) error
	ids(ctx context.Context, q string, args ...any) ([]int64, error)
}

type sqlOps struct{ tx *sql.Tx }

func (o sqlOps) exec(ctx context.Context, q string, args ...any) error {
	_, err := o.tx.ExecContext(ctx, q, args...)
	return err
}

func (o sqlOps) ids(ctx context.Context, q string, args ...any) ([]int64, error) {
	rows, err := o.tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// inAuditedTx runs fn in a write transaction and, if fn succeeds, appends
// the audit row fn describes in the same transaction. fn returns the
// changes; an empty object skips the row (nothing changed).
func (s *Store) inAuditedTx(ctx context.Context, action string, fn func(tx *sql.Tx) (object string, changes audit.Changes, err error)) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		object, changes, err := fn(tx)
		if err != nil || object == "" {
			return err
		}
		return s.audit(ctx, tx, action, object, changes)
	})
}

// AuditEntries returns the entries f selects, newest first.
func (s *Store) AuditEntries(ctx context.Context, f audit.Filter) ([]audit.Entry, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if a := strings.TrimSpace(f.Action); a != "" {
		if strings.HasSuffix(a, ".") {
			where = append(where, "action LIKE "+arg(escapeLike(a)+"%")+" ESCAPE '\\'")
		} else {
			where = append(where, "action = "+arg(a))
		}
	}
	if u := strings.TrimSpace(f.User); u != "" {
		p := arg(u)
		where = append(where, "(actor = "+p+" OR user_id IN (SELECT id FROM users WHERE email = "+arg(strings.ToLower(u))+"))")
	}
	if o := strings.TrimSpace(f.Object); o != "" {
		if strings.Contains(o, "/") {
			where = append(where, "object = "+arg(o))
		} else {
			where = append(where, "object LIKE "+arg(escapeLike(o)+"/%")+" ESCAPE '\\'")
		}
	}
	if !f.Since.IsZero() {
		where = append(where, "at >= "+arg(f.Since.UTC()))
	}
	if !f.Until.IsZero() {
		where = append(where, "at < "+arg(f.Until.UTC()))
	}
	if f.BeforeID > 0 {
		where = append(where, "id < "+arg(f.BeforeID))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	q := `SELECT id, at, user_id, actor, via, ip, action, object, changes FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT " + arg(limit)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read the audit log: %w", err)
	}
	defer rows.Close()
	var out []audit.Entry
	for rows.Next() {
		var e audit.Entry
		var userID sql.NullInt64
		var via, changes string
		if err := rows.Scan(&e.ID, &e.At, &userID, &e.Actor, &via, &e.IP, &e.Action, &e.Object, &changes); err != nil {
			return nil, fmt.Errorf("read the audit log: %w", err)
		}
		e.UserID, e.Via, e.At = userID.Int64, audit.Via(via), e.At.UTC()
		if err := json.Unmarshal([]byte(changes), &e.Changes); err != nil {
			return nil, fmt.Errorf("audit entry %d: %w", e.ID, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// PruneAudit deletes at most batch audit rows older than before, oldest
// first, and returns how many it deleted. Retention (the scheduler leader,
// by the setting in package settings) calls it again until it returns less
// than batch, so the writer is never held for long.
func (s *Store) PruneAudit(ctx context.Context, before time.Time, batch int) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM audit_log WHERE id IN
		(SELECT id FROM audit_log WHERE at < $1 ORDER BY id LIMIT $2)`, before.UTC(), batch)
	if err != nil {
		return 0, fmt.Errorf("prune the audit log: %w", err)
	}
	return res.RowsAffected()
}

// auditTime is a time as the audit log shows it: nil when zero.
func auditTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// jsonChanges compares two JSON objects field by field (old may be empty:
// nothing before).
func jsonChanges(old, cur string) (audit.Changes, error) {
	var a, b map[string]any
	if old != "" {
		if err := json.Unmarshal([]byte(old), &a); err != nil {
			return nil, err
		}
	}
	if err := json.Unmarshal([]byte(cur), &b); err != nil {
		return nil, err
	}
	ch := audit.Changes{}
	for k, v := range a {
		ch.Set(k, v, b[k])
	}
	for k, v := range b {
		if _, ok := a[k]; !ok {
			ch.Set(k, nil, v)
		}
	}
	return ch, nil
}

// deleteAudited runs q, a DELETE of the kind's row id returning its name,
// and records the removal with that name.
func (s *Store) deleteAudited(ctx context.Context, action, kind string, id int64, q string) error {
	return s.inAuditedTx(ctx, action, func(tx *sql.Tx) (string, audit.Changes, error) {
		var name string
		err := tx.QueryRowContext(ctx, q, id).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil, fmt.Errorf("%s %d: %w", kind, id, ErrNotFound)
		}
		if err != nil {
			return "", nil, fmt.Errorf("delete %s %d: %w", kind, id, err)
		}
		return audit.Object(kind, id), audit.Changes{}.Set("name", name, nil), nil
	})
}
