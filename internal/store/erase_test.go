package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestErasureKeepsOnlyAHash erases subscribers and checks that nothing
// keeps their address in the clear, that mail not yet sent to them stays
// unsent, and that no import, signup or API create brings them back.
func TestErasureKeepsOnlyAHash(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		weekly := &model.List{Slug: "weekly", Name: "Weekly", OptIn: model.OptInDouble, Public: true}
		if err := s.CreateList(ctx, weekly); err != nil {
			t.Fatal(err)
		}
		a := audience(t, s, "e", 0)
		rows := []store.ImportRow{{Line: 2, Email: "Ada@example.com"}, {Line: 3, Email: "bo@example.com"}, {Line: 4, Email: "cy@example.com"}}
		if _, err := s.ImportBatch(ctx, rows, store.ImportOptions{ListID: a.ID, Status: model.SubConfirmed, Mode: store.ImportUpsert}); err != nil {
			t.Fatal(err)
		}
		c := &model.Campaign{Name: "c", EditionID: 1, ListIDs: []int64{a.ID}, From: "news@example.com"}
		s.CreateCampaign(ctx, c)
		if n, err := s.StartCampaign(ctx, c.ID, model.Frozen{Subject: "s", HTML: []byte("h"), Text: []byte("t")}); err != nil || n != 3 {
			t.Fatalf("start = %d, %v", n, err)
		}
		// Cy bounced: a plain suppression, which erasure turns into the hash.
		if err := s.Suppress(ctx, "cy@example.com", model.SuppressHardBounce, "550 5.1.1 <cy@example.com> unknown"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SoftBounce(ctx, "Ada@example.com", "452 mailbox full", 5, time.Hour); err != nil {
			t.Fatal(err)
		}
		for _, e := range []string{"Ada@example.com", "cy@example.com"} {
			if err := s.EraseSubscriber(ctx, e); err != nil {
				t.Fatalf("erase %s: %v", e, err)
			}
		}

		// The campaign goes on for Bo only: Ada's row is not sent to a
		// placeholder address.
		left, err := s.ClaimDeliveries(ctx, c.ID, 100, time.Minute)
		if err != nil || len(left) != 1 || left[0].Email != "bo@example.com" {
			t.Errorf("rows claimed after the erasure = %+v, %v; want Bo's only", left, err)
		}
		// No suppression or soft-bounce count names them.
		sups, err := s.Suppressions(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, sp := range sups {
			if strings.Contains(strings.ToLower(sp.Email+sp.Detail), "ada@") || strings.Contains(sp.Email+sp.Detail, "cy@") {
				t.Errorf("a suppression keeps an erased address in the clear: %+v", sp)
			}
		}
		if n, err := s.SoftBounceCount(ctx, "Ada@example.com"); err != nil || n != 0 {
			t.Errorf("soft bounces of an erased address = %d, %v", n, err)
		}

		// Nothing brings them back, whatever the case of the local part.
		if _, out, err := s.Signup(ctx, "ada@example.com", "Ada", weekly, model.SourceForm, false); err != nil || out != store.SignupRefused {
			t.Errorf("signup of an erased address = %v, %v; want refused", out, err)
		}
		if _, err := s.UpsertSubscriber(ctx, &model.Subscriber{Email: "Ada@example.com"}); !errors.Is(err, store.ErrErased) {
			t.Errorf("API create of an erased address: %v, want ErrErased", err)
		}
		res, err := s.ImportBatch(ctx, []store.ImportRow{{Line: 2, Email: "cy@example.com"}, {Line: 3, Email: "dee@example.com"}},
			store.ImportOptions{ListID: a.ID, Status: model.SubConfirmed, Mode: store.ImportUpsert})
		if want := (store.ImportResult{Imported: 1, Erased: []int{2}}); err != nil || !reflect.DeepEqual(res, want) {
			t.Errorf("import of an erased address and a new one = %+v, %v; want %+v", res, err, want)
		}
		if _, err := s.SubscriberByEmail(ctx, "cy@example.com"); err == nil {
			t.Error("an import brought an erased address back")
		}
		var many []store.ImportRow // a full chunk takes the prepared look-up
		for i := 0; i < 600; i++ {
			many = append(many, store.ImportRow{Line: i + 2, Email: fmt.Sprintf("m%03d@example.com", i)})
		}
		many[10].Email = "CY@example.com"
		res, err = s.ImportBatch(ctx, many, store.ImportOptions{ListID: a.ID, Status: model.SubConfirmed, Mode: store.ImportUpsert})
		if want := (store.ImportResult{Imported: 599, Erased: []int{12}}); err != nil || !reflect.DeepEqual(res, want) {
			t.Errorf("a big import with an erased address = %+v, %v; want %+v", res, err, want)
		}
		// A late bounce report does not write the address down again.
		if err := s.Suppress(ctx, "Ada@example.com", model.SuppressComplaint, "late report"); err != nil {
			t.Fatal(err)
		}
		if sups, _ := s.Suppressions(ctx, 0, 100); len(sups) != 0 {
			t.Errorf("suppressions after a late report = %+v, want none in the clear", sups)
		}
		if err := s.SuppressBatch(ctx, []store.SuppressRow{{Line: 2, Email: "cy@example.com", Reason: model.SuppressUnsubscribe}}); err != nil {
			t.Fatal(err)
		}
		if sups, _ := s.Suppressions(ctx, 0, 100); len(sups) != 0 {
			t.Errorf("suppressions after an import marks an erased address = %+v, want none in the clear", sups)
		}

		// Only someone who knows the address can lift the erasure.
		if err := s.Unsuppress(ctx, "ada@example.com"); err != nil {
			t.Fatalf("lift an erasure: %v", err)
		}
		if _, out, err := s.Signup(ctx, "ada@example.com", "Ada", weekly, model.SourceForm, false); err != nil || out != store.SignupPending {
			t.Errorf("signup once the erasure is lifted = %v, %v; want pending", out, err)
		}
		if err := s.Unsuppress(ctx, "nobody@example.com"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("lift what was never there: %v", err)
		}
	})
}

