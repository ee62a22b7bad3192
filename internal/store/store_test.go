package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// The conformance suite: every test here runs against SQLite and PostgreSQL.

func TestMigrateIsIdempotentAndRefusesNewerSchema(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		applied, err := s.Migrate(ctx)
		if err != nil || len(applied) != 0 {
			t.Fatalf("second Migrate applied %v, %v; want nothing", applied, err)
		}
		known, _ := s.SchemaVersion()
		if known < 1 {
			t.Fatalf("SchemaVersion = %d", known)
		}
		if err := s.ForceSchemaVersionForTest(ctx, known+1); err != nil {
			t.Fatal(err)
		}
		_, err = s.Migrate(ctx)
		if !errors.Is(err, store.ErrSchemaTooNew) {
			t.Fatalf("Migrate on a newer schema: %v, want ErrSchemaTooNew", err)
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("version %d", known+1)) {
			t.Errorf("error %q does not name the database's version", err)
		}
	})
}

func TestOpenRefusesNewerSchemaSQLite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	s, err := store.Open(ctx, store.Options{SQLitePath: path})
	if err != nil {
		t.Fatal(err)
	}
	known, _ := s.SchemaVersion()
	s.ForceSchemaVersionForTest(ctx, known+5)
	s.Close()
	if _, err := store.Open(ctx, store.Options{SQLitePath: path}); !errors.Is(err, store.ErrSchemaTooNew) {
		t.Fatalf("Open = %v, want ErrSchemaTooNew", err)
	}
}

func TestLists(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		l := &model.List{Slug: "daily", Name: "The Daily", OptIn: model.OptInDouble, Public: true}
		if err := s.CreateList(ctx, l); err != nil {
			t.Fatal(err)
		}
		if l.ID == 0 || l.CreatedAt.IsZero() {
			t.Fatalf("CreateList did not fill ID/times: %+v", l)
		}
		if err := s.CreateList(ctx, &model.List{Slug: "daily", Name: "Again"}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate slug: %v, want ErrConflict", err)
		}
		got, err := s.ListBySlug(ctx, "daily")
		if err != nil || got.Name != "The Daily" || got.OptIn != model.OptInDouble || !got.Public {
			t.Fatalf("ListBySlug = %+v, %v", got, err)
		}
		if _, err := s.ListBySlug(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing list: %v, want ErrNotFound", err)
		}
		got.Name, got.Public = "Renamed", false
		if err := s.UpdateList(ctx, got); err != nil {
			t.Fatal(err)
		}
		sub := &model.Subscriber{Email: "a@example.com"}
		s.UpsertSubscriber(ctx, sub)
		s.SetSubscription(ctx, sub.ID, l.ID, model.SubConfirmed, model.SourceAdmin)
		all, err := s.Lists(ctx)
		if err != nil || len(all) != 1 || all[0].Name != "Renamed" || all[0].Public || all[0].Confirmed != 1 {
			t.Fatalf("Lists = %+v, %v", all, err)
		}
		if err := s.DeleteList(ctx, l.ID); err != nil {
			t.Fatal(err)
		}
		if subs, _ := s.Subscriptions(ctx, sub.ID); len(subs) != 0 {
			t.Fatalf("subscriptions survived their list: %+v", subs)
		}
	})
}

func TestSubscribersAndSubscriptions(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		l := &model.List{Slug: "news", Name: "News"}
		s.CreateList(ctx, l)
		sub := &model.Subscriber{Email: "Reader@example.com", Name: "Reader", Attributes: map[string]any{"city": "Leeds", "n": 3.0}}
		created, err := s.UpsertSubscriber(ctx, sub)
		if err != nil || !created || sub.ID == 0 {
			t.Fatalf("UpsertSubscriber = %v, %v (%+v)", created, err, sub)
		}
		again := &model.Subscriber{Email: "Reader@example.com", Name: "R. Reader"}
		if created, err := s.UpsertSubscriber(ctx, again); err != nil || created || again.ID != sub.ID {
			t.Fatalf("second upsert = %v, %v, id %d want %d", created, err, again.ID, sub.ID)
		}
		got, err := s.SubscriberByEmail(ctx, "Reader@example.com")
		if err != nil || got.Name != "R. Reader" || got.Status != model.SubscriberActive {
			t.Fatalf("SubscriberByEmail = %+v, %v", got, err)
		}
		if _, err := s.SubscriberByEmail(ctx, "other@example.com"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing subscriber: %v", err)
		}
		for _, st := range []model.SubscriptionStatus{model.SubUnconfirmed, model.SubConfirmed, model.SubUnsubscribed} {
			if err := s.SetSubscription(ctx, sub.ID, l.ID, st, model.SourceForm); err != nil {
				t.Fatal(err)
			}
		}
		subs, err := s.Subscriptions(ctx, sub.ID)
		if err != nil || len(subs) != 1 || subs[0].Status != model.SubUnsubscribed || subs[0].ListSlug != "news" {
			t.Fatalf("Subscriptions = %+v, %v", subs, err)
		}
		hist, err := s.SubscriptionHistory(ctx, sub.ID)
		if err != nil || len(hist) != 3 || hist[0].Status != model.SubUnconfirmed || hist[2].Source != model.SourceForm {
			t.Fatalf("history = %+v, %v", hist, err)
		}
		if err := s.SetSubscriberStatus(ctx, sub.ID, model.SubscriberBlocklisted); err != nil {
			t.Fatal(err)
		}
		if n, _ := s.CountSubscribers(ctx, store.SubscriberFilter{}); n != 1 {
			t.Fatalf("count = %d", n)
		}
		if n, _ := s.CountSubscribers(ctx, store.SubscriberFilter{ListID: l.ID, Status: model.SubConfirmed}); n != 0 {
			t.Fatalf("confirmed count = %d", n)
		}
		if err := s.EraseSubscriber(ctx, "Reader@example.com"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SubscriberByID(ctx, sub.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("erased subscriber still readable: %v", err)
		}
		if hist, _ := s.SubscriptionHistory(ctx, sub.ID); len(hist) != 0 {
			t.Fatalf("history survived erasure: %+v", hist)
		}
		if err := s.EraseSubscriber(ctx, "Reader@example.com"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second erase: %v", err)
		}
	})
}

