package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/model"
)

const seriesColumns = `id, name, weekdays, slot_time, slot, list_ids, from_addr, template, automatic, source_id,
	remind_before, remind_to, item_cursor, active, created_at, problem`

func scanSeries(row interface{ Scan(...any) error }) (*model.Series, error) {
	var sr model.Series
	var days, lists, tmpl string
	var source sql.NullInt64
	var remind int64
	err := row.Scan(&sr.ID, &sr.Name, &days, &sr.SlotTime, &sr.Slot, &lists, &sr.From, &tmpl, &sr.Automatic, &source,
		&remind, &sr.RemindTo, &sr.ItemCursor, &sr.Active, &sr.CreatedAt, &sr.Problem)
	if err != nil {
		return nil, err
	}
	sr.SourceID, sr.RemindBefore = source.Int64, time.Duration(remind)*time.Minute
	for _, d := range strings.Split(days, ",") {
		if n, err := strconv.Atoi(d); err == nil {
			sr.Weekdays = append(sr.Weekdays, time.Weekday(n))
		}
	}
	if err := json.Unmarshal([]byte(lists), &sr.ListIDs); err != nil {
		return nil, fmt.Errorf("series %d lists: %w", sr.ID, err)
	}
	if err := json.Unmarshal([]byte(tmpl), &sr.Template); err != nil {
		return nil, fmt.Errorf("series %d template: %w", sr.ID, err)
	}
	return &sr, nil
}

// seriesArgs encodes the stored fields of sr, in the order of the INSERT
// and UPDATE below.
func seriesArgs(sr *model.Series) ([]any, error) {
	days := make([]string, len(sr.Weekdays))
	for i, d := range sr.Weekdays {
		days[i] = strconv.Itoa(int(d))
	}
	lists, err := json.Marshal(sr.ListIDs)
	if err != nil {
		return nil, err
	}
	tmpl, err := json.Marshal(sr.Template)
	if err != nil {
		return nil, err
	}
	source := sql.NullInt64{Int64: sr.SourceID, Valid: sr.SourceID != 0}
	return []any{sr.Name, strings.Join(days, ","), sr.SlotTime, string(sr.Slot), string(lists), sr.From, string(tmpl),
		sr.Automatic, source, int64(sr.RemindBefore / time.Minute), sr.RemindTo, sr.Active}, nil
}

// CreateSeries stores a new series and fills in its ID. A series with the
// same name is ErrConflict.
func (s *Store) CreateSeries(ctx context.Context, sr *model.Series) error {
	args, err := seriesArgs(sr)
	if err != nil {
		return fmt.Errorf("encode series %q: %w", sr.Name, err)
	}
	now := s.now()
	err = s.inAuditedTx(ctx, audit.SeriesCreate, func(tx *sql.Tx) (string, audit.Changes, error) {
		err := tx.QueryRowContext(ctx, `INSERT INTO series (name, weekdays, slot_time, slot, list_ids, from_addr, template, automatic,
			source_id, remind_before, remind_to, active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
			append(args, now)...).Scan(&sr.ID)
		return audit.Object("series", sr.ID), seriesChanges(&model.Series{}, sr).Created(), err
	})
	if isUniqueViolation(err) {
		return fmt.Errorf("a series named %q: %w", sr.Name, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create series %q: %w", sr.Name, err)
	}
	sr.CreatedAt = now
	return nil
}

// UpdateSeries saves a series' settings (not its item cursor).
func (s *Store) UpdateSeries(ctx context.Context, sr *model.Series) error {
	args, err := seriesArgs(sr)
	if err != nil {
		return fmt.Errorf("encode series %q: %w", sr.Name, err)
	}
	err = s.inAuditedTx(ctx, audit.SeriesUpdate, func(tx *sql.Tx) (string, audit.Changes, error) {
		old, err := scanSeries(tx.QueryRowContext(ctx, `SELECT `+seriesColumns+` FROM series WHERE id = $1`, sr.ID))
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil, fmt.Errorf("series %d: %w", sr.ID, ErrNotFound)
		}
		if err != nil {
			return "", nil, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE series SET name = $1, weekdays = $2, slot_time = $3, slot = $4, list_ids = $5,
			from_addr = $6, template = $7, automatic = $8, source_id = $9, remind_before = $10, remind_to = $11, active = $12
			WHERE id = $13`, append(args, sr.ID)...); err != nil {
			return "", nil, err
		}
		ch := seriesChanges(old, sr)
		if len(ch) == 0 {
			return "", nil, nil
		}
		return audit.Object("series", sr.ID), ch, nil
	})
	if isUniqueViolation(err) {
		return fmt.Errorf("a series named %q: %w", sr.Name, ErrConflict)
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("save series %q: %w", sr.Name, err)
	}
	return err
}

