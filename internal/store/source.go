package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/model"
)

const sourceColumns = `id, name, url, own, publication, interval_seconds, etag, last_modified, status, last_error,
	polled_at, next_poll_at, created_at`

func scanSource(row interface{ Scan(...any) error }) (*model.Feed, error) {
	var src model.Feed
	var secs int64
	var polled sql.NullTime
	err := row.Scan(&src.ID, &src.Name, &src.URL, &src.Own, &src.Publication, &secs, &src.ETag, &src.LastModified,
		&src.Status, &src.LastError, &polled, &src.NextPollAt, &src.CreatedAt)
	src.Interval = time.Duration(secs) * time.Second
	src.IntervalMinutes = int(secs / 60)
	src.PolledAt = polled.Time
	return &src, err
}

// CreateSource stores a new feed source, due to be polled at once, and
// fills in its ID, status and times. A source with the same URL is
// ErrConflict.
func (s *Store) CreateSource(ctx context.Context, src *model.Feed) error {
	if src.Interval <= 0 {
		src.Interval = 15 * time.Minute
	}
	now := s.now()
	err := s.inAuditedTx(ctx, audit.SourceCreate, func(tx *sql.Tx) (string, audit.Changes, error) {
		err := tx.QueryRowContext(ctx, `INSERT INTO sources (name, url, own, publication, interval_seconds, next_poll_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`,
			src.Name, src.URL, src.Own, src.Publication, int64(src.Interval/time.Second), now).Scan(&src.ID)
		return audit.Object("source", src.ID), audit.Changes{}.Set("name", nil, src.Name).Set("url", nil, src.URL), err
	})
	if isUniqueViolation(err) {
		return fmt.Errorf("a source with the URL %s: %w", src.URL, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create source: %w", err)
	}
	src.Status, src.NextPollAt, src.CreatedAt = model.SourceNew, now, now
	src.IntervalMinutes = int(src.Interval / time.Minute)
	return nil
}

// Source returns one source.
func (s *Store) Source(ctx context.Context, id int64) (*model.Feed, error) {
	src, err := scanSource(s.r.QueryRowContext(ctx, `SELECT `+sourceColumns+` FROM sources WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("source %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read source %d: %w", id, err)
	}
	return src, nil
}

// Sources lists every source by name.
func (s *Store) Sources(ctx context.Context) ([]model.Feed, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+sourceColumns+` FROM sources ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("read sources: %w", err)
	}
	defer rows.Close()
	var out []model.Feed
	for rows.Next() {
		src, err := scanSource(rows)
		if err != nil {
			return nil, fmt.Errorf("read sources: %w", err)
		}
		out = append(out, *src)
	}
	return out, rows.Err()
}

// DeleteSource removes a source and its items.
func (s *Store) DeleteSource(ctx context.Context, id int64) error {
	return s.deleteAudited(ctx, audit.SourceDelete, "source", id, `DELETE FROM sources WHERE id = $1 RETURNING name`)
}

// PollSourceSoon makes a source due now, so the next poller round reads it.
func (s *Store) PollSourceSoon(ctx context.Context, id int64) error {
	res, err := s.w.ExecContext(ctx, `UPDATE sources SET next_poll_at = $1 WHERE id = $2`, s.now(), id)
	if err != nil {
		return fmt.Errorf("poll source %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("source %d: %w", id, ErrNotFound)
	}
	return nil
}

// ClaimSources leases up to limit due sources until now+lease, oldest due
// first: the claiming node polls them, and if it dies they fall due again
// when the lease ends. On PostgreSQL sources another node is claiming are
// skipped, so any node may poll and none polls a source twice.
func (s *Store) ClaimSources(ctx context.Context, limit int, lease time.Duration) ([]model.Feed, error) {
	now := s.now()
	lock := s.skipLocked()
	var out []model.Feed
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `
			UPDATE sources SET next_poll_at = $1
			WHERE id IN (SELECT id FROM sources WHERE next_poll_at <= $2 ORDER BY next_poll_at, id LIMIT $3`+lock+`)
			RETURNING `+sourceColumns, now.Add(lease), now, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			src, err := scanSource(rows)
			if err != nil {
				return err
			}
			out = append(out, *src)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claim sources: %w", err)
	}
	return out, nil
}

// Poll is the outcome of polling one source.
type Poll struct {
	SourceID int64
	// Problem, when set, is why the poll failed; the source keeps its items
	// and validators and is tried again after its interval.
	Problem string
	// NotModified: the server answered 304, nothing changed.
	NotModified bool
	// ETag and LastModified are the new response's validators.
	ETag, LastModified string
	Items              []model.FeedItem
}

// RecordPoll stores a poll's outcome in one transaction: new items (an item
// whose GUID the source already has is kept as first seen), the source's
// status and validators, and its next poll time. It returns how many items
// were new.
func (s *Store) RecordPoll(ctx context.Context, p Poll) (int, error) {
	now := s.now()
	added := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var secs int64
		if err := tx.QueryRowContext(ctx, `SELECT interval_seconds FROM sources WHERE id = $1`, p.SourceID).Scan(&secs); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("source %d: %w", p.SourceID, ErrNotFound)
			}
			return err
		}
		next := now.Add(time.Duration(secs) * time.Second)
		if p.Problem != "" {
			_, err := tx.ExecContext(ctx, `UPDATE sources SET status = 'error', last_error = $1, polled_at = $2, next_poll_at = $3 WHERE id = $4`,
				truncate(p.Problem, 500), now, next, p.SourceID)
			return err
		}
		for _, it := range p.Items {
			res, err := tx.ExecContext(ctx, `INSERT INTO source_items (source_id, guid, url, title, author, summary, image_url, published_at, fetched_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (source_id, guid) DO NOTHING`,
				p.SourceID, truncate(it.GUID, 1000), truncate(it.URL, 2000), truncate(it.Title, 500), truncate(it.Author, 200),
				truncate(it.Summary, 2000), truncate(it.ImageURL, 2000), nullTime(it.PublishedAt), now)
			if err != nil {
				return fmt.Errorf("store item %q: %w", it.GUID, err)
			}
			n, _ := res.RowsAffected()
			added += int(n)
		}
		q := `UPDATE sources SET status = 'ok', last_error = '', polled_at = $1, next_poll_at = $2, etag = $3, last_modified = $4 WHERE id = $5`
		args := []any{now, next, p.ETag, p.LastModified, p.SourceID}
		if p.NotModified {
			q = `UPDATE sources SET status = 'ok', last_error = '', polled_at = $1, next_poll_at = $2 WHERE id = $3`
			args = []any{now, next, p.SourceID}
		}
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("record poll of source %d: %w", p.SourceID, err)
	}
	return added, nil
}

