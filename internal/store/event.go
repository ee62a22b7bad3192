package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/model"
)

// RecordEvents writes a batch of events in one statement per 500.
func (s *Store) RecordEvents(ctx context.Context, events []model.Event) error {
	if len(events) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for start := 0; start < len(events); start += importChunk {
			chunk := events[start:min(start+importChunk, len(events))]
			args := make([]any, 0, len(chunk)*6)
			for _, e := range chunk {
				at := e.At
				if at.IsZero() {
					at = s.now()
				}
				args = append(args, e.Kind, nullID(e.CampaignID), nullID(e.SubscriberID), e.URL, e.Detail, at.UTC())
			}
			q := `INSERT INTO events (kind, campaign_id, subscriber_id, url, detail, at) VALUES ` +
				valuesList(len(chunk), 6, func(b *strings.Builder, p int) {
					fmt.Fprintf(b, "($%d, $%d, $%d, $%d, $%d, $%d)", p, p+1, p+2, p+3, p+4, p+5)
				})
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return fmt.Errorf("record %d events: %w", len(chunk), err)
			}
		}
		return nil
	})
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

// EventCounts is a campaign's events by kind: total, and distinct
// subscribers (unique opens, unique clicks).
type EventCounts struct {
	Total  map[model.EventKind]int64
	Unique map[model.EventKind]int64
}

// CampaignEventCounts counts a campaign's events by kind: the raw rows
// plus the counts retention folded (see FoldEvents).
func (s *Store) CampaignEventCounts(ctx context.Context, campaignID int64) (EventCounts, error) {
	c := EventCounts{Total: map[model.EventKind]int64{}, Unique: map[model.EventKind]int64{}}
	rows, err := s.r.QueryContext(ctx, `SELECT kind, CAST(SUM(n) AS BIGINT), CAST(SUM(u) AS BIGINT) FROM (
			SELECT kind, COUNT(*) AS n, COUNT(DISTINCT subscriber_id) AS u FROM events WHERE campaign_id = $1 GROUP BY kind
			UNION ALL
			SELECT kind, SUM(total) AS n, SUM(uniq) AS u FROM event_counts WHERE campaign_id = $1 GROUP BY kind
		) t GROUP BY kind`, campaignID)
	if err != nil {
		return c, fmt.Errorf("count events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k model.EventKind
		var total, unique int64
		if err := rows.Scan(&k, &total, &unique); err != nil {
			return c, err
		}
		c.Total[k], c.Unique[k] = total, unique
	}
	return c, rows.Err()
}

// SeriesPoint is the count of one kind of event in one time bucket.
type SeriesPoint struct {
	At    time.Time
	Kind  model.EventKind
	Count int64
}

// EventSeries counts a campaign's events per hour (or per day with daily),
// oldest first.
func (s *Store) EventSeries(ctx context.Context, campaignID int64, daily bool) ([]SeriesPoint, error) {
	bucket := `strftime('%Y-%m-%d %H:00:00', at)`
	layout := "2006-01-02 15:04:05"
	if daily {
		bucket = `strftime('%Y-%m-%d 00:00:00', at)`
	}
	if s.dialect == dialectPostgres {
		unit := "hour"
		if daily {
			unit = "day"
		}
		bucket = `to_char(date_trunc('` + unit + `', at AT TIME ZONE 'UTC'), 'YYYY-MM-DD HH24:MI:SS')`
	}
	// Folded events (see FoldEvents) count in their day's first bucket.
	rows, err := s.r.QueryContext(ctx, `SELECT b, kind, CAST(SUM(n) AS BIGINT) FROM (
			SELECT `+bucket+` AS b, kind, COUNT(*) AS n FROM events WHERE campaign_id = $1 GROUP BY b, kind
			UNION ALL
			SELECT day || ' 00:00:00' AS b, kind, SUM(total) AS n FROM event_counts WHERE campaign_id = $1 GROUP BY b, kind
		) t GROUP BY b, kind ORDER BY b, kind`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("event series: %w", err)
	}
	defer rows.Close()
	var out []SeriesPoint
	for rows.Next() {
		var b string
		var p SeriesPoint
		if err := rows.Scan(&b, &p.Kind, &p.Count); err != nil {
			return nil, err
		}
		if p.At, err = time.Parse(layout, b); err != nil {
			return nil, fmt.Errorf("event series bucket %q: %w", b, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// LinkCount is one link's clicks in a campaign.
type LinkCount struct {
	URL            string
	Clicks, Unique int64
}

// TopLinks returns a campaign's most clicked links.
func (s *Store) TopLinks(ctx context.Context, campaignID int64, limit int) ([]LinkCount, error) {
	// Raw clicks plus the clicks retention folded (see FoldEvents).
	rows, err := s.r.QueryContext(ctx, `SELECT url, CAST(SUM(n) AS BIGINT) AS clicks, CAST(SUM(u) AS BIGINT) FROM (
			SELECT url, COUNT(*) AS n, COUNT(DISTINCT subscriber_id) AS u FROM events
			WHERE campaign_id = $1 AND kind = 'click' GROUP BY url
			UNION ALL
			SELECT url, SUM(total) AS n, SUM(link_uniq) AS u FROM event_counts
			WHERE campaign_id = $1 AND kind = 'click' GROUP BY url
		) t GROUP BY url ORDER BY clicks DESC, url LIMIT $2`, campaignID, limit)
	if err != nil {
		return nil, fmt.Errorf("top links: %w", err)
	}
	defer rows.Close()
	var out []LinkCount
	for rows.Next() {
		var l LinkCount
		if err := rows.Scan(&l.URL, &l.Clicks, &l.Unique); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}
