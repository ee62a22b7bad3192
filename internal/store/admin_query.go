package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/model"
)

// ErrBadFilter is matched (errors.Is) by the error of a malformed
// subscriber filter. The error's own text is written for the person who
// typed the filter.
var ErrBadFilter = errors.New("malformed filter")

// filterError is a malformed filter, explained.
type filterError struct{ msg string }

func (e *filterError) Error() string        { return e.msg }
func (e *filterError) Is(target error) bool { return target == ErrBadFilter }

// AttrFilter selects the subscribers whose attribute Key, read as text,
// is Value (a number's text is its JSON: plan=2). The zero AttrFilter
// selects everyone.
type AttrFilter struct {
	Key, Value string
}

// ParseAttrFilter reads an attribute filter as people type it, name=value
// (city=Leeds; spaces around either side are ignored). A blank filter is
// no filter. Anything else is refused with an error saying what is wrong
// (ErrBadFilter), never read as everyone.
func ParseAttrFilter(s string) (AttrFilter, error) {
	if strings.TrimSpace(s) == "" {
		return AttrFilter{}, nil
	}
	k, v, ok := strings.Cut(s, "=")
	f := AttrFilter{Key: strings.TrimSpace(k), Value: strings.TrimSpace(v)}
	switch {
	case !ok:
		return AttrFilter{}, &filterError{fmt.Sprintf("the attribute filter %q is not name=value: write it like city=Leeds", s)}
	case f.Key == "":
		return AttrFilter{}, noAttrName(s)
	}
	return f, f.check()
}

func noAttrName(filter string) error {
	return &filterError{fmt.Sprintf("the attribute filter %q has no attribute name before the =: write it like city=Leeds", filter)}
}

