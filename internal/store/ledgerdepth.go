package store

import (
	"context"
	"fmt"

	"github.com/herald-news/herald/internal/model"
)

// LedgerDepth is how many rows of one live campaign are in one state of
// the way out.
type LedgerDepth struct {
	CampaignID int64
	Pending    int64
	Sending    int64
	Deferred   int64
}

// LedgerDepths counts, for every campaign that is sending or paused, its
// rows still pending, being sent and deferred, in campaign order. It
// reads the ledger's claim index (campaign, status), one range per live
// campaign and state, so finished campaigns cost nothing: cheap enough for
// a metrics scrape.
func (s *Store) LedgerDepths(ctx context.Context) ([]LedgerDepth, error) {
	ids, err := s.ids(ctx, `SELECT id FROM campaigns WHERE status IN ('sending', 'paused') ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read live campaigns: %w", err)
	}
	out := make([]LedgerDepth, len(ids))
	at := make(map[int64]int, len(ids))
	for i, id := range ids {
		out[i].CampaignID, at[id] = id, i
	}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.r.QueryContext(ctx, `SELECT d.campaign_id, d.status, COUNT(*) FROM deliveries d
		JOIN campaigns c ON c.id = d.campaign_id AND c.status IN ('sending', 'paused')
		WHERE d.status IN ('pending', 'sending', 'deferred') GROUP BY d.campaign_id, d.status`)
	if err != nil {
		return nil, fmt.Errorf("count live ledger rows: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, n int64
		var st model.DeliveryStatus
		if err := rows.Scan(&id, &st, &n); err != nil {
			return nil, fmt.Errorf("count live ledger rows: %w", err)
		}
		i, ok := at[id]
		if !ok {
			continue // started since the first read: next scrape
		}
		switch st {
		case model.DeliveryPending:
			out[i].Pending = n
		case model.DeliverySending:
			out[i].Sending = n
		case model.DeliveryDeferred:
			out[i].Deferred = n
		}
	}
	return out, rows.Err()
}
