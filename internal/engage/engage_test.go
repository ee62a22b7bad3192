package engage_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/engage"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"

	_ "github.com/jackc/pgx/v5/stdlib" // the lock's own PostgreSQL connection
	_ "modernc.org/sqlite"             // the lock's own SQLite connection
)

func TestParseSignatures(t *testing.T) {
	sigs, err := engage.ParseSignatures([]byte(`# our own gateway
acme-gw machine ua AcmeScan/2.0 (link check)
acme-gw machine ip 192.0.2.0/24
acme-gw machine ip 2001:db8::7
relay privacy ua =Mozilla/5.0 (Relay)
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(sigs) != 2 || sigs[0].Name != "acme-gw" || len(sigs[0].Nets) != 2 || sigs[0].UserAgents[0] != "AcmeScan/2.0 (link check)" ||
		sigs[1].UserAgents[0] != "=Mozilla/5.0 (Relay)" || sigs[1].Class != model.ClassPrivacy {
		t.Fatalf("parsed %+v", sigs)
	}
	c := engage.NewClassifier(sigs...)
	for _, tc := range []struct {
		hit  engage.Hit
		want string
	}{
		{engage.Hit{Kind: model.EventClick, Method: "GET", UserAgent: "Mozilla/5.0 acmescan/2.0 (LINK CHECK)"}, "machine ua:acme-gw"},
		{engage.Hit{Kind: model.EventClick, Method: "GET", UserAgent: "Mozilla/5.0 Chrome", Addr: netip.MustParseAddr("192.0.2.200")}, "machine ip:acme-gw"},
		{engage.Hit{Kind: model.EventOpen, Method: "GET", UserAgent: "Mozilla/5.0 Chrome", Addr: netip.MustParseAddr("2001:db8::7")}, "machine ip:acme-gw"},
		{engage.Hit{Kind: model.EventOpen, Method: "GET", UserAgent: "Mozilla/5.0 (Relay)"}, "privacy ua:relay"},
		{engage.Hit{Kind: model.EventClick, Method: "GET", UserAgent: "Mozilla/5.0 (Relay)"}, "human "}, // privacy signatures: opens only
		{engage.Hit{Kind: model.EventClick, Method: "GET", UserAgent: ""}, "machine no-agent"},
		{engage.Hit{Kind: model.EventClick, Method: "OPTIONS", UserAgent: "x"}, "machine method:OPTIONS"},
		{engage.Hit{Kind: model.EventClick, Method: "GET", UserAgent: "Mozilla/5.0 Chrome", Purpose: "prefetch;prerender"}, "machine prefetch"},
	} {
		v := c.Classify(tc.hit)
		if got := string(v.Class) + " " + v.Reason; got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.hit, got, tc.want)
		}
	}
	for _, bad := range []string{"x machine ua", "x robot ua Foo", "x machine ip 300.1.2.0/24", "x machine header Foo", "x machine ua A\nx human ua B"} {
		if _, err := engage.ParseSignatures([]byte(bad)); err == nil || !strings.Contains(err.Error(), "line ") {
			t.Errorf("%q: err = %v, want one naming the line", bad, err)
		}
	}
}

func TestSettle(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)
	click := func(id int64, url string, sec float64) store.RecipientClick {
		return store.RecipientClick{ID: id, URL: url, At: t0.Add(time.Duration(sec * float64(time.Second))), Class: model.ClassHuman}
	}
	// 6 links: a burst needs 4 distinct links within 5 seconds of a click.
	got := engage.Settle([]store.RecipientClick{click(1, "a", 0), click(2, "b", 1), click(3, "c", 1.5), click(4, "d", 2),
		click(5, "a", 600)}, 6)
	if len(got) != 4 || got[0].ID != 1 || got[3].ID != 4 || got[0].Reason != engage.ReasonBurst {
		t.Errorf("burst: %+v", got)
	}
	// Three links in five seconds out of six is a reader with tabs.
	if got := engage.Settle([]store.RecipientClick{click(1, "a", 0), click(2, "b", 2), click(3, "c", 4)}, 6); len(got) != 0 {
		t.Errorf("three of six links: %+v", got)
	}
	// The same link clicked many times is no burst.
	if got := engage.Settle([]store.RecipientClick{click(1, "a", 0), click(2, "a", 0.1), click(3, "a", 0.2), click(4, "a", 0.3)}, 6); len(got) != 0 {
		t.Errorf("one link: %+v", got)
	}
	// The hidden link marks the clicks within a minute of it, not later.
	hidden := store.RecipientClick{ID: 9, At: t0, Class: model.ClassMachine, Reason: engage.ReasonHiddenLink}
	got = engage.Settle([]store.RecipientClick{click(1, "a", -30), hidden, click(2, "b", 45), click(3, "c", 3600)}, 6)
	if len(got) != 2 || got[0].ID != 1 || got[1].ID != 2 || got[1].Reason != engage.ReasonHiddenLink {
		t.Errorf("hidden link: %+v", got)
	}
	// A scanner's verdict stands.
	scanned := click(1, "a", 0)
	scanned.Class, scanned.Reason = model.ClassMachine, "ip:barracuda"
	if got := engage.Settle([]store.RecipientClick{scanned, hidden}, 6); len(got) != 0 {
		t.Errorf("machine click changed: %+v", got)
	}
}

// campaign starts a tracked campaign with n links and returns it.
func campaign(t *testing.T, s *store.Store, links int) *model.Campaign {
	t.Helper()
	ctx := context.Background()
	l := &model.List{Slug: "daily", Name: "Daily", OptIn: model.OptInSingle}
	if err := s.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	c := &model.Campaign{Name: "Evening", EditionID: 1, ListIDs: []int64{l.ID}, From: "Desk <desk@example.com>", Tracking: true}
	if err := s.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	var urls []string
	for i := range links {
		urls = append(urls, fmt.Sprintf("https://example.org/story-%d", i))
	}
	if _, err := s.StartCampaign(ctx, c.ID, model.Frozen{Subject: "s", Prefix: "x", HTML: []byte("h"), Text: []byte("t"), Links: urls}); err != nil {
		t.Fatal(err)
	}
	return c
}

func count(t *testing.T, s *store.Store, id int64) int64 {
	t.Helper()
	n, err := s.CampaignEventCounts(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return n.Total[model.EventClick]
}

// TestSaturatedDatabaseDropsNothing holds the events table's write lock
// from another connection while 30,000 clicks arrive: commits time out,
// events go to the spool, and once the database is free every event is in
// it exactly once and none was counted lost.
func TestSaturatedDatabaseDropsNothing(t *testing.T) {
	forEach(t, func(t *testing.T, s *store.Store, lockEvents func() func()) {
		ctx := context.Background()
		c := campaign(t, s, 4)
		dir := t.TempDir()
		obs := &observed{n: map[string]int{}}
		rec, err := engage.NewRecorder(engage.Options{Store: s, SpoolDir: dir, Window: 20 * time.Millisecond, Timeout: 300 * time.Millisecond, Observer: obs})
		if err != nil {
			t.Fatal(err)
		}
		release := lockEvents()
		const total = 30000
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := g; i < total; i += 8 {
					rec.Add(model.Event{Kind: model.EventClick, CampaignID: c.ID, URL: "https://example.org/story-1", At: time.Now().UTC()})
				}
			}()
		}
		wg.Wait()
		time.Sleep(500 * time.Millisecond) // a commit or two times out
		if st := rec.Stats(); st.Spooled == 0 || st.Written != 0 {
			t.Fatalf("while the database is locked: %+v, want events spooled and none written", st)
		}
		release()
		if err := rec.Close(ctx); err != nil {
			t.Fatal(err)
		}
		st := rec.Stats()
		if got := count(t, s, c.ID); got != total || st.Lost != 0 {
			t.Fatalf("%d of %d events stored, stats %+v", got, total, st)
		}
		if obs.get(engage.ResultWritten) != total || obs.get(engage.ResultLost) != 0 || obs.get(engage.ResultSpooled) == 0 {
			t.Errorf("observer saw %v", obs.n)
		}
		if left, _ := filepath.Glob(filepath.Join(dir, "*.events")); len(left) != 0 {
			t.Errorf("spool not emptied: %v", left)
		}
	})
}

// TestSpoolDrainsUnderSteadyTraffic: events spooled while the database was
// locked reach it while new clicks keep arriving in every commit window,
// not only once traffic pauses.
func TestSpoolDrainsUnderSteadyTraffic(t *testing.T) {
	forEach(t, func(t *testing.T, s *store.Store, lockEvents func() func()) {
		c := campaign(t, s, 4)
		rec, err := engage.NewRecorder(engage.Options{Store: s, SpoolDir: t.TempDir(), Window: 10 * time.Millisecond,
			Batch: 50, Memory: 50, Timeout: 100 * time.Millisecond})
		// (Memory: 50 while the database is locked; afterwards the steady
		// clicks also overflow it into the spool now and then, which the
		// drain must keep up with as well.)
		if err != nil {
			t.Fatal(err)
		}
		click := func() {
			rec.Add(model.Event{Kind: model.EventClick, CampaignID: c.ID, URL: "https://example.org/story-3", At: time.Now().UTC()})
		}
		release := lockEvents()
		const spooled = 2000
		for range spooled {
			click()
		}
		if st := rec.Stats(); st.Spooled < spooled/2 {
			t.Fatalf("with the database locked: %+v, want most events spooled", st)
		}
		release()
		// Steady traffic: clicks every fraction of a millisecond from two
		// readers, so no commit window is empty.
		stop := make(chan struct{})
		var sent atomic.Int64
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
						click()
						sent.Add(1)
						time.Sleep(200 * time.Microsecond)
					}
				}
			}()
		}
		deadline := time.Now().Add(20 * time.Second)
		for count(t, s, c.ID) < spooled && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		got := count(t, s, c.ID)
		close(stop)
		wg.Wait()
		if got < spooled {
			t.Fatalf("%d events stored after 20 s of steady traffic (%d new clicks); the %d spooled ones still wait", got, sent.Load(), spooled)
		}
		if err := rec.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got, want := count(t, s, c.ID), spooled+sent.Load(); got != want {
			t.Fatalf("%d events stored, want %d", got, want)
		}
	})
}

// TestSpoolSurvivesRestart: events spooled by one recorder whose database
// stayed locked until it gave up are written by the next recorder on the
// same spool, once.
func TestSpoolSurvivesRestart(t *testing.T) {
	forEach(t, func(t *testing.T, s *store.Store, lockEvents func() func()) { spoolSurvivesRestart(t, s, lockEvents) })
}

func spoolSurvivesRestart(t *testing.T, s *store.Store, lockEvents func() func()) {
	c := campaign(t, s, 4)
	dir := t.TempDir()
	// Another process owns the spool folder: this one spools in a folder
	// of its own inside it.
	holder, err := engage.NewRecorder(engage.Options{Store: s, SpoolDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	// One event in memory at most: with the database locked, the rest go
	// to the spool.
	rec, err := engage.NewRecorder(engage.Options{Store: s, SpoolDir: dir, Window: 10 * time.Millisecond, Batch: 1, Memory: 1, Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	release := lockEvents()
	for range 5000 {
		rec.Add(model.Event{Kind: model.EventClick, CampaignID: c.ID, URL: "https://example.org/story-2", At: time.Now().UTC()})
	}
	// Close gives up on the locked database at its deadline, as a process
	// that is stopped: the events stay spooled.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	err = rec.Close(ctx)
	cancel()
	if err == nil {
		t.Fatal("Close reported success with the database locked")
	}
	if st := rec.Stats(); st.Written != 0 || st.Spooled < 4990 || st.Lost != 0 {
		t.Fatalf("with the database locked: %+v", st)
	}
	release()
	time.Sleep(500 * time.Millisecond) // the stopped recorder's last commit ends
	if files, _ := filepath.Glob(filepath.Join(dir, "node-*", "*.events")); len(files) == 0 {
		t.Fatal("nothing left in the second process's spool folder")
	}
	if err := holder.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	again, err := engage.NewRecorder(engage.Options{Store: s, SpoolDir: dir, Window: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := again.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := count(t, s, c.ID); got != 5000 {
		t.Fatalf("%d of 5000 events stored after the restart", got)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "node-*")); len(left) != 0 {
		t.Errorf("the abandoned spool folder is still there: %v", left)
	}
}

// TestBurstSettledAcrossCommits: a gateway's clicks on every link, split
// over several commits, all end up machine; a reader's click on one link
// stays human.
func TestBurstSettledAcrossCommits(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := campaign(t, s, 5)
		rec, err := engage.NewRecorder(engage.Options{Store: s, SpoolDir: t.TempDir(), Window: 5 * time.Millisecond,
			Log: slog.New(slog.NewTextHandler(t.Output(), nil))})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		rec.Add(model.Event{Kind: model.EventClick, CampaignID: c.ID, SubscriberID: 2, URL: "https://example.org/story-0", At: now})
		for i := range 5 {
			rec.Add(model.Event{Kind: model.EventClick, CampaignID: c.ID, SubscriberID: 1, URL: fmt.Sprintf("https://example.org/story-%d", i),
				At: now.Add(time.Duration(i) * 300 * time.Millisecond)})
			time.Sleep(30 * time.Millisecond) // each in its own commit
		}
		if err := rec.Close(ctx); err != nil {
			t.Fatal(err)
		}
		n, err := s.CampaignEventCounts(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if n.TotalBy[model.ClassMachine][model.EventClick] != 5 || n.TotalBy[model.ClassHuman][model.EventClick] != 1 {
			t.Fatalf("by class: %v", n.TotalBy)
		}
	})
}

type observed struct {
	mu sync.Mutex
	n  map[string]int
}

func (o *observed) EventsRecorded(result string, n int) {
	o.mu.Lock()
	o.n[result] += n
	o.mu.Unlock()
}

func (o *observed) get(r string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n[r]
}

// forEach runs fn against a fresh SQLite file and a fresh PostgreSQL
// schema, with a function that takes the events table's write lock from a
// connection of its own and returns the function that lets it go.
func forEach(t *testing.T, fn func(t *testing.T, s *store.Store, lockEvents func() func())) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "herald.db")
		s, err := store.Open(context.Background(), store.Options{SQLitePath: path})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		// SQLite locks the whole file: a write transaction left open holds
		// every other writer.
		fn(t, s, func() func() {
			return lock(t, "sqlite", "file:"+path, `INSERT INTO settings (key, value, updated_at) VALUES ('engage_test_lock', 'x', '2026-01-01 00:00:00')`)
		})
	})
	t.Run("postgres", func(t *testing.T) {
		url := storetest.PostgresURL(t)
		s, err := store.Open(context.Background(), store.Options{DatabaseURL: url})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		fn(t, s, func() func() { return lock(t, "pgx", url, `LOCK TABLE events IN EXCLUSIVE MODE`) })
	})
}

func lock(t *testing.T, driver, dsn, stmt string) func() {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, stmt); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release := func() {
		once.Do(func() {
			tx.Rollback()
			db.Close()
		})
	}
	t.Cleanup(release)
	return release
}

// BenchmarkClassify measures the redirect's added work per click: a
// reader's browser from an address in no table, the longest path through
// the signatures (go test -run - -bench Classify ./internal/engage/).
func BenchmarkClassify(b *testing.B) {
	c := engage.NewClassifier()
	req, _ := http.NewRequest(http.MethodGet, "https://news.example.com/c/tok?u=https%3A%2F%2Fexample.org%2F", nil)
	req.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
	for b.Loop() {
		v := c.Classify(engage.HitFrom(model.EventClick, req, "198.51.100.23"))
		if v.Class != model.ClassHuman {
			b.Fatal(v)
		}
	}
}

// TestDamagedSpoolLineCountedLost: a spooled line that cannot be read back
// (a write cut short) is counted as lost when the spool is drained, never
// dropped silently; the readable ones are stored.
func TestDamagedSpoolLineCountedLost(t *testing.T) {
	forEach(t, func(t *testing.T, s *store.Store, lockEvents func() func()) {
		c := campaign(t, s, 1)
		dir := t.TempDir()
		rec, err := engage.NewRecorder(engage.Options{Store: s, SpoolDir: dir, Window: 10 * time.Millisecond, Batch: 1, Memory: 1, Timeout: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		release := lockEvents()
		for range 20 {
			rec.Add(model.Event{Kind: model.EventClick, CampaignID: c.ID, URL: "https://example.org/story-0", At: time.Now().UTC()})
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = rec.Close(ctx) // gives up on the locked database: the events stay spooled
		cancel()
		release()
		time.Sleep(500 * time.Millisecond)
		spooled := rec.Stats().Spooled
		files, _ := filepath.Glob(filepath.Join(dir, "*.events"))
		if len(files) == 0 || spooled == 0 {
			t.Fatalf("nothing spooled (%d): %v", spooled, files)
		}
		f, err := os.OpenFile(files[0], os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("{\"kind\": not json}\n")
		f.Close()
		again, err := engage.NewRecorder(engage.Options{Store: s, SpoolDir: dir, Window: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := again.Close(context.Background()); err == nil || !strings.Contains(err.Error(), "1 events") {
			t.Errorf("Close after the damaged line: %v, want the lost event reported", err)
		}
		if st := again.Stats(); st.Lost != 1 {
			t.Errorf("the damaged line: %+v, want 1 lost", st)
		}
		if got := count(t, s, c.ID); got != 20 {
			t.Errorf("%d of 20 events stored", got)
		}
	})
}
