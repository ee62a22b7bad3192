package importer_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/importer"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// failingSource hands out rows rows, then fails as a database can mid-read.
type failingSource struct{ rows int }

var errGone = errors.New("the database went away")

func (s failingSource) ExportSubscribers(_ context.Context, _ store.ExportFilter, fn func(store.ExportRow) error) error {
	for i := range s.rows {
		if err := fn(store.ExportRow{Email: fmt.Sprintf("reader%06d@example.com", i), Name: "A reader with a long enough name"}); err != nil {
			return err
		}
	}
	return errGone
}

// TestDownload: a good export is a CSV attachment; one that fails before
// anything is sent leaves the response untouched for an error status; one
// that fails midway aborts the response instead of ending it cleanly.
func TestDownload(t *testing.T) {
	t.Parallel()
	s := storetest.SQLite(t)
	get := httptest.NewRequest(http.MethodGet, "/export", nil)

	rec := httptest.NewRecorder()
	if _, err := importer.Download(rec, get, s, store.ExportFilter{}, "readers.csv"); err != nil {
		t.Fatal(err)
	}
	if rec.Header().Get("Content-Disposition") != `attachment; filename=readers.csv` || !strings.HasPrefix(rec.Body.String(), "email,name,") {
		t.Fatalf("download: %v\n%s", rec.Header(), rec.Body)
	}

	rec = httptest.NewRecorder()
	if _, err := importer.Download(rec, get, failingSource{rows: 3}, store.ExportFilter{}, "x.csv"); !errors.Is(err, errGone) {
		t.Fatalf("early failure = %v", err)
	}
	if rec.Body.Len() != 0 || rec.Header().Get("Content-Disposition") != "" {
		t.Fatalf("an export that failed at once sent %d bytes and %v", rec.Body.Len(), rec.Header())
	}

	rec = httptest.NewRecorder()
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Fatalf("a failure midway (after %d bytes) = %v, want the response aborted", rec.Body.Len(), p)
		}
	}()
	importer.Download(rec, get, failingSource{rows: 5000}, store.ExportFilter{}, "x.csv")
	t.Fatal("a failure midway returned")
}
