package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/i18n"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/validator"
)

const listColumns = `id, slug, name, description, opt_in, public, language, brand, created_at, updated_at`

func scanList(row interface{ Scan(...any) error }) (*model.List, error) {
	var l model.List
	var brand string
	err := row.Scan(&l.ID, &l.Slug, &l.Name, &l.Description, &l.OptIn, &l.Public, &l.Language, &brand, &l.CreatedAt, &l.UpdatedAt)
	if err == nil {
		l.Brand, err = decodeBrand(l.Slug, brand)
	}
	return &l, err
}

// decodeBrand reads a list's brand column: ” is none.
func decodeBrand(slug, s string) (*model.Brand, error) {
	if s == "" {
		return nil, nil
	}
	var b model.Brand
	if err := json.Unmarshal([]byte(s), &b); err != nil {
		return nil, fmt.Errorf("list %q brand: %w", slug, err)
	}
	return &b, nil
}

// encodeBrand writes a list's brand column.
func encodeBrand(b *model.Brand) (string, error) {
	if b == nil || b.IsZero() {
		return "", nil
	}
	out, err := json.Marshal(b)
	if err != nil {
		return "", fmt.Errorf("encode brand: %w", err)
	}
	return string(out), nil
}

// canonical writes a list's language in canonical form ("pt-BR"), once
// validator.List has accepted it.
func canonical(l *model.List) {
	if lang, err := i18n.Check(l.Language); err == nil {
		l.Language = lang
	}
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
	canonical(l)
	brand, err := encodeBrand(l.Brand)
	if err != nil {
		return err
	}
	now := s.now()
	err = s.inAuditedTx(ctx, audit.ListCreate, func(tx *sql.Tx) (string, audit.Changes, error) {
		err := tx.QueryRowContext(ctx, `
			INSERT INTO lists (slug, name, description, opt_in, public, language, brand, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id`,
			l.Slug, l.Name, l.Description, l.OptIn, l.Public, l.Language, brand, now).Scan(&l.ID)
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

// UpdateList saves a list's name, description, opt-in, visibility,
// language and brand.
func (s *Store) UpdateList(ctx context.Context, l *model.List) error {
	if err := validator.List(l); err != nil {
		return err
	}
	canonical(l)
	brand, err := encodeBrand(l.Brand)
	if err != nil {
		return err
	}
	now := s.now()
	err = s.inAuditedTx(ctx, audit.ListUpdate, func(tx *sql.Tx) (string, audit.Changes, error) {
		old, err := scanList(tx.QueryRowContext(ctx, `SELECT `+listColumns+` FROM lists WHERE id = $1`, l.ID))
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil, fmt.Errorf("list %d: %w", l.ID, ErrNotFound)
		}
		if err != nil {
			return "", nil, fmt.Errorf("update list %q: %w", l.Slug, err)
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE lists SET name = $1, description = $2, opt_in = $3, public = $4, language = $5, brand = $6, updated_at = $7
			WHERE id = $8`, l.Name, l.Description, l.OptIn, l.Public, l.Language, brand, now, l.ID); err != nil {
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
	brand := func(b *model.Brand) model.Brand {
		if b == nil {
			return model.Brand{}
		}
		return *b
	}
	return audit.Changes{}.Set("slug", old.Slug, l.Slug).Set("name", old.Name, l.Name).Set("description", old.Description, l.Description).
		Set("opt_in", old.OptIn, l.OptIn).Set("public", old.Public, l.Public).Set("language", old.Language, l.Language).
		Set("brand", brand(old.Brand), brand(l.Brand))
}

// ListBySlug returns the list with the given slug.
func (s *Store) ListBySlug(ctx context.Context, slug string) (*model.List, error) {
	q, err := s.preparedRead(ctx, `SELECT `+listColumns+` FROM lists WHERE slug = $1`)
	if err != nil {
		return nil, fmt.Errorf("read list %q: %w", slug, err)
	}
	l, err := scanList(q.QueryRowContext(ctx, slug))
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
	q, err := s.preparedRead(ctx, `SELECT `+listColumns+` FROM lists WHERE id = $1`)
	if err != nil {
		return nil, fmt.Errorf("read list %d: %w", id, err)
	}
	l, err := scanList(q.QueryRowContext(ctx, id))
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
		SELECT l.id, l.slug, l.name, l.description, l.opt_in, l.public, l.language, l.brand, l.created_at, l.updated_at,
		       COALESCE(SUM(CASE WHEN s.status = 'confirmed' THEN 1 ELSE 0 END), 0),
		       COALESCE(SUM(CASE WHEN s.status = 'unconfirmed' THEN 1 ELSE 0 END), 0),
		       COALESCE(SUM(CASE WHEN s.status = 'unsubscribed' THEN 1 ELSE 0 END), 0)
		FROM lists l LEFT JOIN subscriptions s ON s.list_id = l.id
		GROUP BY l.id, l.slug, l.name, l.description, l.opt_in, l.public, l.language, l.brand, l.created_at, l.updated_at
		ORDER BY l.slug`)
	if err != nil {
		return nil, fmt.Errorf("read lists: %w", err)
	}
	defer rows.Close()
	var out []ListStats
	for rows.Next() {
		var ls ListStats
		var brand string
		l := &ls.List
		if err := rows.Scan(&l.ID, &l.Slug, &l.Name, &l.Description, &l.OptIn, &l.Public, &l.Language, &brand, &l.CreatedAt, &l.UpdatedAt,
			&ls.Confirmed, &ls.Unconfirmed, &ls.Unsubscribed); err != nil {
			return nil, fmt.Errorf("read lists: %w", err)
		}
		var err error
		if l.Brand, err = decodeBrand(l.Slug, brand); err != nil {
			return nil, err
		}
		out = append(out, ls)
	}
	return out, rows.Err()
}
