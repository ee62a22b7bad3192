package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/validator"
)

// editionContent is the part of an edition kept as JSON in editions.content.
type editionContent struct {
	Preheader string          `json:"preheader,omitempty"`
	Language  string          `json:"language,omitempty"`
	Hero      *model.Image    `json:"hero,omitempty"`
	Sections  []model.Section `json:"sections"`
}

const editionColumns = `id, slug, date, slot, subject, status, public, revision, content, created_at, updated_at, published_at`

func scanEdition(row interface{ Scan(...any) error }) (*model.Edition, error) {
	var e model.Edition
	var content string
	var published sql.NullTime
	err := row.Scan(&e.ID, &e.Slug, &e.Date, &e.Slot, &e.Subject, &e.Status, &e.Public, &e.Revision, &content,
		&e.CreatedAt, &e.UpdatedAt, &published)
	if err != nil {
		return nil, err
	}
	var c editionContent
	if err := json.Unmarshal([]byte(content), &c); err != nil {
		return nil, fmt.Errorf("edition %d content: %w", e.ID, err)
	}
	e.Preheader, e.Language, e.Hero, e.Sections = c.Preheader, c.Language, c.Hero, c.Sections
	e.PublishedAt = published.Time
	return &e, nil
}

func marshalContent(e *model.Edition) (string, error) {
	b, err := json.Marshal(editionContent{Preheader: e.Preheader, Language: e.Language, Hero: e.Hero, Sections: e.Sections})
	if err != nil {
		return "", fmt.Errorf("encode edition %q: %w", e.Slug, err)
	}
	return string(b), nil
}

// addRevision records e as saved revision rev.
func (s *Store) addRevision(ctx context.Context, tx *sql.Tx, e *model.Edition, rev int, author string, at time.Time) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode edition %q: %w", e.Slug, err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO edition_revisions (edition_id, revision, edition, author, created_at) VALUES ($1, $2, $3, $4, $5)`,
		e.ID, rev, string(b), author, at)
	if err != nil {
		return fmt.Errorf("record revision %d of edition %d: %w", rev, e.ID, err)
	}
	return nil
}

// revisionGap is the span of editing one kept revision stands for: saves
// in quick succession (autosave every pause in typing) do not each stay
// in the history.
const revisionGap = 5 * time.Minute

