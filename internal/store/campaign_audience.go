package store

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/model"
)

// audienceOf is the condition on subscribers sb that makes one a
// recipient of campaign c: active, not suppressed, and confirmed on one of
// its lists or a member of one of its segments, whose queries are read
// (and their windows measured) at now. args hold $1 (the campaign) and $2,
// $3 (a subscriber ID range the caller fills in), then the segments'.
// StartCampaign writes the ledger with it and AudienceCount counts it, so
// the number a person confirms is the number the ledger gets.
func (s *Store) audienceOf(ctx context.Context, c *model.Campaign, now time.Time) (string, []any, error) {
	// The subscriptions are limited to the batch's range of subscriber IDs
	// as well ($2, $3): the planner does not carry the range of sb.id over
	// the join, and without it hashed every subscription of the database
	// for each batch of 50,000, so a start to ten million read two billion
	// subscription rows.
	var audience []string
	if len(c.ListIDs) > 0 {
		audience = append(audience, `EXISTS (SELECT 1 FROM subscriptions sp JOIN campaign_lists cl ON cl.list_id = sp.list_id
			              WHERE cl.campaign_id = $1 AND sp.subscriber_id = sb.id AND sp.status = 'confirmed'
			                AND sp.subscriber_id > $2 AND sp.subscriber_id <= $3)`)
	}
	args := []any{c.ID, int64(0), int64(0)}
	for _, sid := range c.SegmentIDs {
		sg, err := s.Segment(ctx, sid)
		if err != nil {
			return "", nil, err
		}
		n, err := s.parseSegment(ctx, sg.Query)
		if err != nil {
			return "", nil, fmt.Errorf("segment %q: %w", sg.Name, err)
		}
		audience = append(audience, "("+segmentConfirmed+" AND "+s.compileSegment(n, &args, now)+")")
	}
	if len(audience) == 0 {
		audience = []string{"FALSE"}
	}
	return `sb.status = 'active'
			  AND (` + strings.Join(audience, "\n\t\t\t   OR ") + `)
			  AND NOT EXISTS (SELECT 1 FROM suppressions x WHERE x.email = sb.email)`, args, nil
}

// AudienceCount is how many readers campaign id would go to if it started
// now (each address once): what its start confirmation names.
func (s *Store) AudienceCount(ctx context.Context, id int64) (int64, error) {
	c, err := s.Campaign(ctx, id)
	if err != nil {
		return 0, err
	}
	where, args, err := s.audienceOf(ctx, c, s.now())
	if err != nil {
		return 0, fmt.Errorf("count the audience of campaign %d: %w", id, err)
	}
	args[1], args[2] = int64(0), int64(math.MaxInt64)
	var n int64
	err = s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM subscribers sb WHERE sb.id > $2 AND sb.id <= $3 AND `+where+`
		AND $1 > 0`, args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count the audience of campaign %d: %w", id, err)
	}
	return n, nil
}

// PriorSend is an earlier campaign of the same edition to one of the same
// lists.
type PriorSend struct {
	ID        int64
	Name      string
	Status    model.CampaignStatus
	StartedAt time.Time
	List      string // the list both campaigns go to (the first, by name)
}

// PriorSends returns the other campaigns of campaign id's edition that
// started to one of its lists (sending, paused, sent, or cancelled after it
// started: some readers have it), newest first.
func (s *Store) PriorSends(ctx context.Context, id int64) ([]PriorSend, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT o.id, o.name, o.status, o.started_at, MIN(l.name)
		FROM campaigns c
		JOIN campaigns o ON o.edition_id = c.edition_id AND o.id <> c.id
		JOIN campaign_lists cl ON cl.campaign_id = c.id
		JOIN campaign_lists ol ON ol.campaign_id = o.id AND ol.list_id = cl.list_id
		JOIN lists l ON l.id = cl.list_id
		WHERE c.id = $1 AND o.status IN ('sending', 'paused', 'sent', 'cancelled') AND o.started_at IS NOT NULL
		GROUP BY o.id, o.name, o.status, o.started_at
		ORDER BY o.started_at DESC, o.id DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("earlier sends of campaign %d's edition: %w", id, err)
	}
	defer rows.Close()
	var out []PriorSend
	for rows.Next() {
		var p PriorSend
		if err := rows.Scan(&p.ID, &p.Name, &p.Status, &p.StartedAt, &p.List); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