// seriesChanges is the audit record of a series going from old to sr (its
// template only says that it changed).
func seriesChanges(old, sr *model.Series) audit.Changes {
	ch := audit.Changes{}.Set("name", old.Name, sr.Name).Set("weekdays", old.Weekdays, sr.Weekdays).Set("slot_time", old.SlotTime, sr.SlotTime).
		Set("list_ids", old.ListIDs, sr.ListIDs).Set("from", old.From, sr.From).Set("automatic", old.Automatic, sr.Automatic).
		Set("source_id", old.SourceID, sr.SourceID).Set("remind_to", old.RemindTo, sr.RemindTo).Set("active", old.Active, sr.Active)
	if !reflect.DeepEqual(old.Template, sr.Template) {
		ch["template"] = audit.Change{After: "changed"}
	}
	return ch
}

// Series returns one series.
func (s *Store) Series(ctx context.Context, id int64) (*model.Series, error) {
	sr, err := scanSeries(s.r.QueryRowContext(ctx, `SELECT `+seriesColumns+` FROM series WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("series %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read series %d: %w", id, err)
	}
	return sr, nil
}

// SetSeriesProblem records why a series' slot sent nothing ("" clears it).
func (s *Store) SetSeriesProblem(ctx context.Context, id int64, problem string) error {
	if _, err := s.w.ExecContext(ctx, `UPDATE series SET problem = $1 WHERE id = $2`, problem, id); err != nil {
		return fmt.Errorf("record series %d's problem: %w", id, err)
	}
	return nil
}

// AllSeries lists every series by name.
func (s *Store) AllSeries(ctx context.Context) ([]model.Series, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+seriesColumns+` FROM series ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("read series: %w", err)
	}
	defer rows.Close()
	var out []model.Series
	for rows.Next() {
		sr, err := scanSeries(rows)
		if err != nil {
			return nil, fmt.Errorf("read series: %w", err)
		}
		out = append(out, *sr)
	}
	return out, rows.Err()
}

// DeleteSeries removes a series and the record of its days (not their
// editions or campaigns).
func (s *Store) DeleteSeries(ctx context.Context, id int64) error {
	return s.deleteAudited(ctx, audit.SeriesDelete, "series", id, `DELETE FROM series WHERE id = $1 RETURNING name`)
}

// ClaimSeries leases the active series no other node holds until
// now+lease: the caller runs their schedules, then releases them with
// ReleaseSeries. A node that dies holding a lease loses it when it ends.
func (s *Store) ClaimSeries(ctx context.Context, lease time.Duration) ([]model.Series, error) {
	now := s.now()
	lock := s.skipLocked()
	var out []model.Series
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `
			UPDATE series SET lease_until = $1
			WHERE id IN (SELECT id FROM series WHERE active = TRUE AND (lease_until IS NULL OR lease_until <= $2)`+lock+`)
			RETURNING `+seriesColumns, now.Add(lease), now)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			sr, err := scanSeries(rows)
			if err != nil {
				return err
			}
			out = append(out, *sr)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claim series: %w", err)
	}
	return out, nil
}

// ReleaseSeries gives up a lease taken by ClaimSeries.
func (s *Store) ReleaseSeries(ctx context.Context, id int64) error {
	if _, err := s.w.ExecContext(ctx, `UPDATE series SET lease_until = NULL WHERE id = $1`, id); err != nil {
		return fmt.Errorf("release series %d: %w", id, err)
	}
	return nil
}

const runColumns = `id, series_id, date, slot_at, edition_id, status, reminded_at, campaign_id, created_at`

func scanRun(row interface{ Scan(...any) error }) (*model.SeriesRun, error) {
	var r model.SeriesRun
	var edition, campaign sql.NullInt64
	var reminded sql.NullTime
	err := row.Scan(&r.ID, &r.SeriesID, &r.Date, &r.SlotAt, &edition, &r.Status, &reminded, &campaign, &r.CreatedAt)
	r.EditionID, r.CampaignID, r.RemindedAt = edition.Int64, campaign.Int64, reminded.Time
	return &r, err
}

// SeriesRun returns a series' run for a date (YYYY-MM-DD).
func (s *Store) SeriesRun(ctx context.Context, seriesID int64, date string) (*model.SeriesRun, error) {
	r, err := scanRun(s.r.QueryRowContext(ctx, `SELECT `+runColumns+` FROM series_runs WHERE series_id = $1 AND date = $2`, seriesID, date))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("series %d on %s: %w", seriesID, date, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read series %d on %s: %w", seriesID, date, err)
	}
	return r, nil
}

// RunOfEdition returns the series run whose draft is an edition.
func (s *Store) RunOfEdition(ctx context.Context, editionID int64) (*model.SeriesRun, error) {
	r, err := scanRun(s.r.QueryRowContext(ctx, `SELECT `+runColumns+` FROM series_runs WHERE edition_id = $1`, editionID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("series run of edition %d: %w", editionID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read series run of edition %d: %w", editionID, err)
	}
	return r, nil
}

// SeriesRuns lists a series' runs, newest first.
func (s *Store) SeriesRuns(ctx context.Context, seriesID int64, limit int) ([]model.SeriesRun, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+runColumns+` FROM series_runs WHERE series_id = $1 ORDER BY date DESC LIMIT $2`, seriesID, limit)
	if err != nil {
		return nil, fmt.Errorf("read runs of series %d: %w", seriesID, err)
	}
	defer rows.Close()
	var out []model.SeriesRun
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("read runs of series %d: %w", seriesID, err)
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// CreateDraftRun creates a day's draft edition and its run in one
// transaction. A run already recorded for that series and date is
// ErrConflict, and nothing is created.
func (s *Store) CreateDraftRun(ctx context.Context, r *model.SeriesRun, e *model.Edition) error {
	now := s.now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.createEditionTx(ctx, tx, e, "", now); err != nil {
			return err
		}
		r.EditionID, r.Status = e.ID, model.RunDraft
		return insertRun(ctx, tx, r, now)
	})
	if err != nil {
		return fmt.Errorf("create the draft of series %d for %s: %w", r.SeriesID, r.Date, err)
	}
	return nil
}

