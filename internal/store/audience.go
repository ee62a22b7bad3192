package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/herald-news/herald/internal/model"
)

// abHeld is the next_attempt_at of an A/B test's rows outside the sample
// until the winner is chosen: a time no claim reaches.
var abHeld = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// tzAttr is the SQL for a subscriber's tz attribute, as text.
func (s *Store) tzAttr() string {
	if s.dialect == dialectPostgres {
		return `(sb.attributes ->> 'tz')`
	}
	return `json_extract(sb.attributes, '$.tz')`
}

// localDueTimes works out, for a campaign sent at a local time, when its
// rows become due: one time per zone its recipients name (attribute tz),
// and under "" the time in the publication's zone (UTC when it has none),
// for recipients without a zone or with one that is not a zone name.
func (s *Store) localDueTimes(ctx context.Context, c *model.Campaign, now time.Time) (map[string]time.Time, error) {
	hour, minute, err := model.ParseLocalTime(c.LocalTime)
	if err != nil {
		return nil, err
	}
	home := time.UTC
	name, err := s.TimeZone(ctx)
	if err != nil {
		return nil, err
	}
	if name != "" {
		if home, err = model.LoadZone(name); err != nil {
			return nil, fmt.Errorf("the time zone setting: %w", err)
		}
	}
	names, err := s.strings(ctx, `SELECT DISTINCT `+s.tzAttr()+` FROM deliveries d JOIN subscribers sb ON sb.id = d.subscriber_id
		WHERE d.campaign_id = $1 AND `+s.tzAttr()+` IS NOT NULL`, c.ID)
	if err != nil {
		return nil, fmt.Errorf("read recipients' time zones: %w", err)
	}
	due := map[string]time.Time{"": model.NextLocal(now, home, hour, minute)}
	for _, n := range names {
		if z, err := model.LoadZone(n); err == nil {
			due[n] = model.NextLocal(now, z, hour, minute)
		}
	}
	return due, nil
}

// scheduleLocal sets each pending row's due time from its subscriber's
// zone (see localDueTimes); rows already scheduled keep their time.
func (s *Store) scheduleLocal(ctx context.Context, tx *sql.Tx, id int64, due map[string]time.Time) error {
	for name, at := range due {
		if name == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET next_attempt_at = $1
			WHERE campaign_id = $2 AND status = 'pending' AND next_attempt_at IS NULL
			  AND subscriber_id IN (SELECT sb.id FROM subscribers sb WHERE `+s.tzAttr()+` = $3)`, at, id, name); err != nil {
			return fmt.Errorf("schedule recipients in %s: %w", name, err)
		}
	}
	if at, ok := due[""]; ok {
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET next_attempt_at = $1
			WHERE campaign_id = $2 AND status = 'pending' AND next_attempt_at IS NULL`, at, id); err != nil {
			return fmt.Errorf("schedule recipients: %w", err)
		}
	}
	return nil
}

