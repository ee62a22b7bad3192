package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/validator"
)

const campaignColumns = `id, name, edition_id, status, from_addr, reply_to, relay, send_at, tracking, publish_on_start, total,
	created_at, updated_at, started_at, done_at, problem, local_time, ab_test, ab_winner, ab_decided_at`

func scanCampaign(row interface{ Scan(...any) error }) (*model.Campaign, error) {
	var c model.Campaign
	var sendAt, startedAt, doneAt, decidedAt sql.NullTime
	var ab string
	err := row.Scan(&c.ID, &c.Name, &c.EditionID, &c.Status, &c.From, &c.ReplyTo, &c.Relay, &sendAt, &c.Tracking, &c.PublishOnStart, &c.Total,
		&c.CreatedAt, &c.UpdatedAt, &startedAt, &doneAt, &c.Problem, &c.LocalTime, &ab, &c.ABWinner, &decidedAt)
	c.SendAt, c.StartedAt, c.DoneAt, c.ABDecidedAt = sendAt.Time, startedAt.Time, doneAt.Time, decidedAt.Time
	if err == nil && ab != "" {
		c.AB = new(model.ABTest)
		if jerr := json.Unmarshal([]byte(ab), c.AB); jerr != nil {
			err = fmt.Errorf("campaign %d A/B test: %w", c.ID, jerr)
		}
	}
	return &c, err
}

func nullTime(t time.Time) sql.NullTime { return sql.NullTime{Time: t, Valid: !t.IsZero()} }

// CreateCampaign stores a draft (or, with SendAt, scheduled) campaign and its
// lists, and fills in ID, status and times.
func (s *Store) CreateCampaign(ctx context.Context, c *model.Campaign) error {
	now := s.now()
	err := s.inAuditedTx(ctx, audit.CampaignCreate, func(tx *sql.Tx) (string, audit.Changes, error) {
		if err := createCampaignTx(ctx, tx, c, now); err != nil {
			return "", nil, err
		}
		return audit.Object("campaign", c.ID), campaignCreated(c), nil
	})
	if err != nil {
		return fmt.Errorf("create campaign: %w", err)
	}
	return nil
}

// campaignCreated is the audit record of a new campaign.
func campaignCreated(c *model.Campaign) audit.Changes {
	ch := audit.Changes{}.Set("name", nil, c.Name).Set("edition_id", nil, c.EditionID).Set("status", nil, c.Status).
		Set("list_ids", nil, c.ListIDs).Set("segment_ids", nil, c.SegmentIDs)
	if !c.SendAt.IsZero() {
		ch.Set("send_at", nil, c.SendAt.UTC())
	}
	return ch
}

// createCampaignTx is CreateCampaign in the caller's transaction.
func createCampaignTx(ctx context.Context, tx *sql.Tx, c *model.Campaign, now time.Time) error {
	if err := validator.Campaign(c); err != nil {
		return err
	}
	ab := ""
	if c.AB != nil {
		b, err := json.Marshal(c.AB)
		if err != nil {
			return err
		}
		ab = string(b)
	}
	c.Status = model.CampaignDraft
	if !c.SendAt.IsZero() {
		c.Status = model.CampaignScheduled
	}
	err := tx.QueryRowContext(ctx, `
		INSERT INTO campaigns (name, edition_id, status, from_addr, reply_to, relay, send_at, tracking, publish_on_start, created_at, updated_at,
		                       local_time, ab_test)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12) RETURNING id`,
		c.Name, c.EditionID, c.Status, c.From, c.ReplyTo, c.Relay, nullTime(c.SendAt), c.Tracking, c.PublishOnStart, now,
		c.LocalTime, ab).Scan(&c.ID)
	if err != nil {
		return err
	}
	for _, l := range c.ListIDs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO campaign_lists (campaign_id, list_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, c.ID, l); err != nil {
			return err
		}
	}
	for _, sg := range c.SegmentIDs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO campaign_segments (campaign_id, segment_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, c.ID, sg); err != nil {
			return err
		}
	}
	c.CreatedAt, c.UpdatedAt = now, now
	return nil
}

