package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestImportProvesItsReferences: on SQLite an import writes on a
// connection that does not check foreign keys, because ImportBatch proves
// them itself; a first import, a re-import that merges, a re-import that
// skips, with consent dates and an erased address, onto two lists, leave
// no reference dangling, and every subscription an import creates begins
// when its subscriber did (the row's date, or the import's time).
func TestImportProvesItsReferences(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := audience(t, s, "pa", 0)
		b := audience(t, s, "pb", 0)
		may := time.Date(2021, 5, 4, 9, 30, 0, 0, time.UTC)
		// An erased address: imported once, then erased at its owner's request.
		if _, err := s.ImportBatch(ctx, []store.ImportRow{{Line: 2, Email: "gone@example.com"}},
			store.ImportOptions{ListID: b.ID, Status: model.SubConfirmed, Mode: store.ImportUpsert}); err != nil {
			t.Fatal(err)
		}
		if err := s.EraseSubscriber(ctx, "gone@example.com"); err != nil {
			t.Fatal(err)
		}
		row := func(i int) store.ImportRow {
			r := store.ImportRow{Line: i + 2, Email: fmt.Sprintf("p%05d@example.com", i), Name: fmt.Sprintf("P %d", i)}
			if i%2 == 0 {
				r.Start = may.Add(time.Duration(i) * time.Minute)
			}
			return r
		}
		var first []store.ImportRow
		for i := range 1200 { // two full chunks and a short one
			first = append(first, row(i))
		}
		opt := store.ImportOptions{ListID: a.ID, Status: model.SubUnconfirmed, Mode: store.ImportUpsert}
		if res, err := s.ImportBatch(ctx, first, opt); err != nil || !reflect.DeepEqual(res, store.ImportResult{Imported: 1200}) {
			t.Fatalf("first import = %+v, %v", res, err)
		}
		// Again, confirmed: 600 known, 500 new, and the erased one.
		var mixed []store.ImportRow
		for i := 600; i < 1700; i++ {
			mixed = append(mixed, row(i))
		}
		mixed = append(mixed, store.ImportRow{Line: 5000, Email: "gone@example.com"})
		opt.Status = model.SubConfirmed
		res, err := s.ImportBatch(ctx, mixed, opt)
		if err != nil || !reflect.DeepEqual(res, store.ImportResult{Imported: 500, Updated: 600, Erased: []int{5000}}) {
			t.Fatalf("merging import = %+v, %v", res, err)
		}
		// Onto the second list, skipping the known: 300 known, 300 new.
		var skip []store.ImportRow
		for i := 1400; i < 2000; i++ {
			skip = append(skip, row(i))
		}
		opt = store.ImportOptions{ListID: b.ID, Status: model.SubConfirmed, Mode: store.ImportSkipExisting}
		if res, err := s.ImportBatch(ctx, skip, opt); err != nil || !reflect.DeepEqual(res, store.ImportResult{Imported: 300, Skipped: 300}) {
			t.Fatalf("skipping import = %+v, %v", res, err)
		}

		if n, err := s.DanglingReferencesForTest(ctx); err != nil || n != 0 {
			t.Fatalf("%d dangling references after the imports (%v)", n, err)
		}
		for _, l := range []struct {
			list     *model.List
			from, to int // the rows each list got a subscription for
		}{{a, 0, 1700}, {b, 1700, 2000}} {
			starts, err := s.SubscriptionStartsForTest(ctx, l.list.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(starts) != l.to-l.from {
				t.Errorf("list %s has %d subscriptions, want %d", l.list.Slug, len(starts), l.to-l.from)
			}
			for i := l.from; i < l.to; i++ {
				r := row(i)
				st, ok := starts[r.Email]
				switch {
				case !ok:
					t.Errorf("%s is not on list %s", r.Email, l.list.Slug)
				case !st[0].Equal(st[1]):
					t.Errorf("%s: subscriber created %v, subscription to %s began %v", r.Email, st[0], l.list.Slug, st[1])
				case !r.Start.IsZero() && !st[1].Equal(r.Start):
					t.Errorf("%s: subscription began %v, want the file's %v", r.Email, st[1], r.Start)
				}
			}
		}
		if sub, err := s.SubscriberByEmail(ctx, "p00600@example.com"); err != nil {
			t.Fatal(err)
		} else if subs, err := s.Subscriptions(ctx, sub.ID); err != nil || len(subs) != 1 || subs[0].Status != model.SubConfirmed {
			t.Errorf("a merged subscriber's subscriptions = %+v, %v; want confirmed on pa", subs, err)
		}
		if _, err := s.SubscriberByEmail(ctx, "gone@example.com"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("an erased address came back: %v", err)
		}
	})
}

