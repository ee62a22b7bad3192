package store_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// tableNames lists a database's tables as its own catalog has them.
func tableNames(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// TestCopyToPostgres copies an SQLite installation with a sent campaign
// (ledger, outcomes, events) and the rest of a newsroom's data into an
// empty PostgreSQL schema. Every table of either schema must be in the
// report with equal counts: a table that copy left out fails it, whatever
// migration added it.
func TestCopyToPostgres(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "herald.db")
	s, err := store.Open(ctx, store.Options{SQLitePath: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	// A newsroom's worth of data through the store's own API.
	l := audience(t, s, "daily", 300)
	if err := s.Suppress(ctx, "daily00007@example.com", model.SuppressComplaint, "feedback loop"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSetting(ctx, "site_title", "The Ledger"); err != nil {
		t.Fatal(err)
	}
	u := &store.User{Email: "ada@example.com", Name: "Ada", Role: "owner", PasswordHash: "x"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAPIToken(ctx, &store.APIToken{UserID: u.ID, Name: "ci", Role: "viewer", Prefix: "hrld_abc", Hash: "th"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSource(ctx, &model.Feed{Name: "Own site", URL: "https://example.com/feed.xml", Own: true, Interval: 10 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	c := &model.Campaign{Name: "Tuesday", EditionID: 1, ListIDs: []int64{l.ID}, From: "News <news@example.com>"}
	if err := s.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	total, err := s.StartCampaign(ctx, c.ID, model.Frozen{Subject: "Hello", HTML: []byte("<p>hi</p>"), Text: []byte("hi"), Links: []string{"https://example.com/a"}})
	if err != nil {
		t.Fatal(err)
	}
	claimed, err := s.ClaimDeliveries(ctx, c.ID, int(total), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var outs []store.Outcome
	var events []model.Event
	for _, d := range claimed {
		outs = append(outs, store.Outcome{ID: d.ID, Attempts: d.Attempts, Status: model.DeliverySent, Reply: "250 2.0.0 OK"})
		events = append(events, model.Event{Kind: model.EventOpen, CampaignID: c.ID, SubscriberID: d.SubscriberID, At: time.Now()})
	}
	if err := s.RecordOutcomes(ctx, outs); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordEvents(ctx, events); err != nil {
		t.Fatal(err)
	}

	target := storetest.PostgresURL(t)
	var tables []string
	var rows int64
	rep, err := s.CopyTo(ctx, target, store.CopyOptions{
		Table: func(name string, _ int64) { tables = append(tables, name) },
		Rows:  func(n int64) { rows += n },
	})
	if err != nil {
		t.Fatal(err)
	}
	if bad := rep.Mismatched(); len(bad) > 0 {
		t.Fatalf("counts differ: %+v", bad)
	}
	copied := map[string]int64{}
	for _, ct := range rep.Tables {
		copied[ct.Name] = ct.Target
	}
	if rows != rep.Rows {
		t.Errorf("progress heard %d rows, the report says %d", rows, rep.Rows)
	}

	// Every table of both schemas was copied.
	lite, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	pg, err := sql.Open("pgx", target)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	for name, want := range map[string][]string{
		"SQLite":     tableNames(t, lite, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`),
		"PostgreSQL": tableNames(t, pg, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`),
	} {
		want = slices.DeleteFunc(want, func(n string) bool { return n == "schema_migrations" })
		got := slices.Sorted(slices.Values(tables))
		if !slices.Equal(got, want) {
			t.Errorf("copied tables %v,\n%s has %v", got, name, want)
		}
	}
	for table, min := range map[string]int64{"subscribers": 300, "lists": 1, "subscriptions": 300, "suppressions": 1,
		"settings": 1, "users": 1, "api_tokens": 1, "sources": 1, "campaigns": 1, "campaign_lists": 1,
		"campaign_content": 1, "deliveries": total, "events": total} {
		if copied[table] < min {
			t.Errorf("%s: %d rows copied, want at least %d", table, copied[table], min)
		}
	}

	// Herald runs on the copy: the data reads back, and new rows get ids
	// after the copied ones (the sequences moved on).
	dst, err := store.Open(ctx, store.Options{DatabaseURL: target})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	sub, err := dst.SubscriberByEmail(ctx, "daily00042@example.com")
	if err != nil {
		t.Fatal(err)
	}
	orig, _ := s.SubscriberByEmail(ctx, "daily00042@example.com")
	// PostgreSQL keeps microseconds.
	if sub.ID != orig.ID || !sub.CreatedAt.Equal(orig.CreatedAt.Truncate(time.Microsecond)) {
		t.Errorf("subscriber %+v, in SQLite %+v", sub, orig)
	}
	p, err := dst.CampaignProgress(ctx, c.ID)
	if err != nil || p.Sent != total {
		t.Errorf("campaign progress on the copy %+v, %v; want %d sent", p, err, total)
	}
	if v, err := dst.Setting(ctx, "site_title"); err != nil || v != "The Ledger" {
		t.Errorf("setting %q, %v", v, err)
	}
	next := &model.List{Slug: "weekly", Name: "Weekly"}
	if err := dst.CreateList(ctx, next); err != nil || next.ID <= l.ID {
		t.Errorf("a new list on the copy: id %d after %d, %v", next.ID, l.ID, err)
	}

	// A target that is not empty is refused, and left as it was.
	if _, err := s.CopyTo(ctx, target, store.CopyOptions{}); !errors.Is(err, store.ErrTargetNotEmpty) {
		t.Fatalf("copy into a database with data: %v, want ErrTargetNotEmpty", err)
	}
	var n int64
	if err := pg.QueryRow(`SELECT COUNT(*) FROM lists`).Scan(&n); err != nil || n != 2 {
		t.Errorf("lists after the refused copy: %d, %v", n, err)
	}
	other := storetest.PostgresURL(t)
	db, _ := sql.Open("pgx", other)
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE notes (body TEXT)`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CopyTo(ctx, other, store.CopyOptions{}); !errors.Is(err, store.ErrTargetNotEmpty) {
		t.Fatalf("copy into a schema with a foreign table: %v, want ErrTargetNotEmpty", err)
	}
}

// TestSQLiteSynchronous: normal (1) by default, full (2) when asked, and a
// clear error for anything else.
func TestSQLiteSynchronous(t *testing.T) {
	ctx := context.Background()
	for opt, want := range map[string]string{"": "1", "normal": "1", "full": "2"} {
		s, err := store.Open(ctx, store.Options{SQLitePath: filepath.Join(t.TempDir(), "h.db"), Synchronous: opt})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.SQLitePragmaForTest(ctx, "synchronous"); err != nil || got != want {
			t.Errorf("synchronous %q: PRAGMA says %q, %v; want %s", opt, got, err, want)
		}
		s.Close()
	}
	_, err := store.Open(ctx, store.Options{SQLitePath: filepath.Join(t.TempDir(), "h.db"), Synchronous: "off"})
	if err == nil || !strings.Contains(err.Error(), "want normal or full") {
		t.Errorf("synchronous off: %v", err)
	}
}