// Campaign returns a campaign with its list IDs.
func (s *Store) Campaign(ctx context.Context, id int64) (*model.Campaign, error) {
	c, err := scanCampaign(s.r.QueryRowContext(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("campaign %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read campaign %d: %w", id, err)
	}
	if c.ListIDs, err = s.ids(ctx, `SELECT list_id FROM campaign_lists WHERE campaign_id = $1 ORDER BY list_id`, id); err != nil {
		return nil, fmt.Errorf("read campaign lists: %w", err)
	}
	if c.SegmentIDs, err = s.ids(ctx, `SELECT segment_id FROM campaign_segments WHERE campaign_id = $1 ORDER BY segment_id`, id); err != nil {
		return nil, fmt.Errorf("read campaign segments: %w", err)
	}
	return c, nil
}

// EditionListID returns the first list of the newest campaign of edition
// id: the list whose brand its previews wear; 0 when no campaign carries it.
func (s *Store) EditionListID(ctx context.Context, id int64) (int64, error) {
	var list int64
	err := s.r.QueryRowContext(ctx, `SELECT cl.list_id FROM campaigns c JOIN campaign_lists cl ON cl.campaign_id = c.id
		WHERE c.edition_id = $1 ORDER BY c.id DESC, cl.list_id LIMIT 1`, id).Scan(&list)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("campaign list of edition %d: %w", id, err)
	}
	return list, nil
}

// Campaigns lists campaigns, newest first.
func (s *Store) Campaigns(ctx context.Context, limit int) ([]model.Campaign, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+campaignColumns+` FROM campaigns ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("read campaigns: %w", err)
	}
	defer rows.Close()
	var out []model.Campaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, fmt.Errorf("read campaigns: %w", err)
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

// CampaignsWithStatus returns the IDs of campaigns in the given status.
func (s *Store) CampaignsWithStatus(ctx context.Context, st model.CampaignStatus) ([]int64, error) {
	ids, err := s.ids(ctx, `SELECT id FROM campaigns WHERE status = $1 ORDER BY id`, st)
	if err != nil {
		return nil, fmt.Errorf("read campaigns: %w", err)
	}
	return ids, nil
}

// DueCampaigns returns scheduled campaigns whose send time has come.
func (s *Store) DueCampaigns(ctx context.Context, now time.Time) ([]int64, error) {
	ids, err := s.ids(ctx, `SELECT id FROM campaigns WHERE status = 'scheduled' AND send_at <= $1 ORDER BY send_at, id`, now)
	if err != nil {
		return nil, fmt.Errorf("read due campaigns: %w", err)
	}
	return ids, nil
}

// ids runs a query that yields one integer column.
func (s *Store) ids(ctx context.Context, q string, args ...any) ([]int64, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// ErrBadTransition is returned when a campaign cannot move to the asked
// status from the one it is in (resuming a sent campaign, say).
var ErrBadTransition = errors.New("campaign cannot change to that status now")

// allowedFrom lists the statuses a campaign may move to status to from.
// sending is reached only through StartCampaign or from paused.
func allowedFrom(to model.CampaignStatus) []model.CampaignStatus {
	switch to {
	case model.CampaignPaused:
		return []model.CampaignStatus{model.CampaignSending}
	case model.CampaignSending:
		return []model.CampaignStatus{model.CampaignPaused}
	case model.CampaignCancelled:
		return []model.CampaignStatus{model.CampaignDraft, model.CampaignScheduled, model.CampaignSending, model.CampaignPaused}
	}
	return nil
}

// SetCampaignStatus moves a campaign to status to, if its current status
// allows it; otherwise it returns ErrBadTransition naming both. A person's
// change (see package audit) is recorded as campaign.pause, .resume or
// .cancel.
func (s *Store) SetCampaignStatus(ctx context.Context, id int64, to model.CampaignStatus) error {
	from := allowedFrom(to)
	if len(from) == 0 {
		return fmt.Errorf("campaign %d: %w (%s is not set directly)", id, ErrBadTransition, to)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var cur model.CampaignStatus
		err := tx.QueryRowContext(ctx, `SELECT status FROM campaigns WHERE id = $1`, id).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("campaign %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("set campaign %d status: %w", id, err)
		}
		if !slices.Contains(from, cur) {
			return fmt.Errorf("campaign %d is %s: %w to %s", id, cur, ErrBadTransition, to)
		}
		// status = cur: a change made since the read above loses.
		res, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4`,
			to, s.now(), id, cur)
		if err != nil {
			return fmt.Errorf("set campaign %d status: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("campaign %d changed meanwhile: %w to %s", id, ErrBadTransition, to)
		}
		return s.audit(ctx, tx, statusAction(to), audit.Object("campaign", id), audit.Changes{}.Set("status", cur, to))
	})
	if err != nil {
		return err
	}
	return s.NotifyCampaigns(ctx)
}

