package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/model"
)

// RecordEvents writes a batch of events in one transaction, one statement
// per 500.
func (s *Store) RecordEvents(ctx context.Context, events []model.Event) error {
	if len(events) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx *sql.Tx) error { return s.insertEvents(ctx, tx, events) })
}

// RecordSpooled writes events read from a node's spool segment, from
// offset from up to offset done, and, in the same transaction, that the
// segment is written up to done: a crash while draining a spool neither
// loses nor repeats an event. A batch the database already holds (a retry
// after an answer that never came) is not written again.
func (s *Store) RecordSpooled(ctx context.Context, segment string, from, done int64, events []model.Event) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		lock := ""
		if s.dialect == dialectPostgres {
			lock = " FOR UPDATE"
		}
		var have int64
		err := tx.QueryRowContext(ctx, `SELECT done FROM event_spools WHERE segment = $1`+lock, segment).Scan(&have)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read spool progress: %w", err)
		}
		if have > from {
			return nil // written before
		}
		if err := s.insertEvents(ctx, tx, events); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO event_spools (segment, done, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (segment) DO UPDATE SET done = excluded.done, updated_at = excluded.updated_at`, segment, done, s.now().UTC())
		if err != nil {
			return fmt.Errorf("record spool progress: %w", err)
		}
		return nil
	})
}

// SpoolDone returns how far a spool segment was written (0 for one never
// drained).
func (s *Store) SpoolDone(ctx context.Context, segment string) (int64, error) {
	var done int64
	err := s.w.QueryRowContext(ctx, `SELECT done FROM event_spools WHERE segment = $1`, segment).Scan(&done)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read spool progress: %w", err)
	}
	return done, nil
}

// ForgetSpool deletes a drained segment's progress row.
func (s *Store) ForgetSpool(ctx context.Context, segment string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM event_spools WHERE segment = $1`, segment); err != nil {
		return fmt.Errorf("forget spool segment: %w", err)
	}
	return nil
}

func (s *Store) insertEvents(ctx context.Context, tx *sql.Tx, events []model.Event) error {
	for start := 0; start < len(events); start += importChunk {
		chunk := events[start:min(start+importChunk, len(events))]
		args := make([]any, 0, len(chunk)*8)
		for _, e := range chunk {
			at := e.At
			if at.IsZero() {
				at = s.now()
			}
			class := e.Class
			if class == "" {
				class = model.ClassHuman
			}
			args = append(args, e.Kind, nullID(e.CampaignID), nullID(e.SubscriberID), e.URL, e.Detail, at.UTC(), class, e.Reason)
		}
		q := `INSERT INTO events (kind, campaign_id, subscriber_id, url, detail, at, class, reason) VALUES ` +
			valuesList(len(chunk), 8, func(b *strings.Builder, p int) {
				fmt.Fprintf(b, "($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)", p, p+1, p+2, p+3, p+4, p+5, p+6, p+7)
			})
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("record %d events: %w", len(chunk), err)
		}
	}
	return nil
}

// RecipientPair names one recipient of one campaign.
type RecipientPair struct{ CampaignID, SubscriberID int64 }

// RecipientClick is one stored click, for the rules that look at a
// recipient's clicks together (engage.Settle).
type RecipientClick struct {
	ID int64
	RecipientPair
	URL    string
	At     time.Time
	Class  model.EventClass
	Reason string
}

