package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// twoNodes opens two stores on one PostgreSQL schema, as two nodes would.
func twoNodes(t *testing.T) (*store.Store, *store.Store) {
	t.Helper()
	u := storetest.PostgresURL(t)
	var nodes [2]*store.Store
	for i := range nodes {
		s, err := store.Open(context.Background(), store.Options{DatabaseURL: u})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		nodes[i] = s
	}
	return nodes[0], nodes[1]
}

func TestOneSchedulerLeaderAtATime(t *testing.T) {
	a, b := twoNodes(t)
	ctx := context.Background()
	la, err := a.TryLead(ctx)
	if err != nil || la == nil {
		t.Fatalf("first node did not lead: %v", err)
	}
	if lb, err := b.TryLead(ctx); err != nil || lb != nil {
		t.Fatalf("second node led while the first holds the lock: %v", err)
	}
	if !la.Alive(ctx) {
		t.Fatal("leader's lock reported dead")
	}
	la.Release()
	lb, err := b.TryLead(ctx)
	if err != nil || lb == nil {
		t.Fatalf("lock did not pass on after release: %v", err)
	}
	lb.Release()
	// A leader whose process dies loses the lock with its connection.
	a.Close()
	if l, _ := b.TryLead(ctx); l == nil {
		t.Fatal("lock not free after the leader's store closed")
	} else {
		l.Release()
	}
}

func TestCampaignChangesReachOtherNodes(t *testing.T) {
	a, b := twoNodes(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	woken := make(chan struct{}, 10)
	go b.ListenCampaigns(ctx, func() { woken <- struct{}{} })
	select { // the first call says it is listening
	case <-woken:
	case <-time.After(10 * time.Second):
		t.Fatal("never started listening")
	}

	l := &model.List{Slug: "n", Name: "N"}
	a.CreateList(ctx, l)
	c := &model.Campaign{Name: "c", EditionID: 1, ListIDs: []int64{l.ID}, From: "a@example.com"}
	a.CreateCampaign(ctx, c)
	if _, err := a.StartCampaign(ctx, c.ID, model.Frozen{Subject: "s", HTML: []byte("h"), Text: []byte("t")}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-woken:
	case <-time.After(5 * time.Second):
		t.Fatal("the other node was not told of the start")
	}
	if err := a.SetCampaignStatus(ctx, c.ID, model.CampaignPaused); err != nil {
		t.Fatal(err)
	}
	select {
	case <-woken:
	case <-time.After(5 * time.Second):
		t.Fatal("the other node was not told of the pause")
	}
}

func TestClaimsNeverOverlapAcrossNodes(t *testing.T) {
	a, b := twoNodes(t)
	ctx := context.Background()
	l := &model.List{Slug: "n", Name: "N"}
	a.CreateList(ctx, l)
	rows := make([]store.ImportRow, 2000)
	for i := range rows {
		rows[i] = store.ImportRow{Line: i + 2, Email: "r" + time.Duration(i).String() + "@example.com"}
	}
	a.ImportBatch(ctx, rows, store.ImportOptions{ListID: l.ID, Status: model.SubConfirmed, Mode: store.ImportUpsert})
	c := &model.Campaign{Name: "c", EditionID: 1, ListIDs: []int64{l.ID}, From: "a@example.com"}
	a.CreateCampaign(ctx, c)
	a.StartCampaign(ctx, c.ID, model.Frozen{Subject: "s", HTML: []byte("h"), Text: []byte("t")})

	// The claimers report to this goroutine only, which alone may fail
	// the test (a claimer calling t.Error after a Fatalf would panic).
	seen := make(chan []model.Delivery, 100)
	errs := make(chan error, 2)
	claim := func(s *store.Store) {
		for {
			ds, err := s.ClaimDeliveries(ctx, c.ID, 37, time.Minute)
			if err != nil {
				errs <- err
			}
			if len(ds) == 0 {
				seen <- nil
				return
			}
			seen <- ds
		}
	}
	go claim(a)
	go claim(b)
	got := map[int64]bool{}
	for done := 0; done < 2; {
		ds := <-seen
		if ds == nil {
			done++
			continue
		}
		for _, d := range ds {
			if got[d.ID] {
				t.Fatalf("row %d claimed twice", d.ID)
			}
			got[d.ID] = true
		}
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(got) != 2000 {
		t.Fatalf("claimed %d rows, want 2000", len(got))
	}
}