// statusAction is the audit action of a move to status to.
func statusAction(to model.CampaignStatus) string {
	switch to {
	case model.CampaignPaused:
		return audit.CampaignPause
	case model.CampaignCancelled:
		return audit.CampaignCancel
	}
	return audit.CampaignResume
}

// ScheduleCampaign sets (or, with a zero time, clears) a draft or scheduled
// campaign's send time.
func (s *Store) ScheduleCampaign(ctx context.Context, id int64, at time.Time) error {
	status := model.CampaignScheduled
	if at.IsZero() {
		status = model.CampaignDraft
	}
	return s.inAuditedTx(ctx, audit.CampaignSchedule, func(tx *sql.Tx) (string, audit.Changes, error) {
		var oldStatus model.CampaignStatus
		var oldAt sql.NullTime
		err := tx.QueryRowContext(ctx, `SELECT status, send_at FROM campaigns WHERE id = $1`, id).Scan(&oldStatus, &oldAt)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return "", nil, fmt.Errorf("schedule campaign %d: %w", id, err)
		}
		res, err := tx.ExecContext(ctx, `UPDATE campaigns SET send_at = $1, status = $2, updated_at = $3
			WHERE id = $4 AND status IN ('draft', 'scheduled')`, nullTime(at), status, s.now(), id)
		if err != nil {
			return "", nil, fmt.Errorf("schedule campaign %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return "", nil, fmt.Errorf("campaign %d: %w (only drafts can be scheduled)", id, ErrBadTransition)
		}
		return audit.Object("campaign", id), audit.Changes{}.Set("status", oldStatus, status).
			Set("send_at", auditTime(oldAt.Time), auditTime(at)), nil
	})
}

// expandBatch is how many subscriber IDs one INSERT … SELECT of the ledger
// covers: the writer is held for a moment per batch, not for the whole list.
const expandBatch = 50000

// StartCampaign freezes the rendered edition, writes one delivery row per
// recipient and moves the campaign to sending. Recipients are the active,
// unsuppressed subscribers confirmed on one of the campaign's lists or in one
// of its segments (as the segments' queries select them now), each address
// once. A campaign with PublishOnStart publishes its edition in the
// transaction that moves it to sending (whichever node starts it), which
// also queues the campaign.started webhooks. It is safe to call again after
// a crash part-way: rows already written stay and are not duplicated. It
// returns the number of recipients.
func (s *Store) StartCampaign(ctx context.Context, id int64, frozen model.Frozen) (int64, error) {
	c, err := s.Campaign(ctx, id)
	if err != nil {
		return 0, err
	}
	if c.Status != model.CampaignDraft && c.Status != model.CampaignScheduled {
		return 0, fmt.Errorf("campaign %d is %s: %w to sending", id, c.Status, ErrBadTransition)
	}
	_, err = s.w.ExecContext(ctx, `
		INSERT INTO campaign_content (campaign_id, subject, prefix, html, text, links, transport) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (campaign_id) DO UPDATE
		SET subject = excluded.subject, prefix = excluded.prefix, html = excluded.html, text = excluded.text, links = excluded.links,
		    transport = excluded.transport`,
		id, frozen.Subject, frozen.Prefix, frozen.HTML, frozen.Text, strings.Join(frozen.Links, "\n"), frozen.Transport)
	if err != nil {
		return 0, fmt.Errorf("freeze campaign %d: %w", id, err)
	}
	now := s.now()
	audience, args, err := s.audienceOf(ctx, c, now)
	if err != nil {
		return 0, fmt.Errorf("start campaign %d: %w", id, err)
	}
	var maxID sql.NullInt64
	if err := s.r.QueryRowContext(ctx, `SELECT MAX(id) FROM subscribers`).Scan(&maxID); err != nil {
		return 0, fmt.Errorf("start campaign %d: %w", id, err)
	}
	expand := `
			INSERT INTO deliveries (campaign_id, subscriber_id, email, name, status)
			SELECT $1, sb.id, sb.email, sb.name, 'pending'
			FROM subscribers sb
			WHERE sb.id > $2 AND sb.id <= $3 AND ` + audience + `
			ORDER BY sb.id
			ON CONFLICT (campaign_id, email) DO NOTHING`
	for lo := int64(0); lo < maxID.Int64; lo += expandBatch {
		args[1], args[2] = lo, lo+expandBatch
		if _, err := s.w.ExecContext(ctx, expand, args...); err != nil {
			return 0, fmt.Errorf("write the ledger of campaign %d: %w", id, err)
		}
	}
	var zones map[string]time.Time
	if c.LocalTime != "" {
		if zones, err = s.localDueTimes(ctx, c, now); err != nil {
			return 0, fmt.Errorf("start campaign %d: %w", id, err)
		}
	}
	var total int64
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM deliveries WHERE campaign_id = $1`, id).Scan(&total); err != nil {
			return err
		}
		if err := s.scheduleLocal(ctx, tx, id, zones); err != nil {
			return err
		}
		if c.AB != nil {
			if err := s.startABTest(ctx, tx, c, frozen, total); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = 'sending', total = $1, started_at = $2, updated_at = $2
			WHERE id = $3 AND status IN ('draft', 'scheduled')`, total, now, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("campaign %d: %w to sending (it changed while starting)", id, ErrBadTransition)
		}
		if c.PublishOnStart {
			if err := publishEdition(ctx, tx, c.EditionID, now); err != nil {
				return err
			}
		}
		if err := s.audit(ctx, tx, audit.CampaignStart, audit.Object("campaign", id),
			audit.Changes{}.Set("status", c.Status, model.CampaignSending).Set("recipients", nil, total)); err != nil {
			return err
		}
		return queueWebhooksTx(ctx, tx, nil, model.EventCampaignStarted, now, func() (any, error) {
			return hookCampaignData{Campaign: hookCampaign{ID: id, Name: c.Name, Recipients: total, StartedAt: &now}}, nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("start campaign %d: %w", id, err)
	}
	return total, s.NotifyCampaigns(ctx)
}

