package store

import (
	"context"
	"fmt"
	"time"

	"github.com/herald-news/herald/internal/model"
)

// ExportFilter selects the subscriptions of one list, by status and
// attribute when given.
type ExportFilter struct {
	ListID int64
	Status model.SubscriptionStatus // "" for any
	Attr   AttrFilter
}

// ExportRow is one subscriber on the exported list.
type ExportRow struct {
	Email      string
	Name       string
	Attributes []byte // JSON object
	Status     model.SubscriptionStatus
	CreatedAt  time.Time
}

// ExportSubscribers streams a list's subscribers in email order to fn, one
// row at a time, so memory does not grow with the list. A malformed
// attribute filter is ErrBadFilter.
func (s *Store) ExportSubscribers(ctx context.Context, f ExportFilter, fn func(ExportRow) error) error {
	if err := f.Attr.check(); err != nil {
		return err
	}
	rows, err := s.r.QueryContext(ctx, `
		SELECT sb.email, sb.name, sb.attributes, sp.status, sb.created_at
		FROM subscriptions sp JOIN subscribers sb ON sb.id = sp.subscriber_id
		WHERE sp.list_id = $1 AND ($2 = '' OR sp.status = $2) AND `+s.attrCondition("sb.", 3, 4)+`
		ORDER BY sb.email`, f.ListID, string(f.Status), f.Attr.Key, f.Attr.Value)
	if err != nil {
		return fmt.Errorf("export subscribers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r ExportRow
		if err := rows.Scan(&r.Email, &r.Name, &r.Attributes, &r.Status, &r.CreatedAt); err != nil {
			return fmt.Errorf("export subscribers: %w", err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("export subscribers: %w", err)
	}
	return nil
}