// startABTest stores the test's frozen variants and splits the ledger: an
// equal share of the sample per variant, spread over the whole audience
// (by a hash of the row ID, not signup order), and the rest held until
// the winner is chosen.
func (s *Store) startABTest(ctx context.Context, tx *sql.Tx, c *model.Campaign, frozen model.Frozen, total int64) error {
	if len(frozen.Variants) != len(c.AB.Variants) {
		return fmt.Errorf("campaign %d: %d A/B variants frozen for %d subject lines", c.ID, len(frozen.Variants), len(c.AB.Variants))
	}
	k := int64(len(c.AB.Variants))
	share := max((total*int64(c.AB.SamplePercent)/100+k-1)/k, 1)
	for i, v := range frozen.Variants {
		if _, err := tx.ExecContext(ctx, `INSERT INTO campaign_variants (campaign_id, variant, subject, preheader, html, text)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (campaign_id, variant) DO UPDATE SET subject = excluded.subject, preheader = excluded.preheader,
			    html = excluded.html, text = excluded.text`, c.ID, i+1, v.Subject, v.Preheader, v.HTML, v.Text); err != nil {
			return fmt.Errorf("freeze A/B variant %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET variant = $1 WHERE id IN (
			SELECT id FROM deliveries WHERE campaign_id = $2 AND variant = 0 AND next_attempt_at IS NULL
			ORDER BY (id * 2654435761) % 1000003, id LIMIT $3)`, i+1, c.ID, share); err != nil {
			return fmt.Errorf("choose the A/B sample: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET next_attempt_at = $1 WHERE campaign_id = $2 AND variant = 0`, abHeld, c.ID); err != nil {
		return fmt.Errorf("hold the rest of the A/B audience: %w", err)
	}
	return nil
}

// ABTestsToDecide returns the campaigns whose A/B test has waited its time
// by now and has no winner yet.
func (s *Store) ABTestsToDecide(ctx context.Context, now time.Time) ([]int64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+campaignColumns+` FROM campaigns
		WHERE ab_test <> '' AND ab_winner = 0 AND status IN ('sending', 'paused') ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read A/B tests: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, fmt.Errorf("read A/B tests: %w", err)
		}
		if !c.StartedAt.Add(c.AB.Wait).After(now) {
			ids = append(ids, c.ID)
		}
	}
	return ids, rows.Err()
}

// VariantResult is one A/B variant's figures: its sample's rows and their
// unique opens and clicks.
type VariantResult struct {
	Variant    int
	Subject    string
	Preheader  string
	Recipients int64
	Sent       int64
	Opens      int64 // unique
	Clicks     int64 // unique
}

// ABResults returns a campaign's A/B figures per variant, and how many
// rows are held for (or, once decided, sent with) the winner.
func (s *Store) ABResults(ctx context.Context, id int64) ([]VariantResult, int64, error) {
	var out []VariantResult
	rows, err := s.r.QueryContext(ctx, `SELECT variant, subject, preheader FROM campaign_variants WHERE campaign_id = $1 ORDER BY variant`, id)
	if err != nil {
		return nil, 0, fmt.Errorf("A/B results of campaign %d: %w", id, err)
	}
	for rows.Next() {
		var v VariantResult
		if err := rows.Scan(&v.Variant, &v.Subject, &v.Preheader); err != nil {
			rows.Close()
			return nil, 0, err
		}
		out = append(out, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	var rest int64
	rows, err = s.r.QueryContext(ctx, `SELECT variant, CAST(SUM(n) AS BIGINT), CAST(SUM(sent) AS BIGINT) FROM (
			SELECT variant, COUNT(*) AS n, SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END) AS sent
			FROM deliveries WHERE campaign_id = $1 GROUP BY variant
			UNION ALL
			SELECT variant, SUM(total) AS n, SUM(CASE WHEN status = 'sent' THEN total ELSE 0 END) AS sent
			FROM ledger_counts WHERE campaign_id = $1 GROUP BY variant
		) t GROUP BY variant`, id)
	if err != nil {
		return nil, 0, fmt.Errorf("A/B results of campaign %d: %w", id, err)
	}
	for rows.Next() {
		var v int
		var n, sent int64
		if err := rows.Scan(&v, &n, &sent); err != nil {
			rows.Close()
			return nil, 0, err
		}
		if v == 0 {
			rest = n
		} else if v <= len(out) {
			out[v-1].Recipients, out[v-1].Sent = n, sent
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	for _, kind := range []model.EventKind{model.EventOpen, model.EventClick} {
		counts, err := s.uniqueByVariant(ctx, id, kind)
		if err != nil {
			return nil, 0, err
		}
		for i := range out {
			if kind == model.EventOpen {
				out[i].Opens = counts[out[i].Variant]
			} else {
				out[i].Clicks = counts[out[i].Variant]
			}
		}
	}
	return out, rest, nil
}

// uniqueByVariant counts the distinct subscribers of each A/B sample who
// caused a human event of kind: a scanner that clicks every link of one
// variant must not make it win. Anonymous events (no subscriber) count for
// no variant.
func (s *Store) uniqueByVariant(ctx context.Context, id int64, kind model.EventKind) (map[int]int64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT d.variant, COUNT(DISTINCT e.subscriber_id) FROM events e
		JOIN deliveries d ON d.campaign_id = e.campaign_id AND d.subscriber_id = e.subscriber_id
		WHERE e.campaign_id = $1 AND e.kind = $2 AND e.class = 'human' AND d.variant > 0 GROUP BY d.variant`, id, kind)
	if err != nil {
		return nil, fmt.Errorf("A/B %s counts of campaign %d: %w", kind, id, err)
	}
	defer rows.Close()
	out := map[int]int64{}
	for rows.Next() {
		var v int
		var n int64
		if err := rows.Scan(&v, &n); err != nil {
			return nil, err
		}
		out[v] = n
	}
	return out, rows.Err()
}