// publishEdition publishes an edition as SetEditionStatus does: a first
// publication records its time, a later one keeps it.
func publishEdition(ctx context.Context, tx *sql.Tx, id int64, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE editions SET status = 'published', updated_at = $1,
			published_at = COALESCE(published_at, $1)
		WHERE id = $2 AND status <> 'published'`, now, id)
	if err != nil {
		return fmt.Errorf("publish edition %d: %w", id, err)
	}
	return nil
}

// FrozenContent returns what a campaign froze when it started.
func (s *Store) FrozenContent(ctx context.Context, id int64) (*model.Frozen, error) {
	var f model.Frozen
	var links string
	err := s.r.QueryRowContext(ctx, `SELECT subject, prefix, html, text, links, transport FROM campaign_content WHERE campaign_id = $1`, id).
		Scan(&f.Subject, &f.Prefix, &f.HTML, &f.Text, &links, &f.Transport)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("content of campaign %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read content of campaign %d: %w", id, err)
	}
	if links != "" {
		f.Links = strings.Split(links, "\n")
	}
	rows, err := s.r.QueryContext(ctx, `SELECT subject, preheader, html, text FROM campaign_variants WHERE campaign_id = $1 ORDER BY variant`, id)
	if err != nil {
		return nil, fmt.Errorf("read variants of campaign %d: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var v model.VariantCopy
		if err := rows.Scan(&v.Subject, &v.Preheader, &v.HTML, &v.Text); err != nil {
			return nil, fmt.Errorf("read variants of campaign %d: %w", id, err)
		}
		f.Variants = append(f.Variants, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read variants of campaign %d: %w", id, err)
	}
	return &f, nil
}

// SetCampaignProblem records why a campaign's mail is waiting, or clears it
// with "". It writes only when the text changes.
func (s *Store) SetCampaignProblem(ctx context.Context, id int64, problem string) error {
	_, err := s.w.ExecContext(ctx, `UPDATE campaigns SET problem = $1 WHERE id = $2 AND problem <> $1`, problem, id)
	if err != nil {
		return fmt.Errorf("campaign %d problem: %w", id, err)
	}
	return nil
}

// SettleCampaignTransport records transport as the campaign's transport
// unless one is recorded already, and returns the one recorded: the first
// engine to send a campaign fixes how all of its mail goes out.
func (s *Store) SettleCampaignTransport(ctx context.Context, id int64, transport string) (string, error) {
	if _, err := s.w.ExecContext(ctx, `UPDATE campaign_content SET transport = $1 WHERE campaign_id = $2 AND transport = ''`,
		transport, id); err != nil {
		return "", fmt.Errorf("campaign %d transport: %w", id, err)
	}
	var got string
	if err := s.r.QueryRowContext(ctx, `SELECT transport FROM campaign_content WHERE campaign_id = $1`, id).Scan(&got); err != nil {
		return "", fmt.Errorf("campaign %d transport: %w", id, err)
	}
	return got, nil
}