// TestSuppressBatch suppresses an import's unsubscribed rows: the first
// reason of an address stands, and mail not yet sent to them is skipped.
func TestSuppressBatch(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := audience(t, s, "sb", 3) // sb00000..sb00002
		c := &model.Campaign{Name: "c", EditionID: 1, ListIDs: []int64{a.ID}, From: "news@example.com"}
		s.CreateCampaign(ctx, c)
		s.StartCampaign(ctx, c.ID, model.Frozen{Subject: "s", HTML: []byte("h"), Text: []byte("t")})
		if err := s.Suppress(ctx, "sb00001@example.com", model.SuppressComplaint, "first"); err != nil {
			t.Fatal(err)
		}
		rows := []store.SuppressRow{
			{Line: 2, Email: "sb00000@example.com", Reason: model.SuppressUnsubscribe, Detail: "left"},
			{Line: 3, Email: "sb00001@example.com", Reason: model.SuppressHardBounce, Detail: "cleaned"},
			{Line: 4, Email: "stranger@example.com", Reason: model.SuppressManual, Detail: "blocklisted"},
		}
		if err := s.SuppressBatch(ctx, rows); err != nil {
			t.Fatal(err)
		}
		for email, want := range map[string]model.SuppressionReason{"sb00000@example.com": model.SuppressUnsubscribe,
			"sb00001@example.com": model.SuppressComplaint, "stranger@example.com": model.SuppressManual} {
			if sp, err := s.Suppression(ctx, email); err != nil || sp.Reason != want {
				t.Errorf("%s: %+v, %v; want %s", email, sp, err, want)
			}
		}
		left, _ := s.ClaimDeliveries(ctx, c.ID, 100, time.Minute)
		if len(left) != 1 || left[0].Email != "sb00002@example.com" {
			t.Errorf("rows left to send = %+v, want sb00002's only", left)
		}
		if err := s.SuppressBatch(ctx, []store.SuppressRow{{Line: 7, Email: "x@example.com", Reason: "gone"}}); err == nil || !strings.Contains(err.Error(), "line 7") {
			t.Errorf("unknown reason: %v", err)
		}
	})
}