func TestSuppressions(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if err := s.Suppress(ctx, "b@example.com", model.SuppressHardBounce, "550 5.1.1"); err != nil {
			t.Fatal(err)
		}
		if err := s.Suppress(ctx, "b@example.com", model.SuppressComplaint, "later"); err != nil {
			t.Fatal(err)
		}
		sp, err := s.Suppression(ctx, "b@example.com")
		if err != nil || sp.Reason != model.SuppressHardBounce || sp.Detail != "550 5.1.1" {
			t.Fatalf("Suppression = %+v, %v (first reason must stand)", sp, err)
		}
		if err := s.Suppress(ctx, "c@example.com", "nonsense", ""); err == nil {
			t.Fatal("unknown reason accepted")
		}
		list, err := s.Suppressions(ctx, 0, 10)
		if err != nil || len(list) != 1 {
			t.Fatalf("Suppressions = %+v, %v", list, err)
		}
		if err := s.Unsuppress(ctx, "b@example.com"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Suppression(ctx, "b@example.com"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("after Unsuppress: %v", err)
		}
	})
}

// TestImportIntoAMissingListWritesNothing: an import into a list that does
// not exist is refused whole, and an import leaves the writer's foreign
// keys checked.
func TestImportIntoAMissingListWritesNothing(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		rows := []store.ImportRow{{Line: 2, Email: "one@example.com"}, {Line: 3, Email: "two@example.com"}}
		if _, err := s.ImportBatch(ctx, rows, store.ImportOptions{ListID: 9999, Status: model.SubConfirmed, Mode: store.ImportUpsert}); err == nil {
			t.Fatal("import into a list that does not exist accepted")
		}
		if _, err := s.SubscriberByEmail(ctx, "one@example.com"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a refused import left a subscriber: %v", err)
		}
		l := &model.List{Slug: "fk", Name: "Checked"}
		if err := s.CreateList(ctx, l); err != nil {
			t.Fatal(err)
		}
		if res, err := s.ImportBatch(ctx, rows, store.ImportOptions{ListID: l.ID, Status: model.SubConfirmed, Mode: store.ImportUpsert}); err != nil || res.Imported != 2 {
			t.Fatalf("import = %+v, %v", res, err)
		}
		if err := s.DeleteList(ctx, l.ID); err != nil {
			t.Fatal(err)
		}
		one, err := s.SubscriberByEmail(ctx, "one@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if subs, err := s.Subscriptions(ctx, one.ID); err != nil || len(subs) != 0 {
			t.Fatalf("subscriptions after their list was deleted = %+v, %v", subs, err)
		}
		if err := s.SetSubscription(ctx, one.ID, l.ID, model.SubConfirmed, model.SourceAPI); err == nil {
			t.Fatal("a subscription to a deleted list was written: the writer's foreign keys were left off")
		}
	})
}