// RecipientClicks returns the clicks of the given recipients since a time.
// It looks them up by subscriber (the events_by_subscriber index) and keeps
// those of the pairs' campaigns.
func (s *Store) RecipientClicks(ctx context.Context, pairs []RecipientPair, since time.Time) ([]RecipientClick, error) {
	want := make(map[RecipientPair]bool, len(pairs))
	var subs []int64
	for _, p := range pairs {
		if !want[p] {
			want[p] = true
			subs = append(subs, p.SubscriberID)
		}
	}
	slices.Sort(subs)
	subs = slices.Compact(subs)
	var out []RecipientClick
	const chunk = 500
	for start := 0; start < len(subs); start += chunk {
		part := subs[start:min(start+chunk, len(subs))]
		args := []any{since.UTC()}
		for _, id := range part {
			args = append(args, id)
		}
		q := `SELECT id, campaign_id, subscriber_id, url, at, class, reason FROM events
			WHERE subscriber_id IN (` + valuesList(len(part), 1, func(b *strings.Builder, p int) { fmt.Fprintf(b, "$%d", p+1) }) +
			`) AND kind = 'click' AND at >= $1`
		rows, err := s.r.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("read recipients' clicks: %w", err)
		}
		for rows.Next() {
			var c RecipientClick
			var campaign sql.NullInt64
			if err := rows.Scan(&c.ID, &campaign, &c.SubscriberID, &c.URL, &c.At, &c.Class, &c.Reason); err != nil {
				rows.Close()
				return nil, err
			}
			c.CampaignID = campaign.Int64
			if want[c.RecipientPair] {
				out = append(out, c)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Reclass changes one event's classification.
type Reclass struct {
	ID     int64
	Class  model.EventClass
	Reason string
}

// Reclassify applies classification changes in one transaction.
func (s *Store) Reclassify(ctx context.Context, changes []Reclass) error {
	if len(changes) == 0 {
		return nil
	}
	// One statement per verdict and 500 events.
	type verdict struct {
		class  model.EventClass
		reason string
	}
	ids := map[verdict][]any{}
	for _, c := range changes {
		v := verdict{c.Class, c.Reason}
		ids[v] = append(ids[v], c.ID)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for v, list := range ids {
			for start := 0; start < len(list); start += importChunk {
				part := list[start:min(start+importChunk, len(list))]
				q := `UPDATE events SET class = $1, reason = $2 WHERE id IN (` +
					valuesList(len(part), 1, func(b *strings.Builder, p int) { fmt.Fprintf(b, "$%d", p+2) }) + `)`
				if _, err := tx.ExecContext(ctx, q, append([]any{v.class, v.reason}, part...)...); err != nil {
					return fmt.Errorf("reclassify %d events: %w", len(part), err)
				}
			}
		}
		return nil
	})
}

// CampaignLinkCount is how many links a started campaign's message has (0
// before it starts).
func (s *Store) CampaignLinkCount(ctx context.Context, id int64) (int, error) {
	var links string
	err := s.r.QueryRowContext(ctx, `SELECT links FROM campaign_content WHERE campaign_id = $1`, id).Scan(&links)
	if errors.Is(err, sql.ErrNoRows) || links == "" {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("count campaign %d's links: %w", id, err)
	}
	return strings.Count(links, "\n") + 1, nil
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

// EventCounts is a campaign's events by kind: total, and distinct
// subscribers (unique opens, unique clicks), also by class for opens and
// clicks.
type EventCounts struct {
	Total  map[model.EventKind]int64
	Unique map[model.EventKind]int64
	// UniqueBy counts distinct subscribers by class and kind: human,
	// machine and privacy opens; human and machine clicks. A subscriber
	// may count in more than one class.
	UniqueBy map[model.EventClass]map[model.EventKind]int64
	// TotalBy counts events by class and kind; Total is their sum.
	TotalBy map[model.EventClass]map[model.EventKind]int64
}

// Human returns the distinct subscribers with a human event of kind: the
// number decisions use.
func (c EventCounts) Human(kind model.EventKind) int64 { return c.UniqueBy[model.ClassHuman][kind] }

// CampaignEventCounts counts a campaign's events by kind and class: the
// raw rows plus the counts retention folded (see FoldEvents).
func (s *Store) CampaignEventCounts(ctx context.Context, campaignID int64) (EventCounts, error) {
	c := EventCounts{Total: map[model.EventKind]int64{}, Unique: map[model.EventKind]int64{},
		UniqueBy: map[model.EventClass]map[model.EventKind]int64{}, TotalBy: map[model.EventClass]map[model.EventKind]int64{}}
	for _, class := range []model.EventClass{model.ClassHuman, model.ClassMachine, model.ClassPrivacy} {
		c.UniqueBy[class], c.TotalBy[class] = map[model.EventKind]int64{}, map[model.EventKind]int64{}
	}
	rows, err := s.r.QueryContext(ctx, `SELECT kind, class, CAST(SUM(n) AS BIGINT), CAST(SUM(u) AS BIGINT) FROM (
			SELECT kind, class, COUNT(*) AS n, COUNT(DISTINCT subscriber_id) AS u FROM events WHERE campaign_id = $1 GROUP BY kind, class
			UNION ALL
			SELECT kind, class, SUM(total) AS n, SUM(class_uniq) AS u FROM event_counts WHERE campaign_id = $1 GROUP BY kind, class
		) t GROUP BY kind, class`, campaignID)
	if err != nil {
		return c, fmt.Errorf("count events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k model.EventKind
		var class model.EventClass
		var total, unique int64
		if err := rows.Scan(&k, &class, &total, &unique); err != nil {
			return c, err
		}
		if c.UniqueBy[class] == nil {
			c.UniqueBy[class], c.TotalBy[class] = map[model.EventKind]int64{}, map[model.EventKind]int64{}
		}
		c.UniqueBy[class][k], c.TotalBy[class][k] = unique, total
		c.Total[k] += total
	}
	if err := rows.Err(); err != nil {
		return c, err
	}
	urows, err := s.r.QueryContext(ctx, `SELECT kind, CAST(SUM(u) AS BIGINT) FROM (
			SELECT kind, COUNT(DISTINCT subscriber_id) AS u FROM events WHERE campaign_id = $1 GROUP BY kind
			UNION ALL
			SELECT kind, SUM(uniq) AS u FROM event_counts WHERE campaign_id = $1 GROUP BY kind
		) t GROUP BY kind`, campaignID)
	if err != nil {
		return c, fmt.Errorf("count events: %w", err)
	}
	defer urows.Close()
	for urows.Next() {
		var k model.EventKind
		var unique int64
		if err := urows.Scan(&k, &unique); err != nil {
			return c, err
		}
		c.Unique[k] = unique
	}
	return c, urows.Err()
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

// LinkCount is one link's clicks in a campaign: all of them, distinct
// subscribers, and distinct subscribers by class.
type LinkCount struct {
	URL            string
	Clicks, Unique int64
	Human, Machine int64 // unique
}

// TopLinks returns a campaign's links with the most readers (unique human
// clicks), then the most clicks.
func (s *Store) TopLinks(ctx context.Context, campaignID int64, limit int) ([]LinkCount, error) {
	// Raw clicks plus the clicks retention folded (see FoldEvents).
	rows, err := s.r.QueryContext(ctx, `SELECT url, CAST(SUM(n) AS BIGINT) AS clicks, CAST(SUM(u) AS BIGINT),
		CAST(SUM(h) AS BIGINT) AS human, CAST(SUM(m) AS BIGINT) FROM (
			SELECT url, COUNT(*) AS n, COUNT(DISTINCT subscriber_id) AS u,
				COUNT(DISTINCT CASE WHEN class = 'human' THEN subscriber_id END) AS h,
				COUNT(DISTINCT CASE WHEN class = 'machine' THEN subscriber_id END) AS m
			FROM events WHERE campaign_id = $1 AND kind = 'click' AND url <> '' GROUP BY url
			UNION ALL
			SELECT url, SUM(total) AS n, SUM(link_uniq) AS u,
				SUM(CASE WHEN class = 'human' THEN link_class_uniq ELSE 0 END) AS h,
				SUM(CASE WHEN class = 'machine' THEN link_class_uniq ELSE 0 END) AS m
			FROM event_counts WHERE campaign_id = $1 AND kind = 'click' AND url <> '' GROUP BY url
		) t GROUP BY url ORDER BY human DESC, clicks DESC, url LIMIT $2`, campaignID, limit)
	if err != nil {
		return nil, fmt.Errorf("top links: %w", err)
	}
	defer rows.Close()
	var out []LinkCount
	for rows.Next() {
		var l LinkCount
		if err := rows.Scan(&l.URL, &l.Clicks, &l.Unique, &l.Human, &l.Machine); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// CampaignEvent is one event of a campaign as exports show it: the
// subscriber's address when the event is linked to one.
type CampaignEvent struct {
	model.Event
	Email string
}

// CampaignEvents streams a campaign's opens and clicks, oldest first, to
// fn.
func (s *Store) CampaignEvents(ctx context.Context, campaignID int64, fn func(CampaignEvent) error) error {
	rows, err := s.r.QueryContext(ctx, `SELECT e.kind, COALESCE(e.subscriber_id, 0), COALESCE(sb.email, ''), e.url, e.at, e.class, e.reason
		FROM events e LEFT JOIN subscribers sb ON sb.id = e.subscriber_id
		WHERE e.campaign_id = $1 AND e.kind IN ('open', 'click') ORDER BY e.at, e.id`, campaignID)
	if err != nil {
		return fmt.Errorf("read campaign %d's events: %w", campaignID, err)
	}
	defer rows.Close()
	for rows.Next() {
		e := CampaignEvent{Event: model.Event{CampaignID: campaignID}}
		if err := rows.Scan(&e.Kind, &e.SubscriberID, &e.Email, &e.URL, &e.At, &e.Class, &e.Reason); err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// UniqueClickers counts the subscribers who clicked any of urls (any link
// when urls is nil) of a campaign as readers (human clicks), with the
// clicks retention folded (see FoldEvents). Over the whole campaign the
// count is exact; over some links, a reader whose folded clicks were on
// several of them is counted once per link (the folded counts keep
// readers per link, not per set of links), so the count is capped at the
// whole campaign's.
func (s *Store) UniqueClickers(ctx context.Context, campaignID int64, urls []string) (int64, error) {
	raw := `SELECT COUNT(DISTINCT subscriber_id) FROM events WHERE campaign_id = $1 AND kind = 'click' AND class = 'human' AND url <> ''`
	folded := `SELECT COALESCE(SUM(class_uniq), 0) FROM event_counts WHERE campaign_id = $1 AND kind = 'click' AND class = 'human' AND url <> ''`
	args := []any{campaignID}
	if urls != nil {
		if len(urls) == 0 {
			return 0, nil
		}
		in := ` AND url IN (` + valuesList(len(urls), 1, func(b *strings.Builder, p int) { fmt.Fprintf(b, "$%d", p+1) }) + `)`
		raw += in
		folded = `SELECT COALESCE(SUM(link_class_uniq), 0) FROM event_counts WHERE campaign_id = $1 AND kind = 'click' AND class = 'human'` + in
		for _, u := range urls {
			args = append(args, u)
		}
	}
	var n, f int64
	if err := s.r.QueryRowContext(ctx, `SELECT (`+raw+`), CAST((`+folded+`) AS BIGINT)`, args...).Scan(&n, &f); err != nil {
		return 0, fmt.Errorf("count campaign %d's readers who clicked: %w", campaignID, err)
	}
	if urls != nil && f > 0 {
		all, err := s.UniqueClickers(ctx, campaignID, nil)
		if err != nil {
			return 0, err
		}
		return min(n+f, all), nil
	}
	return n + f, nil
}

// CampaignLinks is a started campaign's links.
type CampaignLinks struct {
	ID        int64
	StartedAt time.Time
	Links     []string
}

// CampaignsLinksSince returns the links of the campaigns started since a
// time, oldest first.
func (s *Store) CampaignsLinksSince(ctx context.Context, since time.Time) ([]CampaignLinks, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT c.id, c.started_at, cc.links FROM campaigns c JOIN campaign_content cc ON cc.campaign_id = c.id
		WHERE c.started_at >= $1 ORDER BY c.started_at, c.id`, since.UTC())
	if err != nil {
		return nil, fmt.Errorf("read campaigns' links: %w", err)
	}
	defer rows.Close()
	var out []CampaignLinks
	for rows.Next() {
		var c CampaignLinks
		var links string
		if err := rows.Scan(&c.ID, &c.StartedAt, &links); err != nil {
			return nil, err
		}
		if links != "" {
			c.Links = strings.Split(links, "\n")
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// SourcesOfURLs returns the source each of urls came from, for those that
// are items of a source (the first source when several carried it).
func (s *Store) SourcesOfURLs(ctx context.Context, urls []string) (map[string]int64, error) {
	out := map[string]int64{}
	for start := 0; start < len(urls); start += importChunk {
		part := urls[start:min(start+importChunk, len(urls))]
		args := make([]any, len(part))
		for i, u := range part {
			args[i] = u
		}
		rows, err := s.r.QueryContext(ctx, `SELECT url, MIN(source_id) FROM source_items WHERE url IN (`+
			valuesList(len(part), 1, func(b *strings.Builder, p int) { fmt.Fprintf(b, "$%d", p) })+`) GROUP BY url`, args...)
		if err != nil {
			return nil, fmt.Errorf("read links' sources: %w", err)
		}
		for rows.Next() {
			var u string
			var id int64
			if err := rows.Scan(&u, &id); err != nil {
				rows.Close()
				return nil, err
			}
			out[u] = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// LinkReaders is one link of one campaign and the readers who clicked it.
type LinkReaders struct {
	CampaignID int64
	URL        string
	Readers    int64 // distinct subscribers with a human click
}

// ReadersByLinkSince counts each link's readers (unique human clicks) in
// the campaigns started since a time, with the clicks retention folded
// (a folded reader is counted at their last click on the link, so the two
// parts never count one reader twice).
func (s *Store) ReadersByLinkSince(ctx context.Context, since time.Time) ([]LinkReaders, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT campaign_id, url, CAST(SUM(n) AS BIGINT) FROM (
			SELECT e.campaign_id, e.url, COUNT(DISTINCT e.subscriber_id) AS n FROM events e JOIN campaigns c ON c.id = e.campaign_id
			WHERE c.started_at >= $1 AND e.kind = 'click' AND e.class = 'human' AND e.url <> '' GROUP BY e.campaign_id, e.url
			UNION ALL
			SELECT f.campaign_id, f.url, SUM(f.link_class_uniq) AS n FROM event_counts f JOIN campaigns c ON c.id = f.campaign_id
			WHERE c.started_at >= $1 AND f.kind = 'click' AND f.class = 'human' AND f.url <> '' GROUP BY f.campaign_id, f.url
		) t GROUP BY campaign_id, url`, since.UTC())
	if err != nil {
		return nil, fmt.Errorf("count readers by link: %w", err)
	}
	defer rows.Close()
	var out []LinkReaders
	for rows.Next() {
		var l LinkReaders
		if err := rows.Scan(&l.CampaignID, &l.URL, &l.Readers); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}