// TestImportKeepsTheSubscriptionStart: a subscription an import creates
// begins when the file says the person signed up, not at the import; one
// that exists keeps its beginning.
func TestImportKeepsTheSubscriptionStart(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := audience(t, s, "st", 0)
		b := audience(t, s, "st2", 0)
		may := time.Date(2021, 5, 4, 9, 30, 0, 0, time.UTC)
		june := time.Date(2022, 6, 1, 0, 0, 0, 0, time.UTC)
		before := time.Now().Add(-time.Second)
		rows := []store.ImportRow{{Line: 2, Email: "old@example.com", Start: may}, {Line: 3, Email: "undated@example.com"}}
		var many []store.ImportRow // a full chunk takes the prepared statements
		for i := 0; i < 600; i++ {
			many = append(many, store.ImportRow{Line: i + 2, Email: fmt.Sprintf("m%03d@example.com", i), Start: june})
		}
		for _, batch := range [][]store.ImportRow{rows, many} {
			if _, err := s.ImportBatch(ctx, batch, store.ImportOptions{ListID: a.ID, Status: model.SubUnconfirmed, Mode: store.ImportUpsert}); err != nil {
				t.Fatal(err)
			}
		}
		began := func(email string) []store.SubscriptionChange {
			t.Helper()
			sub, err := s.SubscriberByEmail(ctx, email)
			if err != nil {
				t.Fatal(err)
			}
			h, err := s.SubscriptionHistory(ctx, sub.ID)
			if err != nil {
				t.Fatal(err)
			}
			return h
		}
		if sub, _ := s.SubscriberByEmail(ctx, "old@example.com"); !sub.CreatedAt.Equal(may) {
			t.Errorf("subscriber created %v, want %v", sub.CreatedAt, may)
		}
		if h := began("old@example.com"); len(h) != 1 || !h[0].At.Equal(may) {
			t.Errorf("history = %+v, want a beginning at %v", h, may)
		}
		if h := began("m599@example.com"); len(h) != 1 || !h[0].At.Equal(june) {
			t.Errorf("history = %+v, want a beginning at %v", h, june)
		}
		if h := began("undated@example.com"); len(h) != 1 || h[0].At.Before(before) {
			t.Errorf("an undated row began %+v, want the import's time", h)
		}
		// Again, confirmed, with another date; and onto a second list.
		later := []store.ImportRow{{Line: 2, Email: "old@example.com", Start: june}}
		for _, l := range []*model.List{a, b} {
			if _, err := s.ImportBatch(ctx, later, store.ImportOptions{ListID: l.ID, Status: model.SubConfirmed, Mode: store.ImportUpsert}); err != nil {
				t.Fatal(err)
			}
		}
		h := began("old@example.com")
		if len(h) != 3 || !h[0].At.Equal(may) || h[0].ListSlug != "st" || !h[1].At.Equal(june) || h[1].ListSlug != "st2" ||
			h[2].ListSlug != "st" || h[2].Status != model.SubConfirmed || h[2].At.Before(before) {
			t.Errorf("history = %+v\nwant st begun in May 2021, st2 begun in June 2022, st confirmed now", h)
		}
		if sub, _ := s.SubscriberByEmail(ctx, "old@example.com"); !sub.CreatedAt.Equal(may) {
			t.Errorf("an import moved a subscriber's creation to %v", sub.CreatedAt)
		}
	})
}