// check refuses a filter that would match everyone or cannot be asked.
func (f AttrFilter) check() error {
	switch {
	case f == AttrFilter{}:
		return nil
	case f.Key == "":
		return noAttrName("=" + f.Value)
	case f.Value == "":
		return &filterError{fmt.Sprintf("the attribute filter %q has no value after the =: write it like city=Leeds", f.Key+"=")}
	case strings.ContainsAny(f.Key, `"\`):
		// Keys are bound, never spliced; SQLite's JSON path quoting is
		// closed by refusing these.
		return &filterError{fmt.Sprintf("the attribute name %q cannot be used in a filter: attribute names in filters cannot contain quotes or backslashes", f.Key)}
	}
	return nil
}

// attrCondition is the SQL condition of an attribute filter whose key is
// parameter key and value parameter value, over the subscribers' attributes
// column (alias prefix p, "" or "sb.").
func (s *Store) attrCondition(p string, key, value int) string {
	attr := fmt.Sprintf(`json_extract(%sattributes, '$."' || $%d || '"')`, p, key)
	if s.dialect == dialectPostgres {
		attr = fmt.Sprintf(`(%sattributes ->> $%d)`, p, key)
	}
	return fmt.Sprintf(`($%d = '' OR CAST(%s AS TEXT) = $%d)`, value, attr, value)
}

// SubscriberQuery searches subscribers for the admin and the API. Zero
// values match everything.
type SubscriberQuery struct {
	Search    string                   // part of the email or name, case-insensitive
	ListID    int64                    // subscribed (in any status) to this list
	SubStatus model.SubscriptionStatus // with ListID: only this subscription status
	Status    model.SubscriberStatus   // active or blocklisted
	Attr      AttrFilter
	Limit     int // default 50, at most 1000
	Offset    int
}

// SearchSubscribers returns one page of matching subscribers, by ID, and
// how many match in all. A malformed attribute filter is ErrBadFilter.
func (s *Store) SearchSubscribers(ctx context.Context, q SubscriberQuery) ([]model.Subscriber, int64, error) {
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 50
	}
	if err := q.Attr.check(); err != nil {
		return nil, 0, err
	}
	where := `
		WHERE ($1 = '' OR LOWER(email) LIKE $2 OR LOWER(name) LIKE $2)
		  AND ($3 = 0 OR EXISTS (SELECT 1 FROM subscriptions sp WHERE sp.subscriber_id = subscribers.id
		                         AND sp.list_id = $3 AND ($4 = '' OR sp.status = $4)))
		  AND ($5 = '' OR status = $5)
		  AND ` + s.attrCondition("", 6, 7)
	like := "%" + strings.NewReplacer(`%`, ``, `_`, ``).Replace(strings.ToLower(q.Search)) + "%"
	args := []any{q.Search, like, q.ListID, string(q.SubStatus), string(q.Status), q.Attr.Key, q.Attr.Value}
	var total int64
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM subscribers`+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("search subscribers: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+subscriberColumns+` FROM subscribers`+where+
		` ORDER BY id DESC LIMIT $8 OFFSET $9`, append(args, q.Limit, q.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("search subscribers: %w", err)
	}
	defer rows.Close()
	var out []model.Subscriber
	for rows.Next() {
		sub, err := scanSubscriber(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("search subscribers: %w", err)
		}
		out = append(out, *sub)
	}
	return out, total, rows.Err()
}

// GrowthPoint is one day of subscriber growth: new subscribers that day
// and the total at its end.
type GrowthPoint struct {
	Day   time.Time
	New   int64
	Total int64
}

// SubscriberGrowth returns one point per day for the last days days
// (today included), days without sign-ups included with New = 0.
func (s *Store) SubscriberGrowth(ctx context.Context, days int) ([]GrowthPoint, error) {
	if days <= 0 {
		days = 30
	}
	now := s.now()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	since := today.AddDate(0, 0, -(days - 1))
	var before int64
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM subscribers WHERE created_at < $1`, since).Scan(&before); err != nil {
		return nil, fmt.Errorf("subscriber growth: %w", err)
	}
	bucket := `strftime('%Y-%m-%d', created_at)`
	if s.dialect == dialectPostgres {
		bucket = `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+bucket+` AS d, COUNT(*) FROM subscribers
		WHERE created_at >= $1 GROUP BY d ORDER BY d`, since)
	if err != nil {
		return nil, fmt.Errorf("subscriber growth: %w", err)
	}
	defer rows.Close()
	perDay := map[string]int64{}
	for rows.Next() {
		var d string
		var n int64
		if err := rows.Scan(&d, &n); err != nil {
			return nil, fmt.Errorf("subscriber growth: %w", err)
		}
		perDay[d] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("subscriber growth: %w", err)
	}
	out := make([]GrowthPoint, 0, days)
	total := before
	for d := since; !d.After(today); d = d.AddDate(0, 0, 1) {
		n := perDay[d.Format("2006-01-02")]
		total += n
		out = append(out, GrowthPoint{Day: d, New: n, Total: total})
	}
	return out, nil
}

// CountSuppressions counts suppressed addresses.
func (s *Store) CountSuppressions(ctx context.Context) (int64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM suppressions`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count suppressions: %w", err)
	}
	return n, nil
}

// CampaignSummary is a campaign with the figures the dashboard and the
// campaign list show.
type CampaignSummary struct {
	model.Campaign
	Progress model.Progress
	Opens    int64 // unique, human (package engage)
	Clicks   int64 // unique, human
	Bounces  int64
	Unsubs   int64
}

// CampaignSummaries returns a page of campaigns, newest first, with their
// ledger counts and unique opens and clicks.
func (s *Store) CampaignSummaries(ctx context.Context, limit, offset int) ([]CampaignSummary, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+campaignColumns+` FROM campaigns ORDER BY id DESC LIMIT $1 OFFSET $2`, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("read campaigns: %w", err)
	}
	var out []CampaignSummary
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("read campaigns: %w", err)
		}
		out = append(out, CampaignSummary{Campaign: *c})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read campaigns: %w", err)
	}
	for i := range out {
		c := &out[i]
		if c.Progress, err = s.CampaignProgress(ctx, c.ID); err != nil {
			return nil, err
		}
		ev, err := s.CampaignEventCounts(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		c.Opens, c.Clicks = ev.Human(model.EventOpen), ev.Human(model.EventClick)
		c.Bounces = ev.Total[model.EventBounce]
		c.Unsubs = ev.Total[model.EventUnsubscribe]
	}
	return out, nil
}

// CountCampaigns counts campaigns.
func (s *Store) CountCampaigns(ctx context.Context) (int64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM campaigns`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count campaigns: %w", err)
	}
	return n, nil
}

// CountEditions counts editions.
func (s *Store) CountEditions(ctx context.Context) (int64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM editions`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count editions: %w", err)
	}
	return n, nil
}
