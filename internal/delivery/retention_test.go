package delivery_test

import (
	"context"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/delivery/deliverytest"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/retention"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestLeaderAppliesRetention: a running engine, as scheduler leader, folds
// old opens into counts on its own, beside sending, and stops cleanly.
func TestLeaderAppliesRetention(t *testing.T) {
	st := storetest.SQLite(t)
	ctx := context.Background()
	now := time.Now().UTC()
	var evs []model.Event
	for i := range 40 {
		evs = append(evs, model.Event{Kind: model.EventOpen, CampaignID: 3, SubscriberID: int64(i%8 + 1), At: now.AddDate(0, 0, -40)})
	}
	evs = append(evs, model.Event{Kind: model.EventClick, CampaignID: 3, SubscriberID: 1, URL: "https://a.example/", At: now})
	if err := st.RecordEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	_, m, _ := deliverytest.Relay(t, smtpsink.Options{})
	eng, err := delivery.New(st, delivery.Config{Sender: m, Signer: deliverytest.Signer(t), Poll: 20 * time.Millisecond,
		Retention: &retention.Policy{EventsDays: 30, Batch: 7}})
	if err != nil {
		t.Fatal(err)
	}
	stop := deliverytest.Run(t, eng)
	deadline := time.Now().Add(30 * time.Second)
	for {
		left, err := st.EventsToFold(ctx, now.AddDate(0, 0, -30))
		if err != nil {
			t.Fatal(err)
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d old events still raw after 30s", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	c, err := st.CampaignEventCounts(ctx, 3)
	if err != nil || c.Total[model.EventOpen] != 40 || c.Unique[model.EventOpen] != 8 || c.Total[model.EventClick] != 1 {
		t.Fatalf("counts after the leader's retention = %+v, %v", c, err)
	}
}
