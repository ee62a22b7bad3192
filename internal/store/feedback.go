package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/herald-news/herald/internal/model"
)

// SaveFeedback stores a reader's answer (checked by package feedback),
// replacing their earlier answer of the same kind about the same campaign
// and section.
func (s *Store) SaveFeedback(ctx context.Context, f model.Feedback) error {
	now := s.now().UTC()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE feedback SET rating = $1, reason = $2, comment = $3, updated_at = $4
			WHERE kind = $5 AND campaign_id = $6 AND subscriber_id = $7 AND section = $8`,
			f.Rating, f.Reason, f.Comment, now, f.Kind, f.CampaignID, f.SubscriberID, f.Section)
		if err != nil {
			return fmt.Errorf("save feedback: %w", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO feedback (kind, campaign_id, subscriber_id, section, rating, reason, comment, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`,
			f.Kind, nullID(f.CampaignID), nullID(f.SubscriberID), f.Section, f.Rating, f.Reason, f.Comment, now)
		if err != nil {
			return fmt.Errorf("save feedback: %w", err)
		}
		return nil
	})
}

// FeedbackSummary is what readers said about one campaign.
type FeedbackSummary struct {
	// Ratings counts the whole-briefing ratings by rating (1 to 3).
	Ratings   map[int]int64
	Responses int64
	Average   float64 // of the ratings, 0 without any
	// Sections counts section ratings by section, then rating.
	Sections map[string]map[int]int64
	Comments []FeedbackComment // newest first
	Leaving  map[string]int64  // reasons for leaving given after this campaign's link
}

// FeedbackComment is one comment with who wrote it.
type FeedbackComment struct {
	At      time.Time
	Email   string // "" once the subscriber is erased
	Kind    model.FeedbackKind
	Rating  int
	Reason  string
	Comment string
}

// CampaignFeedback sums up a campaign's feedback, with its newest comments
// (at most limit).
func (s *Store) CampaignFeedback(ctx context.Context, campaignID int64, limit int) (FeedbackSummary, error) {
	fs := FeedbackSummary{Ratings: map[int]int64{}, Sections: map[string]map[int]int64{}, Leaving: map[string]int64{}}
	rows, err := s.r.QueryContext(ctx, `SELECT kind, section, rating, reason, COUNT(*) FROM feedback WHERE campaign_id = $1
		GROUP BY kind, section, rating, reason`, campaignID)
	if err != nil {
		return fs, fmt.Errorf("read feedback: %w", err)
	}
	var sum int64
	for rows.Next() {
		var kind model.FeedbackKind
		var section, reason string
		var rating int
		var n int64
		if err := rows.Scan(&kind, &section, &rating, &reason, &n); err != nil {
			rows.Close()
			return fs, err
		}
		switch kind {
		case model.FeedbackBriefing:
			fs.Ratings[rating] += n
			fs.Responses += n
			sum += int64(rating) * n
		case model.FeedbackSection:
			if fs.Sections[section] == nil {
				fs.Sections[section] = map[int]int64{}
			}
			fs.Sections[section][rating] += n
		case model.FeedbackLeaving:
			fs.Leaving[reason] += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fs, err
	}
	if fs.Responses > 0 {
		fs.Average = float64(sum) / float64(fs.Responses)
	}
	err = s.FeedbackRows(ctx, campaignID, func(c FeedbackComment) error {
		if c.Comment != "" && len(fs.Comments) < limit {
			fs.Comments = append(fs.Comments, c)
		}
		return nil
	})
	return fs, err
}

// FeedbackRows streams a campaign's feedback, newest first.
func (s *Store) FeedbackRows(ctx context.Context, campaignID int64, fn func(FeedbackComment) error) error {
	rows, err := s.r.QueryContext(ctx, `SELECT f.updated_at, COALESCE(sb.email, ''), f.kind, f.section, f.rating, f.reason, f.comment
		FROM feedback f LEFT JOIN subscribers sb ON sb.id = f.subscriber_id
		WHERE f.campaign_id = $1 ORDER BY f.updated_at DESC, f.id DESC`, campaignID)
	if err != nil {
		return fmt.Errorf("read feedback: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c FeedbackComment
		var section string
		if err := rows.Scan(&c.At, &c.Email, &c.Kind, &section, &c.Rating, &c.Reason, &c.Comment); err != nil {
			return err
		}
		if section != "" {
			c.Reason = section // a section's rating names its section
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return rows.Err()
}

// CampaignRating is one campaign's whole-briefing ratings, for the
// dashboard.
type CampaignRating struct {
	CampaignID int64
	Name       string
	StartedAt  time.Time
	Responses  int64
	Average    float64
}

// FeedbackOverTime returns the ratings of the latest campaigns that have
// any, oldest first.
func (s *Store) FeedbackOverTime(ctx context.Context, limit int) ([]CampaignRating, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT c.id, c.name, c.started_at, COUNT(*), AVG(CAST(f.rating AS DOUBLE PRECISION))
		FROM feedback f JOIN campaigns c ON c.id = f.campaign_id
		WHERE f.kind = 'briefing' AND c.started_at IS NOT NULL
		GROUP BY c.id, c.name, c.started_at ORDER BY c.started_at DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("read feedback over time: %w", err)
	}
	defer rows.Close()
	var out []CampaignRating
	for rows.Next() {
		var r CampaignRating
		if err := rows.Scan(&r.CampaignID, &r.Name, &r.StartedAt, &r.Responses, &r.Average); err != nil {
			return nil, err
		}
		out = append([]CampaignRating{r}, out...)
	}
	return out, rows.Err()
}