func TestImportBatch(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		l := &model.List{Slug: "imp", Name: "Imported"}
		s.CreateList(ctx, l)
		var rows []store.ImportRow
		for i := 0; i < 1200; i++ { // more than one chunk
			rows = append(rows, store.ImportRow{Line: i + 2, Email: fmt.Sprintf("r%04d@example.com", i), Name: fmt.Sprintf("R %d", i)})
		}
		rows[0].Attributes = []byte(`{"plan":"free","city":"York"}`)
		opt := store.ImportOptions{ListID: l.ID, Status: model.SubUnconfirmed, Mode: store.ImportUpsert}
		res, err := s.ImportBatch(ctx, rows, opt)
		if err != nil || !reflect.DeepEqual(res, store.ImportResult{Imported: 1200}) {
			t.Fatalf("first import = %+v, %v", res, err)
		}
		// Someone unsubscribes; a later confirmed import must not resubscribe them.
		r1, _ := s.SubscriberByEmail(ctx, "r0001@example.com")
		s.SetSubscription(ctx, r1.ID, l.ID, model.SubUnsubscribed, model.SourceOneClick)

		again := []store.ImportRow{
			{Line: 2, Email: "r0000@example.com", Attributes: []byte(`{"plan":"paid"}`)},
			{Line: 3, Email: "r0001@example.com", Name: "Renamed"},
			{Line: 4, Email: "new@example.com"},
		}
		opt.Status = model.SubConfirmed
		res, err = s.ImportBatch(ctx, again, opt)
		if err != nil || !reflect.DeepEqual(res, store.ImportResult{Imported: 1, Updated: 2}) {
			t.Fatalf("upsert import = %+v, %v", res, err)
		}
		r0, _ := s.SubscriberByEmail(ctx, "r0000@example.com")
		if r0.Name != "R 0" || r0.Attributes["plan"] != "paid" || r0.Attributes["city"] != "York" {
			t.Fatalf("merge: %+v", r0)
		}
		// History: how the subscription began (first import, unconfirmed),
		// then the change (second import confirmed it).
		hist, err := s.SubscriptionHistory(ctx, r0.ID)
		if err != nil || len(hist) != 2 || hist[0].Status != model.SubUnconfirmed || hist[0].Source != model.SourceImport ||
			hist[1].Status != model.SubConfirmed || !hist[1].At.After(hist[0].At) {
			t.Fatalf("history of an imported then upgraded subscription = %+v, %v", hist, err)
		}
		subs, _ := s.Subscriptions(ctx, r0.ID)
		if subs[0].Status != model.SubConfirmed {
			t.Fatalf("unconfirmed not upgraded: %+v", subs)
		}
		subs, _ = s.Subscriptions(ctx, r1.ID)
		if subs[0].Status != model.SubUnsubscribed {
			t.Fatalf("import resubscribed someone who left: %+v", subs)
		}
		if r1, _ = s.SubscriberByEmail(ctx, "r0001@example.com"); r1.Name != "Renamed" {
			t.Fatalf("name not updated: %+v", r1)
		}

		opt.Mode = store.ImportSkipExisting
		res, err = s.ImportBatch(ctx, []store.ImportRow{{Line: 2, Email: "r0002@example.com", Name: "X"}, {Line: 3, Email: "fresh@example.com"}}, opt)
		if err != nil || !reflect.DeepEqual(res, store.ImportResult{Imported: 1, Skipped: 1}) {
			t.Fatalf("skip-existing import = %+v, %v", res, err)
		}
		if r2, _ := s.SubscriberByEmail(ctx, "r0002@example.com"); r2.Name != "R 2" {
			t.Fatalf("skip-existing changed a subscriber: %+v", r2)
		}

		var exported []store.ExportRow
		err = s.ExportSubscribers(ctx, store.ExportFilter{ListID: l.ID, Status: model.SubConfirmed}, func(r store.ExportRow) error {
			exported = append(exported, r)
			return nil
		})
		if err != nil || len(exported) != 3 || exported[0].Email != "fresh@example.com" {
			t.Fatalf("export = %d rows, %v", len(exported), err)
		}
		if n, _ := s.CountSubscribers(ctx, store.SubscriberFilter{ListID: l.ID}); n != 1202 {
			t.Fatalf("list count = %d", n)
		}
		if _, err := s.ImportBatch(ctx, rows[:1], store.ImportOptions{ListID: l.ID, Status: "unsubscribed", Mode: store.ImportUpsert}); err == nil {
			t.Fatal("import with status unsubscribed accepted")
		}
	})
}

func TestSettings(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if _, err := s.Setting(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing setting: %v", err)
		}
		v, err := s.SettingOrInit(ctx, "k", "first")
		if err != nil || v != "first" {
			t.Fatalf("SettingOrInit = %q, %v", v, err)
		}
		if v, _ := s.SettingOrInit(ctx, "k", "second"); v != "first" {
			t.Fatalf("SettingOrInit replaced the value: %q", v)
		}
		s.PutSetting(ctx, "k", "third")
		if v, _ := s.Setting(ctx, "k"); v != "third" {
			t.Fatalf("PutSetting: %q", v)
		}
	})
}

func TestOneSendingProcessPerSQLiteFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	a, err := store.Open(ctx, store.Options{SQLitePath: path})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := store.Open(ctx, store.Options{SQLitePath: path})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	release, err := a.LockSending()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.LockSending(); !errors.Is(err, store.ErrAnotherSender) {
		t.Fatalf("second sender: %v, want ErrAnotherSender", err)
	}
	release()
	again, err := b.LockSending()
	if err != nil {
		t.Fatalf("lock not free after release: %v", err)
	}
	again()
}