// foldRevision drops the revision before rev (saved by author at now)
// when it was a passing state of one person's stretch of editing: saved
// by the same author, less than revisionGap after its own predecessor,
// and less than revisionGap before rev. The history keeps about one state
// per revisionGap of editing, the first, the latest, the last state before
// every pause (a save the next day keeps the evening's final text), and
// every state someone else's save replaced.
func foldRevision(ctx context.Context, tx *sql.Tx, id int64, rev int, author string, now time.Time) error {
	rows, err := tx.QueryContext(ctx, `SELECT revision, author, created_at FROM edition_revisions
		WHERE edition_id = $1 AND revision < $2 ORDER BY revision DESC LIMIT 2`, id, rev)
	if err != nil {
		return fmt.Errorf("read revisions of edition %d: %w", id, err)
	}
	var revs []int
	var at []time.Time
	var authors []string
	for rows.Next() {
		var r int
		var a string
		var t time.Time
		if err := rows.Scan(&r, &a, &t); err != nil {
			rows.Close()
			return fmt.Errorf("read revisions of edition %d: %w", id, err)
		}
		revs, authors, at = append(revs, r), append(authors, a), append(at, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read revisions of edition %d: %w", id, err)
	}
	if len(revs) < 2 || authors[0] != author || at[0].Sub(at[1]) >= revisionGap || now.Sub(at[0]) >= revisionGap {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM edition_revisions WHERE edition_id = $1 AND revision = $2`, id, revs[0]); err != nil {
		return fmt.Errorf("fold revision %d of edition %d: %w", revs[0], id, err)
	}
	return nil
}

// CreateEdition stores a new edition as a draft (unless e.Status says
// otherwise), fills in its ID and times, and records it as revision 1 by
// author (a user's address, or empty). An
// edition with the same slug is ErrConflict. The store does not validate
// editions: drafts may be incomplete (see package edition).
func (s *Store) CreateEdition(ctx context.Context, e *model.Edition, author string) error {
	return s.inAuditedTx(ctx, audit.EditionCreate, func(tx *sql.Tx) (string, audit.Changes, error) {
		if err := s.createEditionTx(ctx, tx, e, author, s.now()); err != nil {
			return "", nil, err
		}
		return audit.Object("edition", e.ID), audit.Changes{}.Set("slug", nil, e.Slug).Set("subject", nil, e.Subject).
			Set("status", nil, e.Status), nil
	})
}

// createEditionTx is CreateEdition in the caller's transaction.
func (s *Store) createEditionTx(ctx context.Context, tx *sql.Tx, e *model.Edition, author string, now time.Time) error {
	if e.Status == "" {
		e.Status = model.EditionDraft
	}
	if !e.Status.Valid() {
		return fmt.Errorf("edition %q: unknown status %q", e.Slug, e.Status)
	}
	content, err := marshalContent(e)
	if err != nil {
		return err
	}
	err = tx.QueryRowContext(ctx, `
		INSERT INTO editions (slug, date, slot, subject, status, public, content, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id`,
		e.Slug, e.Date, e.Slot, e.Subject, e.Status, e.Public, content, now).Scan(&e.ID)
	if isUniqueViolation(err) {
		return fmt.Errorf("edition %q: %w", e.Slug, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create edition %q: %w", e.Slug, err)
	}
	e.CreatedAt, e.UpdatedAt, e.Revision = now, now, 1
	return s.addRevision(ctx, tx, e, 1, author, now)
}

// UpdateEdition saves an edition's slug, date, slot, subject, visibility and
// content (not its status: see SetEditionStatus) and records the saved state
// as a new revision by author (a user's address, or empty); saves in quick
// succession fold into one (see revisionGap). An edition that carries a
// Revision (as read) and was saved by someone else since is not changed:
// the error is ErrStale.
func (s *Store) UpdateEdition(ctx context.Context, e *model.Edition, author string) error {
	return s.updateEdition(ctx, e, author, true)
}

// RestoreEdition saves e, an earlier revision brought back, like
// UpdateEdition but folding nothing: the state it replaces stays in the
// history however recent it is.
func (s *Store) RestoreEdition(ctx context.Context, e *model.Edition, author string) error {
	return s.updateEdition(ctx, e, author, false)
}

func (s *Store) updateEdition(ctx context.Context, e *model.Edition, author string, fold bool) error {
	content, err := marshalContent(e)
	if err != nil {
		return err
	}
	now := s.now()
	action := audit.EditionUpdate
	if !fold {
		action = audit.EditionRestore
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var old model.Edition
		var oldContent string
		if err := tx.QueryRowContext(ctx, `SELECT slug, date, slot, subject, public, content FROM editions WHERE id = $1`, e.ID).
			Scan(&old.Slug, &old.Date, &old.Slot, &old.Subject, &old.Public, &oldContent); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("update edition %d: %w", e.ID, err)
		}
		var rev int
		var published sql.NullTime
		err := tx.QueryRowContext(ctx, `
			UPDATE editions SET slug = $1, date = $2, slot = $3, subject = $4, public = $5, content = $6,
				revision = revision + 1, updated_at = $7
			WHERE id = $8 AND ($9 = 0 OR revision = $9) RETURNING revision, status, created_at, published_at`,
			e.Slug, e.Date, e.Slot, e.Subject, e.Public, content, now, e.ID, e.Revision).
			Scan(&rev, &e.Status, &e.CreatedAt, &published)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			var cur int
			if err := tx.QueryRowContext(ctx, `SELECT revision FROM editions WHERE id = $1`, e.ID).Scan(&cur); err == nil {
				return fmt.Errorf("edition %d is at revision %d, not %d: %w", e.ID, cur, e.Revision, ErrStale)
			}
			return fmt.Errorf("edition %d: %w", e.ID, ErrNotFound)
		case isUniqueViolation(err):
			return fmt.Errorf("edition %q: %w", e.Slug, ErrConflict)
		case err != nil:
			return fmt.Errorf("update edition %d: %w", e.ID, err)
		}
		e.UpdatedAt, e.PublishedAt, e.Revision = now, published.Time, rev
		if err := s.addRevision(ctx, tx, e, rev, author, now); err != nil {
			return err
		}
		// The content only says that it changed: the revisions keep it.
		ch := audit.Changes{}.Set("slug", old.Slug, e.Slug).Set("date", old.Date, e.Date).Set("slot", old.Slot, e.Slot).
			Set("subject", old.Subject, e.Subject).Set("public", old.Public, e.Public).Set("revision", nil, rev)
		if oldContent != content {
			ch["content"] = audit.Change{After: "changed"}
		}
		if err := s.audit(ctx, tx, action, audit.Object("edition", e.ID), ch); err != nil {
			return err
		}
		if !fold {
			return nil
		}
		return foldRevision(ctx, tx, e.ID, rev, author, now)
	})
}

// GetEdition returns the edition with the given ID.
func (s *Store) GetEdition(ctx context.Context, id int64) (*model.Edition, error) {
	e, err := scanEdition(s.r.QueryRowContext(ctx, `SELECT `+editionColumns+` FROM editions WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("edition %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read edition %d: %w", id, err)
	}
	return e, nil
}

// EditionBySlug returns the edition with the given slug.
func (s *Store) EditionBySlug(ctx context.Context, slug string) (*model.Edition, error) {
	e, err := scanEdition(s.r.QueryRowContext(ctx, `SELECT `+editionColumns+` FROM editions WHERE slug = $1`, slug))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("edition %q: %w", slug, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read edition %q: %w", slug, err)
	}
	return e, nil
}

// EditionFilter selects editions for ListEditions. The zero value lists the
// 50 newest editions of any status.
type EditionFilter struct {
	Status     model.EditionStatus // empty: any
	PublicOnly bool                // only public editions (the archive and feeds)
	Limit      int                 // default 50, at most 500
	Offset     int
	// ListID, when set, keeps the editions a campaign to that list
	// carried (a list's archive).
	ListID int64
}

// ListEditions returns editions newest first (by date, then ID).
func (s *Store) ListEditions(ctx context.Context, f EditionFilter) ([]*model.Edition, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+editionColumns+` FROM editions
		WHERE ($1 = '' OR status = $1) AND ($2 = FALSE OR public = TRUE)
		  AND ($5 = 0 OR id IN (SELECT c.edition_id FROM campaigns c JOIN campaign_lists cl ON cl.campaign_id = c.id WHERE cl.list_id = $5))
		ORDER BY date DESC, id DESC LIMIT $3 OFFSET $4`,
		string(f.Status), f.PublicOnly, f.Limit, f.Offset, f.ListID)
	if err != nil {
		return nil, fmt.Errorf("list editions: %w", err)
	}
	defer rows.Close()
	var out []*model.Edition
	for rows.Next() {
		e, err := scanEdition(rows)
		if err != nil {
			return nil, fmt.Errorf("list editions: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list editions: %w", err)
	}
	return out, nil
}

// EditionRevisions returns every saved state of an edition, newest first.
func (s *Store) EditionRevisions(ctx context.Context, id int64) ([]model.EditionRevision, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT revision, edition, author, created_at FROM edition_revisions
		WHERE edition_id = $1 ORDER BY revision DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("revisions of edition %d: %w", id, err)
	}
	defer rows.Close()
	var out []model.EditionRevision
	for rows.Next() {
		r := model.EditionRevision{EditionID: id}
		var doc string
		if err := rows.Scan(&r.Revision, &doc, &r.Author, &r.CreatedAt); err != nil {
			return nil, fmt.Errorf("revisions of edition %d: %w", id, err)
		}
		if err := json.Unmarshal([]byte(doc), &r.Edition); err != nil {
			return nil, fmt.Errorf("revision %d of edition %d: %w", r.Revision, id, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("revisions of edition %d: %w", id, err)
	}
	if len(out) == 0 {
		if _, err := s.GetEdition(ctx, id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// SetEditionStatus marks an edition draft or published. The first
// publication sets PublishedAt; going back to draft keeps it.
func (s *Store) SetEditionStatus(ctx context.Context, id int64, status model.EditionStatus) error {
	if !status.Valid() {
		return fmt.Errorf("edition %d: unknown status %q", id, status)
	}
	now := s.now()
	return s.inAuditedTx(ctx, audit.EditionStatus, func(tx *sql.Tx) (string, audit.Changes, error) {
		var old model.EditionStatus
		err := tx.QueryRowContext(ctx, `SELECT status FROM editions WHERE id = $1`, id).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil, fmt.Errorf("edition %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return "", nil, fmt.Errorf("set status of edition %d: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE editions SET status = $1, updated_at = $2,
				published_at = CASE WHEN $1 = 'published' AND published_at IS NULL THEN $2 ELSE published_at END
			WHERE id = $3`, string(status), now, id); err != nil {
			return "", nil, fmt.Errorf("set status of edition %d: %w", id, err)
		}
		if old == status {
			return "", nil, nil
		}
		return audit.Object("edition", id), audit.Changes{}.Set("status", old, status), nil
	})
}

// EditionsStamp changes whenever an edition is created, saved, published,
// unpublished or deleted: a cache of what is built from editions (the
// feeds) compares it to know it is stale, on any node.
func (s *Store) EditionsStamp(ctx context.Context) (string, error) {
	var n int64
	var last sql.NullString // SQLite's MAX of a timestamp is its text
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*), MAX(updated_at) FROM editions`).Scan(&n, &last); err != nil {
		return "", fmt.Errorf("read the editions' stamp: %w", err)
	}
	return fmt.Sprintf("%d/%s", n, last.String), nil
}

// GetPublication returns the publication's settings, with TimeZone read
// from the one time zone setting (see TimeZone); ErrNotFound until
// SavePublication has run once.
func (s *Store) GetPublication(ctx context.Context) (model.Publication, error) {
	var p model.Publication
	var doc, zone string
	err := s.r.QueryRowContext(ctx, `SELECT settings, COALESCE((SELECT value FROM settings WHERE key = $1), '')
		FROM publication WHERE id = 1`, NewsroomZoneSetting).Scan(&doc, &zone)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("publication settings: %w", ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("read publication settings: %w", err)
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return p, fmt.Errorf("decode publication settings: %w", err)
	}
	p.TimeZone = zone
	return p, nil
}

// SavePublication stores the publication's settings, replacing any before.
// Brand colours must pass validator.Colors (hex, and readable).
// A TimeZone, when set, is saved as the one time zone setting (the same
// PutSetting(NewsroomZoneSetting) saves); an empty one leaves that as it
// is.
func (s *Store) SavePublication(ctx context.Context, p model.Publication) error {
	if err := validator.Colors(p.Colors); err != nil {
		return err
	}
	zone := p.TimeZone
	p.TimeZone = ""
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode publication settings: %w", err)
	}
	now := s.now()
	err = s.inAuditedTx(ctx, audit.SettingsUpdate, func(tx *sql.Tx) (string, audit.Changes, error) {
		var old string
		if err := tx.QueryRowContext(ctx, `SELECT settings FROM publication WHERE id = 1`).Scan(&old); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return "", nil, err
		}
		oldZone, err := s.settingsTx(ctx, tx, []string{NewsroomZoneSetting})
		if err != nil {
			return "", nil, err
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO publication (id, settings, updated_at) VALUES (1, $1, $2)
			ON CONFLICT (id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`,
			string(b), now); err != nil {
			return "", nil, err
		}
		ch, err := jsonChanges(old, string(b))
		if err != nil {
			return "", nil, err
		}
		if zone != "" {
			if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)
				ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, NewsroomZoneSetting, zone, now); err != nil {
				return "", nil, err
			}
			for k, c := range audit.Diff(oldZone, map[string]string{NewsroomZoneSetting: zone}) {
				ch[k] = c
			}
		}
		if len(ch) == 0 {
			return "", nil, nil
		}
		return "settings/publication", ch, nil
	})
	if err != nil {
		return fmt.Errorf("save publication settings: %w", err)
	}
	return nil
}

// TimeZone returns the name of Herald's one time zone (Admin → Settings →
// Time zone, the setting NewsroomZoneSetting): series slots and the
// admin's times are in it, and local-time campaigns reach readers without
// a tz attribute at its hour. "" when it was never set (UTC).
func (s *Store) TimeZone(ctx context.Context) (string, error) {
	name, err := s.Setting(ctx, NewsroomZoneSetting)
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	return name, err
}
