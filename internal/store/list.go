package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/validator"
)

const listColumns = `id, slug, name, description, opt_in, public, created_at, updated_at`

func scanList(row interface{ Scan(...any) error }) (*model.List, error) {
	var l model.List
	err := row.Scan(&l.ID, &l.Slug, &l.Name, &l.Description, &l.OptIn, &l.Public, &l.CreatedAt, &l.UpdatedAt)
	return &l, err
}

// CreateList stores a new list and fills in its ID and times. A list with the
// same slug is ErrConflict.
func (s *Store) CreateList(ctx context.Context, l *model.List) error {
	if err := validator.List(l); err != nil {
		return err
	}
	if l.OptIn == "" {
		l.OptIn = model.OptInSingle
	}
	now := s.now()
	err := s.inAuditedTx(ctx, audit.ListCreate, func(tx *sql.Tx) (string, audit.Changes, error) {
		err := tx.QueryRowContext(ctx, `
			INSERT INTO lists (slug, name, description, opt_in, public, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`,
			l.Slug, l.Name, l.Description, l.OptIn, l.Public, now).Scan(&l.ID)
		if isUniqueViolation(err) {
			return "", nil, fmt.Errorf("list %q: %w", l.Slug, ErrConflict)
		}
		if err != nil {
			return "", nil, fmt.Errorf("create list %q: %w", l.Slug, err)
		}
		return audit.Object("list", l.ID), listChanges(&model.List{}, l).Created(), nil
	})
	if err != nil {
		return err
	}
	l.CreatedAt, l.UpdatedAt = now, now
	return nil
}

// UpdateList saves a list's name, description, opt-in and visibility.
func (s *Store) UpdateList(ctx context.Context, l *model.List) error {
	if err := validator.List(l); err != nil {
		return err
	}
	now := s.now()
	err := s.inAuditedTx(ctx, audit.ListUpdate, func(tx *sql.Tx) (string, audit.Changes, error) {
		old, err := scanList(tx.QueryRowContext(ctx, `SELECT `+listColumns+` FROM lists WHERE id = $1`, l.ID))
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil, fmt.Errorf("list %d: %w", l.ID, ErrNotFound)
		}
		if err != nil {
			return "", nil, fmt.Errorf("update list %q: %w", l.Slug, err)
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE lists SET name = $1, description = $2, opt_in = $3, public = $4, updated_at = $5
			WHERE id = $6`, l.Name, l.Description, l.OptIn, l.Public, now, l.ID); err != nil {
			return "", nil, fmt.Errorf("update list %q: %w", l.Slug, err)
		}
		ch := listChanges(old, l)
		delete(ch, "slug") // not changed here
		if len(ch) == 0 {
			return "", nil, nil
		}
		return audit.Object("list", l.ID), ch, nil
	})
	if err != nil {
		return err
	}
	l.UpdatedAt = now
	return nil
}

// DeleteList removes a list, its subscriptions and their history
// (subscribers stay).
func (s *Store) DeleteList(ctx context.Context, id int64) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM subscription_log WHERE list_id = $1`, id); err != nil {
			return fmt.Errorf("delete list %d: %w", id, err)
		}
		var slug string
		err := tx.QueryRowContext(ctx, `DELETE FROM lists WHERE id = $1 RETURNING slug`, id).Scan(&slug)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("list %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("delete list %d: %w", id, err)
		}
		return s.audit(ctx, tx, audit.ListDelete, audit.Object("list", id), audit.Changes{}.Set("slug", slug, nil))
	})
}

// listChanges is the audit record of a list going from old to l.
func listChanges(old, l *model.List) audit.Changes {
	return audit.Changes{}.Set("slug", old.Slug, l.Slug).Set("name", old.Name, l.Name).Set("description", old.Description, l.Description).
		Set("opt_in", old.OptIn, l.OptIn).Set("public", old.Public, l.Public)
}

// ListBySlug returns the list with the given slug.
func (s *Store) ListBySlug(ctx context.Context, slug string) (*model.List, error) {
	l, err := scanList(s.r.QueryRowContext(ctx, `SELECT `+listColumns+` FROM lists WHERE slug = $1`, slug))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("list %q: %w", slug, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read list %q: %w", slug, err)
	}
	return l, nil
}

// ListByID returns the list with the given ID.
func (s *Store) ListByID(ctx context.Context, id int64) (*model.List, error) {
	l, err := scanList(s.r.QueryRowContext(ctx, `SELECT `+listColumns+` FROM lists WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("list %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read list %d: %w", id, err)
	}
	return l, nil
}

// ListStats is a list with its subscription counts by status.
type ListStats struct {
	model.List
	Confirmed, Unconfirmed, Unsubscribed int64
}

// Lists returns every list in slug order with its subscription counts.
func (s *Store) Lists(ctx context.Context) ([]ListStats, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT l.id, l.slug, l.name, l.description, l.opt_in, l.public, l.created_at, l.updated_at,
		       COALESCE(SUM(CASE WHEN s.status = 'confirmed' THEN 1 ELSE 0 END), 0),
		       COALESCE(SUM(CASE WHEN s.status = 'unconfirmed' THEN 1 ELSE 0 END), 0),
		       COALESCE(SUM(CASE WHEN s.status = 'unsubscribed' THEN 1 ELSE 0 END), 0)
		FROM lists l LEFT JOIN subscriptions s ON s.list_id = l.id
		GROUP BY l.id, l.slug, l.name, l.description, l.opt_in, l.public, l.created_at, l.updated_at
		ORDER BY l.slug`)
	if err != nil {
		return nil, fmt.Errorf("read lists: %w", err)
	}
	defer rows.Close()
	var out []ListStats
	for rows.Next() {
		var ls ListStats
		l := &ls.List
		if err := rows.Scan(&l.ID, &l.Slug, &l.Name, &l.Description, &l.OptIn, &l.Public, &l.CreatedAt, &l.UpdatedAt,
			&ls.Confirmed, &ls.Unconfirmed, &ls.Unsubscribed); err != nil {
			return nil, fmt.Errorf("read lists: %w", err)
		}
		out = append(out, ls)
	}
	return out, rows.Err()
}
