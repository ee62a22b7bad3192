package store_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/herald-news/herald/internal/store"
)

// TestSQLiteFilesArePrivate: the database and its -wal and -shm files
// are the owner's alone (0600) and a new data folder is 0700, whatever the
// umask; an older installation's 0644 database is made 0600 when opened.
func TestSQLiteFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "herald-data")
	path := filepath.Join(dir, "herald.db")
	s, err := store.Open(context.Background(), store.Options{SQLitePath: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.PutSetting(context.Background(), "probe", "x"); err != nil { // the WAL holds a write
		t.Fatal(err)
	}
	mode := func(p string) os.FileMode {
		t.Helper()
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode().Perm()
	}
	if m := mode(dir); m != 0o700 {
		t.Errorf("data folder is %v, want 0700", m)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if m := mode(p); m != 0o600 {
			t.Errorf("%s is %v, want 0600", filepath.Base(p), m)
		}
	}

	s.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		os.Chmod(p, 0o644)
	}
	s2, err := store.Open(context.Background(), store.Options{SQLitePath: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if m := mode(path); m != 0o600 {
		t.Errorf("an older installation's database stays %v", m)
	}
}
