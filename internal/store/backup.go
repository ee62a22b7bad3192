package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"modernc.org/sqlite"
)

// BackupOptions tune BackupSQLite.
type BackupOptions struct {
	// Replace lets the backup take the place of an existing file.
	Replace bool
	// Progress, when set, is told after every step how many bytes of the
	// database are copied and how many there are in all.
	Progress func(copied, total int64)
	// StepPages is how many database pages one step copies (1024).
	StepPages int
}

// BackupSQLite copies the SQLite database at src into a new file at dst
// with SQLite's online backup, while other connections and processes (a
// running herald serve) go on writing. The copy is the database as it stood
// when the backup began: it reads from one read transaction, which in WAL
// mode holds no writer back (the WAL only grows until the backup ends). It
// is written beside dst under a temporary name, checked with SQLite's
// quick_check, and moved into place only when whole, so a failed or
// interrupted backup leaves no file that looks like one. An existing dst is
// an error wrapping fs.ErrExist unless opts.Replace is set. It returns the
// backup's size in bytes.
func BackupSQLite(ctx context.Context, src, dst string, opts BackupOptions) (int64, error) {
	if opts.StepPages <= 0 {
		opts.StepPages = 1024
	}
	info, err := os.Stat(src)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("there is no SQLite database at %s", src)
	}
	if err != nil {
		return 0, err
	}
	if !info.Mode().IsRegular() {
		return 0, fmt.Errorf("%s is not a database file", src)
	}
	if di, err := os.Stat(dst); err == nil {
		switch {
		case os.SameFile(info, di):
			return 0, fmt.Errorf("%s is the database itself: back it up to another file", dst)
		case !di.Mode().IsRegular():
			return 0, fmt.Errorf("%s exists and is not a file", dst)
		case !opts.Replace:
			return 0, fmt.Errorf("%s already exists: %w", dst, fs.ErrExist)
		}
	}

	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".partial-*")
	if err != nil {
		return 0, fmt.Errorf("create the backup file: %w", err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	placed := false
	defer func() {
		if !placed {
			for _, suffix := range []string{"", "-journal", "-wal", "-shm"} {
				os.Remove(tmpPath + suffix)
			}
		}
	}()

	if err := copyDatabase(ctx, src, tmpPath, opts); err != nil {
		return 0, err
	}
	if err := checkDatabase(ctx, tmpPath); err != nil {
		return 0, err
	}
	size, err := syncFile(tmpPath)
	if err != nil {
		return 0, err
	}
	if err := place(tmpPath, dst, opts.Replace); err != nil {
		return 0, err
	}
	placed = true
	if d, err := os.Open(filepath.Dir(dst)); err == nil {
		_ = d.Sync() // best effort: the new name survives a power cut where the filesystem allows
		d.Close()
	}
	return size, nil
}

// copyDatabase runs the online backup from src into dst, step by step,
// inside one read transaction on src.
func copyDatabase(ctx context.Context, src, dst string, opts BackupOptions) error {
	db, err := sql.Open("sqlite", "file:"+src+"?mode=rw&_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	if err != nil {
		return fmt.Errorf("open the database: %w", err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("open the database: %w", err)
	}
	defer conn.Close()
	// The backup reads the snapshot of this transaction. Without it, each
	// step would take a fresh look, and a write between two steps would
	// start the copy over: under steady writes, forever.
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return fmt.Errorf("begin reading the database: %w", err)
	}
	defer func() { _, _ = conn.ExecContext(context.Background(), "ROLLBACK") }() // a read: nothing to undo
	var tables, pageSize int64
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&tables); err != nil {
		return fmt.Errorf("read the database: %w", err)
	}
	if err := conn.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		return fmt.Errorf("read the database: %w", err)
	}
	return conn.Raw(func(dc any) error {
		b, ok := dc.(interface {
			NewBackup(string) (*sqlite.Backup, error)
		})
		if !ok {
			return errors.New("the SQLite driver offers no online backup")
		}
		bk, err := b.NewBackup(dst)
		if err != nil {
			return fmt.Errorf("start the backup: %w", err)
		}
		for {
			if err := ctx.Err(); err != nil {
				_ = bk.Finish() // err says why it stopped
				return err
			}
			more, err := bk.Step(int32(opts.StepPages))
			if err != nil {
				_ = bk.Finish() // err says why it stopped
				return fmt.Errorf("copy the database: %w", err)
			}
			if opts.Progress != nil {
				total := int64(bk.PageCount())
				if !more {
					opts.Progress(total*pageSize, total*pageSize)
				} else {
					opts.Progress((total-int64(bk.Remaining()))*pageSize, total*pageSize)
				}
			}
			if !more {
				break
			}
		}
		if err := bk.Finish(); err != nil {
			return fmt.Errorf("finish the backup: %w", err)
		}
		return nil
	})
}

// checkDatabase makes a finished copy one self-contained file (the copy
// carries the source's WAL mode, whose readers leave -wal and -shm files
// beside it) and runs quick_check on it. Herald turns WAL back on when it
// opens a restored copy.
func checkDatabase(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=rw")
	if err != nil {
		return err
	}
	defer db.Close()
	var mode, verdict string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode=DELETE").Scan(&mode); err != nil || mode != "delete" {
		return fmt.Errorf("set the backup's journal mode: %q, %v", mode, err)
	}
	if err := db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&verdict); err != nil {
		return fmt.Errorf("check the backup: %w", err)
	}
	if verdict != "ok" {
		return fmt.Errorf("the backup failed SQLite's check: %s", verdict)
	}
	return nil
}

// syncFile flushes a file to disk and returns its size.
func syncFile(path string) (int64, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("write the backup to disk: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return info.Size(), nil
}

// place gives the finished copy its name: in one step over an old file
// when replace is set, else only if the name is still free.
func place(tmp, dst string, replace bool) error {
	if replace {
		return os.Rename(tmp, dst)
	}
	err := os.Link(tmp, dst)
	switch {
	case err == nil:
		return os.Remove(tmp)
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%s already exists: %w", dst, fs.ErrExist)
	}
	// No hard links here (some network file systems): check, then rename.
	if _, serr := os.Lstat(dst); serr == nil {
		return fmt.Errorf("%s already exists: %w", dst, fs.ErrExist)
	}
	return os.Rename(tmp, dst)
}
