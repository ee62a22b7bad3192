package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestCopyCommand moves a data folder to PostgreSQL: the table of counts,
// exit 0, and Herald reading the copy; then a second copy into the same
// database is refused with exit 1.
func TestCopyCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	data := t.TempDir()
	s, err := store.Open(ctx, store.Options{SQLitePath: filepath.Join(data, "herald.db")})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateList(ctx, &model.List{Slug: "daily", Name: "Daily"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	target := storetest.PostgresURL(t)
	out, errs, code := herald(t, nil, nil, "copy", "--to", target, "--data", data)
	if code != 0 || !strings.Contains(out, "every count matches") || !strings.Contains(out, "\nlists ") {
		t.Fatalf("copy: %d %q %q", code, out, errs)
	}
	out, errs, code = herald(t, map[string]string{"HERALD_DATABASE_URL": target}, nil, "lists", "ls")
	if code != 0 || !strings.Contains(out, "daily") {
		t.Errorf("lists on the copy: %d %q %q", code, out, errs)
	}
	_, errs, code = herald(t, nil, nil, "copy", "--to", target, "--data", data)
	if code != 1 || !strings.Contains(errs, "the target database is not empty: table") {
		t.Errorf("second copy: %d %q", code, errs)
	}
	_, errs, code = herald(t, nil, nil, "copy", "--to", "mysql://x", "--data", data)
	if code != 2 || !strings.Contains(errs, "--to must be a PostgreSQL URL") {
		t.Errorf("bad URL: %d %q", code, errs)
	}
}
