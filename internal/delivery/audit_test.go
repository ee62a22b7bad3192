package delivery_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/settings"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestAuditRetentionAppliedByTheLeader: the scheduler leader deletes
// audit rows older than the retention setting (30 days here) and keeps
// the rest.
func TestAuditRetentionAppliedByTheLeader(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := audit.WithActor(context.Background(), audit.Actor{Name: "cli:ops", Via: audit.ViaCLI})
		start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		clock := &fakeClock{now: start.Add(-40 * 24 * time.Hour)}
		s.SetClockForTest(clock.Now)
		for i := range 3 {
			if err := s.PutSetting(ctx, "sunset_months", fmt.Sprint(i+1)); err != nil {
				t.Fatal(err)
			}
		}
		clock.Add(30 * 24 * time.Hour) // ten days ago
		if err := s.PutSetting(ctx, settings.KeyAuditRetention, "30"); err != nil {
			t.Fatal(err)
		}
		clock.Add(10 * 24 * time.Hour)
		newFixture(t, s, 1, smtpsink.Faults{}, func(c *delivery.Config) { c.Now = clock.Now })
		deadline := time.Now().Add(30 * time.Second)
		for {
			es, err := s.AuditEntries(ctx, audit.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(es) == 1 {
				if es[0].Changes[settings.KeyAuditRetention].After != "30" {
					t.Fatalf("the row kept is %+v", es[0])
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d audit rows left, want the one newer than 30 days", len(es))
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
