package importer_test

import (
	"sync"
	"testing"

	"github.com/herald-news/herald/internal/importer"
	"github.com/herald-news/herald/internal/store/storetest"
)

// tally is an importer.Observer.
type tally struct {
	mu               sync.Mutex
	running, maxSeen int
	rows             map[string]int
}

func (t *tally) ImportRunning(d int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.running += d
	t.maxSeen = max(t.maxSeen, t.running)
}

func (t *tally) ImportRows(result string, n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rows[result] += n
}

// TestObserverCountsRows: an import reports itself running while it runs
// and its rows by result as they are written or rejected, in batches.
func TestObserverCountsRows(t *testing.T) {
	t.Parallel()
	s := storetest.SQLite(t)
	l := newList(t, s, "daily")
	obs := &tally{rows: map[string]int{}}
	src := "email,name\nada@example.com,Ada\nnot an address,X\nben@example.com,Ben\ncy@example.com,Cy\n"
	if _, _, err := run(t, s, l, src, importer.Options{Observer: obs, BatchSize: 2}); err != nil {
		t.Fatal(err)
	}
	src = "email\nada@example.com\ndan@example.com\nada@example.com\n"
	if _, _, err := run(t, s, l, src, importer.Options{Observer: obs}); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"imported": 4, "updated": 1, "skipped": 0, "rejected": 2}
	for k, v := range want {
		if obs.rows[k] != v {
			t.Errorf("%s = %d, want %d (all: %v)", k, obs.rows[k], v, obs.rows)
		}
	}
	if obs.running != 0 || obs.maxSeen != 1 {
		t.Errorf("running = %d, at most %d; want 0 and 1", obs.running, obs.maxSeen)
	}
}