func insertRun(ctx context.Context, tx *sql.Tx, r *model.SeriesRun, now time.Time) error {
	err := tx.QueryRowContext(ctx, `INSERT INTO series_runs (series_id, date, slot_at, edition_id, status, campaign_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, r.SeriesID, r.Date, r.SlotAt,
		sql.NullInt64{Int64: r.EditionID, Valid: r.EditionID != 0}, r.Status,
		sql.NullInt64{Int64: r.CampaignID, Valid: r.CampaignID != 0}, now).Scan(&r.ID)
	if isUniqueViolation(err) {
		return ErrConflict
	}
	if err != nil {
		return err
	}
	r.CreatedAt = now
	return nil
}

// MarkRunReady marks a draft run ready to go at its slot (ready true) or
// back to draft (false). A run already sent is ErrBadTransition.
func (s *Store) MarkRunReady(ctx context.Context, runID int64, ready bool) error {
	from, to := model.RunDraft, model.RunReady
	if !ready {
		from, to = to, from
	}
	return s.inAuditedTx(ctx, audit.SeriesReady, func(tx *sql.Tx) (string, audit.Changes, error) {
		res, err := tx.ExecContext(ctx, `UPDATE series_runs SET status = $1 WHERE id = $2 AND status IN ($1, $3)`, to, runID, from)
		if err != nil {
			return "", nil, fmt.Errorf("mark series run %d %s: %w", runID, to, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return "", nil, fmt.Errorf("series run %d is no longer a draft: %w", runID, ErrBadTransition)
		}
		return audit.Object("series_run", runID), audit.Changes{}.Set("status", from, to), nil
	})
}

// MarkRunReminded records that a run's reminder went out.
func (s *Store) MarkRunReminded(ctx context.Context, runID int64) error {
	if _, err := s.w.ExecContext(ctx, `UPDATE series_runs SET reminded_at = $1 WHERE id = $2`, s.now(), runID); err != nil {
		return fmt.Errorf("record the reminder of series run %d: %w", runID, err)
	}
	return nil
}

// SendRun creates the campaign c (scheduled at c.SendAt, so the delivery
// engine's leader starts it) for a ready run and marks the run sent, in
// one transaction: a run is sent once. A run not ready is ErrBadTransition.
func (s *Store) SendRun(ctx context.Context, runID int64, c *model.Campaign) error {
	now := s.now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE series_runs SET status = 'sent' WHERE id = $1 AND status = 'ready'`, runID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("series run %d is not ready: %w", runID, ErrBadTransition)
		}
		if err := createCampaignTx(ctx, tx, c, now); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE series_runs SET campaign_id = $1 WHERE id = $2`, c.ID, runID)
		return err
	})
	if err != nil {
		return fmt.Errorf("send series run %d: %w", runID, err)
	}
	return s.NotifyCampaigns(ctx)
}

// SendAutomaticRun records an automatic series' day in one transaction:
// with an edition e, it stores e (published), schedules the campaign c for
// it, records the run as sent and moves the series' item cursor to cursor;
// with e nil, the run is recorded empty (nothing new, nothing sent) and
// the cursor moves past any items that were skipped as too old. A
// run already recorded for the day is ErrConflict.
func (s *Store) SendAutomaticRun(ctx context.Context, r *model.SeriesRun, e *model.Edition, c *model.Campaign, cursor int64) error {
	now := s.now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if e == nil {
			r.Status = model.RunEmpty
			if err := insertRun(ctx, tx, r, now); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `UPDATE series SET item_cursor = CASE WHEN $1 > item_cursor THEN $1 ELSE item_cursor END WHERE id = $2`, cursor, r.SeriesID)
			return err
		}
		if err := s.createEditionTx(ctx, tx, e, "", now); err != nil {
			return err
		}
		c.EditionID = e.ID
		if err := createCampaignTx(ctx, tx, c, now); err != nil {
			return err
		}
		r.EditionID, r.CampaignID, r.Status = e.ID, c.ID, model.RunSent
		if err := insertRun(ctx, tx, r, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE series SET item_cursor = $1, problem = '' WHERE id = $2`, cursor, r.SeriesID)
		return err
	})
	if err != nil {
		return fmt.Errorf("record series %d on %s: %w", r.SeriesID, r.Date, err)
	}
	if e == nil {
		return nil
	}
	return s.NotifyCampaigns(ctx)
}