// TestImportIntoADeletedList: a list deleted between two batches of an
// import refuses the second batch whole (SQLite's import connection checks
// the list itself, once a batch).
func TestImportIntoADeletedList(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		l := audience(t, s, "del", 0)
		batch := func(from int) []store.ImportRow {
			var rows []store.ImportRow
			for i := from; i < from+700; i++ {
				rows = append(rows, store.ImportRow{Line: i + 2, Email: fmt.Sprintf("d%04d@example.com", i)})
			}
			return rows
		}
		opt := store.ImportOptions{ListID: l.ID, Status: model.SubConfirmed, Mode: store.ImportUpsert}
		if _, err := s.ImportBatch(ctx, batch(0), opt); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteList(ctx, l.ID); err != nil {
			t.Fatal(err)
		}
		_, err := s.ImportBatch(ctx, batch(700), opt)
		if err == nil {
			t.Fatal("a batch into a deleted list was written")
		}
		if s.Kind() == "sqlite" && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a batch into a deleted list: %v, want ErrNotFound", err)
		}
		if _, err := s.SubscriberByEmail(ctx, "d0700@example.com"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a refused batch left a subscriber: %v", err)
		}
		if n, err := s.DanglingReferencesForTest(ctx); err != nil || n != 0 {
			t.Fatalf("%d dangling references (%v)", n, err)
		}
	})
}

// TestImportWhileOthersWrite: other writes go on while an import runs, and
// wait for its batches rather than fail (on SQLite the import connection
// holds the writer's while it writes, so there is still one writer).
func TestImportWhileOthersWrite(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		l := audience(t, s, "busy", 0)
		known := audience(t, s, "known", 1)
		first, err := s.SubscriberByEmail(ctx, "known00000@example.com")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		wg.Go(func() {
			for b := range 10 {
				var rows []store.ImportRow
				for i := range 600 {
					rows = append(rows, store.ImportRow{Line: i + 2, Email: fmt.Sprintf("w%02d-%03d@example.com", b, i)})
				}
				if _, err := s.ImportBatch(ctx, rows, store.ImportOptions{ListID: l.ID, Status: model.SubConfirmed, Mode: store.ImportUpsert}); err != nil {
					errs <- fmt.Errorf("import: %w", err)
					return
				}
			}
		})
		wg.Go(func() {
			for i := range 100 {
				st := model.SubConfirmed
				if i%2 == 0 {
					st = model.SubUnsubscribed
				}
				if err := s.SetSubscription(ctx, first.ID, known.ID, st, model.SourceAPI); err != nil {
					errs <- fmt.Errorf("write beside the import: %w", err)
					return
				}
			}
		})
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if n, err := s.CountSubscribers(ctx, store.SubscriberFilter{ListID: l.ID}); err != nil || n != 6000 {
			t.Errorf("list count = %d, %v; want 6000", n, err)
		}
		if n, err := s.DanglingReferencesForTest(ctx); err != nil || n != 0 {
			t.Fatalf("%d dangling references (%v)", n, err)
		}
	})
}
