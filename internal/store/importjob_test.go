package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestImportJobs: an import's record follows it from start to end, a node
// that is alive keeps its import, a silent one loses it to a take-over
// (counts from zero), and the rejected rows come back as written.
func TestImportJobs(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		l := &model.List{Slug: "daily", Name: "Daily"}
		if err := s.CreateList(ctx, l); err != nil {
			t.Fatal(err)
		}
		j := &store.ImportJob{File: "readers.csv", ListID: l.ID, ListName: l.Name, Mode: store.ImportUpsert,
			SubStatus: model.SubConfirmed, Upload: "/data/tmp/herald-import-1.csv", Size: 1000}
		if err := s.CreateImportJob(ctx, j); err != nil || j.ID == 0 || j.State != store.ImportRunning {
			t.Fatalf("create = %+v, %v", j, err)
		}
		if err := s.SaveImportProgress(ctx, j.ID, store.ImportCounts{Read: 500, Imported: 40, Rejected: 2}); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetImportJob(ctx, j.ID)
		if err != nil || got.Counts.Read != 500 || got.Counts.Imported != 40 || got.SubStatus != model.SubConfirmed || got.Upload != j.Upload {
			t.Fatalf("after progress = %+v, %v", got, err)
		}
		// Alive (heard of just now): no take-over.
		if ok, err := s.TakeOverImport(ctx, j.ID, time.Now().Add(-time.Minute), "again"); err != nil || ok {
			t.Fatalf("take over a live import = %v, %v", ok, err)
		}
		// Silent since before the threshold: taken over, once.
		if ok, err := s.TakeOverImport(ctx, j.ID, time.Now().Add(time.Minute), "again"); err != nil || !ok {
			t.Fatalf("take over a silent import = %v, %v", ok, err)
		}
		if ok, _ := s.TakeOverImport(ctx, j.ID, time.Now().Add(-time.Minute), "twice"); ok {
			t.Fatal("an import was taken over twice")
		}
		got, _ = s.GetImportJob(ctx, j.ID)
		if got.Counts != (store.ImportCounts{}) || got.Message != "again" {
			t.Fatalf("after take-over = %+v", got)
		}
		running, err := s.ImportJobs(ctx, 10, true)
		if err != nil || len(running) != 1 {
			t.Fatalf("running = %d, %v", len(running), err)
		}

		rejects := []byte("line,reason,email\n3,not an address,nobody\n")
		final := store.ImportCounts{Read: 1000, Rows: 99, Imported: 90, Updated: 8, Rejected: 1}
		if err := s.FinishImportJob(ctx, j.ID, store.ImportDone, final, "", rejects, false); err != nil {
			t.Fatal(err)
		}
		got, _ = s.GetImportJob(ctx, j.ID)
		if got.State != store.ImportDone || got.Counts != final || got.Upload != "" || got.Finished.IsZero() {
			t.Fatalf("finished = %+v", got)
		}
		if b, err := s.ImportRejects(ctx, j.ID); err != nil || string(b) != string(rejects) {
			t.Fatalf("rejects = %q, %v", b, err)
		}
		if running, _ := s.ImportJobs(ctx, 10, true); len(running) != 0 {
			t.Fatalf("%d still running", len(running))
		}
		if all, _ := s.ImportJobs(ctx, 10, false); len(all) != 1 {
			t.Fatalf("%d imports listed", len(all))
		}
		if err := s.FinishImportJob(ctx, j.ID, "paused", final, "", nil, false); err == nil {
			t.Fatal("an unknown state was accepted")
		}
		if _, err := s.GetImportJob(ctx, 9999); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing import = %v", err)
		}
	})
}