const itemColumns = `i.id, i.source_id, i.guid, i.url, i.title, i.author, i.summary, i.image_url, i.published_at, i.fetched_at,
	s.name, s.publication, s.own`

func scanItem(row interface{ Scan(...any) error }) (model.FeedItem, error) {
	var it model.FeedItem
	var published sql.NullTime
	err := row.Scan(&it.ID, &it.SourceID, &it.GUID, &it.URL, &it.Title, &it.Author, &it.Summary, &it.ImageURL, &published,
		&it.FetchedAt, &it.SourceName, &it.Publication, &it.Own)
	it.PublishedAt = published.Time
	return it, err
}

// ItemFilter selects items for the desk.
type ItemFilter struct {
	SourceID int64 // 0: every source
	// Query holds words that must each appear in the title, author or
	// summary: the first maxSearchWords different ones, each cut to
	// maxSearchWord bytes (a pasted article is a search, not a 500).
	Query   string
	AfterID int64 // only items stored after this one
	Limit   int   // default 50, at most 500
	// Oldest lists oldest first (RSS-to-email); the desk lists newest first.
	Oldest bool
}

// Bounds of a desk search: how many words it tests and how long each is.
const (
	maxSearchWords = 8
	maxSearchWord  = 64
)

// searchWords are the words of a search, lower-cased, without repeats,
// within the bounds above.
func searchWords(q string) []string {
	var out []string
	for _, w := range strings.Fields(strings.ToLower(q)) {
		if len(w) > maxSearchWord {
			w = strings.ToValidUTF8(w[:maxSearchWord], "")
		}
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
		if len(out) == maxSearchWords {
			break
		}
	}
	return out
}

// SourceItems lists stored items with their source's name, publication
// and kind.
func (s *Store) SourceItems(ctx context.Context, f ItemFilter) ([]model.FeedItem, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	where := []string{`($1 = 0 OR i.source_id = $1)`, `i.id > $2`}
	args := []any{f.SourceID, f.AfterID}
	for _, w := range searchWords(f.Query) {
		args = append(args, "%"+escapeLike(w)+"%")
		n := len(args)
		where = append(where, fmt.Sprintf(`(LOWER(i.title) LIKE $%[1]d ESCAPE '\' OR LOWER(i.author) LIKE $%[1]d ESCAPE '\' OR LOWER(i.summary) LIKE $%[1]d ESCAPE '\')`, n))
	}
	order := "DESC"
	if f.Oldest {
		order = "ASC"
	}
	args = append(args, f.Limit)
	rows, err := s.r.QueryContext(ctx, `SELECT `+itemColumns+` FROM source_items i JOIN sources s ON s.id = i.source_id
		WHERE `+strings.Join(where, " AND ")+fmt.Sprintf(` ORDER BY i.id %s LIMIT $%d`, order, len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("read source items: %w", err)
	}
	defer rows.Close()
	var out []model.FeedItem
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, fmt.Errorf("read source items: %w", err)
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// SourceItem returns one stored item.
func (s *Store) SourceItem(ctx context.Context, id int64) (model.FeedItem, error) {
	it, err := scanItem(s.r.QueryRowContext(ctx, `SELECT `+itemColumns+` FROM source_items i JOIN sources s ON s.id = i.source_id WHERE i.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return it, fmt.Errorf("source item %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return it, fmt.Errorf("read source item %d: %w", id, err)
	}
	return it, nil
}

// escapeLike escapes LIKE's wildcards in a search word.
func escapeLike(w string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(w)
}
