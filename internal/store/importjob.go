package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/model"
)

// Import job states.
const (
	ImportRunning = "running"
	ImportDone    = "done"
	ImportFailed  = "failed"
)

// ImportCounts is how far an import got.
type ImportCounts struct {
	Read     int64 // bytes of the file read
	Rows     int   // data rows read
	Imported int   // new subscribers
	Updated  int
	Skipped  int
	// Suppressed counts the rows that marked people who left, put on the
	// suppression list.
	Suppressed int
	Rejected   int
}

// ImportJob is a CSV import started from the admin. Upload is the path of
// the node-local copy of the file while the import may still need it.
type ImportJob struct {
	ID         int64
	File       string
	ListID     int64
	ListName   string
	Mode       ImportMode
	SubStatus  model.SubscriptionStatus // status given to subscriptions; "" keeps the file's or the default
	Upload     string
	Size       int64
	State      string
	Counts     ImportCounts
	Message    string // what went wrong, or a note such as a resumption
	RejectsCut bool   // the rejects kept were cut at the size limit
	Started    time.Time
	Heartbeat  time.Time // the running node's last word
	Finished   time.Time
}

const importJobColumns = `id, file_name, list_id, list_name, mode, sub_status, upload, size, state,
	read_bytes, rows_read, imported, updated, skipped, suppressed, rejected, message, rejects_cut, started_at, heartbeat_at, finished_at`

func scanImportJob(row interface{ Scan(...any) error }) (*ImportJob, error) {
	var j ImportJob
	var finished sql.NullTime
	c := &j.Counts
	err := row.Scan(&j.ID, &j.File, &j.ListID, &j.ListName, &j.Mode, &j.SubStatus, &j.Upload, &j.Size, &j.State,
		&c.Read, &c.Rows, &c.Imported, &c.Updated, &c.Skipped, &c.Suppressed, &c.Rejected, &j.Message, &j.RejectsCut, &j.Started, &j.Heartbeat, &finished)
	j.Finished = finished.Time
	return &j, err
}

// CreateImportJob records a new running import and sets its ID.
func (s *Store) CreateImportJob(ctx context.Context, j *ImportJob) error {
	now := s.now()
	err := s.inAuditedTx(ctx, audit.ImportStart, func(tx *sql.Tx) (string, audit.Changes, error) {
		err := tx.QueryRowContext(ctx, `INSERT INTO import_jobs (file_name, list_id, list_name, mode, sub_status, upload, size, state, started_at, heartbeat_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, 'running', $8, $8) RETURNING id`,
			j.File, j.ListID, j.ListName, j.Mode, j.SubStatus, j.Upload, j.Size, now).Scan(&j.ID)
		return audit.Object("import", j.ID), audit.Changes{}.Set("file", nil, j.File).Set("list_id", nil, j.ListID).
			Set("mode", nil, j.Mode).Set("status", nil, j.SubStatus), err
	})
	if err != nil {
		return fmt.Errorf("record import of %q: %w", j.File, err)
	}
	j.State, j.Started, j.Heartbeat = ImportRunning, now, now
	return nil
}

// SaveImportProgress records a running import's counts and that its node
// is alive.
func (s *Store) SaveImportProgress(ctx context.Context, id int64, c ImportCounts) error {
	_, err := s.w.ExecContext(ctx, `UPDATE import_jobs SET read_bytes = $1, rows_read = $2, imported = $3, updated = $4,
		skipped = $5, suppressed = $6, rejected = $7, heartbeat_at = $8 WHERE id = $9 AND state = 'running'`,
		c.Read, c.Rows, c.Imported, c.Updated, c.Skipped, c.Suppressed, c.Rejected, s.now(), id)
	if err != nil {
		return fmt.Errorf("record import %d progress: %w", id, err)
	}
	return nil
}

// FinishImportJob records the end of an import (ImportDone or
// ImportFailed) with its final counts and rejected rows, and forgets its
// upload.
func (s *Store) FinishImportJob(ctx context.Context, id int64, state string, c ImportCounts, message string, rejects []byte, cut bool) error {
	if state != ImportDone && state != ImportFailed {
		return fmt.Errorf("finish import %d: unknown state %q", id, state)
	}
	if rejects == nil {
		rejects = []byte{} // the column holds "none" as empty, never NULL
	}
	now := s.now()
	_, err := s.w.ExecContext(ctx, `UPDATE import_jobs SET state = $1, read_bytes = $2, rows_read = $3, imported = $4, updated = $5,
		skipped = $6, suppressed = $7, rejected = $8, message = $9, rejects = $10, rejects_cut = $11, upload = '',
		heartbeat_at = $12, finished_at = $12
		WHERE id = $13`,
		state, c.Read, c.Rows, c.Imported, c.Updated, c.Skipped, c.Suppressed, c.Rejected, message, rejects, cut, now, id)
	if err != nil {
		return fmt.Errorf("record the end of import %d: %w", id, err)
	}
	return nil
}

// TakeOverImport restarts a running import whose node has been silent
// since before staleBefore: its counts start again from zero with the
// given note. It reports false when the import is not stale (its node is
// alive, or another node took it over first).
func (s *Store) TakeOverImport(ctx context.Context, id int64, staleBefore time.Time, note string) (bool, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE import_jobs SET heartbeat_at = $1, read_bytes = 0, rows_read = 0, imported = 0,
		updated = 0, skipped = 0, suppressed = 0, rejected = 0, message = $2
		WHERE id = $3 AND state = 'running' AND heartbeat_at < $4`, s.now(), note, id, staleBefore)
	if err != nil {
		return false, fmt.Errorf("take over import %d: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// GetImportJob returns one import, without its rejected rows.
func (s *Store) GetImportJob(ctx context.Context, id int64) (*ImportJob, error) {
	j, err := scanImportJob(s.r.QueryRowContext(ctx, `SELECT `+importJobColumns+` FROM import_jobs WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("import %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read import %d: %w", id, err)
	}
	return j, nil
}

// ImportJobs lists imports, newest first; with runningOnly, only those
// still running.
func (s *Store) ImportJobs(ctx context.Context, limit int, runningOnly bool) ([]*ImportJob, error) {
	where := ""
	if runningOnly {
		where = ` WHERE state = 'running'`
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+importJobColumns+` FROM import_jobs`+where+` ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list imports: %w", err)
	}
	defer rows.Close()
	var out []*ImportJob
	for rows.Next() {
		j, err := scanImportJob(rows)
		if err != nil {
			return nil, fmt.Errorf("list imports: %w", err)
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// ImportRejects returns an import's rejected rows as CSV.
func (s *Store) ImportRejects(ctx context.Context, id int64) ([]byte, error) {
	var b []byte
	err := s.r.QueryRowContext(ctx, `SELECT rejects FROM import_jobs WHERE id = $1`, id).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("import %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read import %d rejects: %w", id, err)
	}
	return b, nil
}