// DecideABTest chooses a campaign's A/B winner, if its wait is over and
// none was chosen: the variant with the most unique opens or clicks (the
// test's metric), the first on a tie. The held rows then become due at
// once. It is safe to call from several nodes and more than once: the
// first decision stands. It returns the winner (0 when none was chosen now).
func (s *Store) DecideABTest(ctx context.Context, id int64, now time.Time) (int, error) {
	c, err := s.Campaign(ctx, id)
	if err != nil {
		return 0, err
	}
	if c.AB == nil || c.ABWinner != 0 || c.StartedAt.IsZero() || c.StartedAt.Add(c.AB.Wait).After(now) {
		return 0, nil
	}
	metric := model.EventOpen
	if c.AB.Metric == model.ABClicks {
		metric = model.EventClick
	}
	counts, err := s.uniqueByVariant(ctx, id, metric)
	if err != nil {
		return 0, err
	}
	winner := 1
	for v := 2; v <= len(c.AB.Variants); v++ {
		if counts[v] > counts[winner] {
			winner = v
		}
	}
	decided := false
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE campaigns SET ab_winner = $1, ab_decided_at = $2, updated_at = $2
			WHERE id = $3 AND ab_winner = 0`, winner, now, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // another node decided first
		}
		decided = true
		_, err = tx.ExecContext(ctx, `UPDATE deliveries SET next_attempt_at = NULL
			WHERE campaign_id = $1 AND variant = 0 AND status = 'pending'`, id)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("decide the A/B test of campaign %d: %w", id, err)
	}
	if !decided {
		return 0, nil
	}
	return winner, s.NotifyCampaigns(ctx)
}

// HourCount is how many rows become due in one hour.
type HourCount struct {
	Hour time.Time // UTC, on the hour
	Rows int64
}

// WaitingByHour counts a campaign's pending rows that are not due yet
// (local-time delivery) by the UTC hour they become due. Rows held for an
// A/B winner are not among them.
func (s *Store) WaitingByHour(ctx context.Context, id int64) ([]HourCount, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT next_attempt_at, COUNT(*) FROM deliveries
		WHERE campaign_id = $1 AND status = 'pending' AND next_attempt_at > $2 AND next_attempt_at < $3
		GROUP BY next_attempt_at ORDER BY next_attempt_at`, id, s.now(), abHeld)
	if err != nil {
		return nil, fmt.Errorf("campaign %d waiting rows: %w", id, err)
	}
	defer rows.Close()
	var out []HourCount
	for rows.Next() {
		var at time.Time
		var n int64
		if err := rows.Scan(&at, &n); err != nil {
			return nil, fmt.Errorf("campaign %d waiting rows: %w", id, err)
		}
		h := at.UTC().Truncate(time.Hour)
		if len(out) > 0 && out[len(out)-1].Hour.Equal(h) {
			out[len(out)-1].Rows += n
		} else {
			out = append(out, HourCount{Hour: h, Rows: n})
		}
	}
	return out, rows.Err()
}

// strings runs a query that yields one text column.
func (s *Store) strings(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return scanStrings(rows)
}
