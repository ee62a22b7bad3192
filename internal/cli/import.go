package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/herald-news/herald/internal/csvsafe"
	"github.com/herald-news/herald/internal/importer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/progress"
	"github.com/herald-news/herald/internal/store"
)

// Exit status of an import that rejected some rows but imported the rest.
const exitRejected = 3

func runImport(ctx context.Context, e *env, args []string) error {
	fs := e.flags("import", "--list SLUG [--status confirmed|unconfirmed] [--mode upsert|skip-existing] [--rejects FILE] FILE.csv")
	list := fs.String("list", "", "the list to subscribe the file's addresses to (required)")
	status := fs.String("status", "", "confirmed or unconfirmed for every row (default: the file's status column, else confirmed)")
	mode := fs.String("mode", string(store.ImportUpsert), "upsert updates existing subscribers' names and attributes; skip-existing leaves them alone")
	rejectsPath := fs.String("rejects", "", "also write rejected rows to this CSV file (line, reason, then the row's fields)")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	if *list == "" {
		return usageErrorf("--list is required")
	}
	st := model.SubscriptionStatus(*status)
	if st != "" && st != model.SubConfirmed && st != model.SubUnconfirmed {
		return usageErrorf("--status must be confirmed or unconfirmed")
	}
	m := store.ImportMode(*mode)
	if !m.Valid() {
		return usageErrorf("--mode must be upsert or skip-existing")
	}

	in, size, closeIn, err := openInput(e, pos[0])
	if err != nil {
		return err
	}
	defer closeIn()

	return e.withStore(ctx, func(s *store.Store) error {
		l, err := listBySlug(ctx, s, *list)
		if err != nil {
			return err
		}

		var rejects *rejectsFile
		if *rejectsPath != "" {
			if rejects, err = createRejects(*rejectsPath); err != nil {
				return err
			}
			defer func() { _ = rejects.close() }() // closed, its error checked, on the normal path below
		}

		bar := progress.New(e.stderr, progress.Options{Description: "importing", Total: size, Bytes: true})
		defer bar.Finish()
		opt := importer.Options{
			ListID: l.ID,
			Status: st,
			Mode:   m,
			OnHeader: func(h []string) error {
				if rejects != nil {
					return rejects.header(h)
				}
				return nil
			},
			OnRead: bar.Add,
			OnBatch: func(r importer.Result) {
				bar.SetStatus(fmt.Sprintf("%d imported, %d updated, %d skipped, %d suppressed, %d rejected",
					r.Imported, r.Updated, r.Skipped, r.Suppressed, r.Rejected))
			},
			OnReject: func(r importer.Reject) error {
				bar.Printf("line %d: %s", r.Line, r.Reason)
				if rejects != nil {
					return rejects.write(r)
				}
				return nil
			},
		}
		res, err := importer.Import(ctx, in, s, opt)
		bar.Finish()
		if rejects != nil {
			if cerr := rejects.close(); cerr != nil && err == nil {
				err = cerr
			}
		}
		if err != nil {
			if res.Rows > 0 {
				fmt.Fprintln(e.stdout, res)
			}
			return fmt.Errorf("import into %s stopped: %w", l.Slug, err)
		}
		fmt.Fprintln(e.stdout, res)
		if res.Rejected > 0 {
			where := "listed above"
			if rejects != nil {
				where += " and in " + *rejectsPath
			}
			return &ExitError{Code: exitRejected, Err: fmt.Errorf("%d rows were rejected (%s); the other rows were imported", res.Rejected, where)}
		}
		return nil
	})
}

// openInput opens the import file, or standard input for "-", and returns
// its size when known (0 otherwise) for the progress display.
func openInput(e *env, name string) (io.Reader, int64, func(), error) {
	if name == "-" {
		return e.stdin, 0, func() {}, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("open the import file: %w", err)
	}
	var size int64
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	return f, size, func() { f.Close() }, nil
}

// rejectsFile is the CSV of rejected rows: line, reason, then the fields
// under the import file's own column names.
type rejectsFile struct {
	f      *os.File
	w      *csvsafe.Writer
	rec    []string
	closed bool
}

func createRejects(path string) (*rejectsFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create the rejects file: %w", err)
	}
	return &rejectsFile{f: f, w: csvsafe.NewWriter(f)}, nil
}

func (r *rejectsFile) header(h []string) error {
	return r.writeRecord(append([]string{"line", "reason"}, h...))
}

func (r *rejectsFile) write(rej importer.Reject) error {
	r.rec = append(r.rec[:0], strconv.Itoa(rej.Line), rej.Reason)
	return r.writeRecord(append(r.rec, rej.Fields...))
}

func (r *rejectsFile) writeRecord(rec []string) error {
	if err := r.w.Write(rec); err != nil {
		return fmt.Errorf("write the rejects file: %w", err)
	}
	return nil
}

func (r *rejectsFile) close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.w.Flush()
	err := r.w.Error()
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write the rejects file: %w", err)
	}
	return nil
}
