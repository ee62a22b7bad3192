package importer

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/herald-news/herald/internal/csvsafe"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

// Source is the part of the store an export reads from: *store.Store.
type Source interface {
	ExportSubscribers(ctx context.Context, f store.ExportFilter, fn func(store.ExportRow) error) error
}

// exportHeader is the header row Export writes.
var exportHeader = []string{"email", "name", "status", "created_at", "attributes"}

// Export writes the subscribers f selects to w as CSV with the columns
// email, name, status, created_at (RFC 3339, UTC) and attributes (a JSON
// object), in email order, every cell safe to open in a spreadsheet
// (csvsafe; Import reads the names back as they were). It returns the number of rows written.
func Export(ctx context.Context, w io.Writer, src Source, f store.ExportFilter) (int, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := csvsafe.NewWriter(bw) // names typed into public forms may be formulas
	if err := cw.Write(exportHeader); err != nil {
		return 0, fmt.Errorf("write the export: %w", err)
	}
	n := 0
	rec := make([]string, len(exportHeader))
	err := src.ExportSubscribers(ctx, f, func(r store.ExportRow) error {
		attrs := string(r.Attributes)
		if attrs == "{}" {
			attrs = ""
		}
		rec[0], rec[1], rec[2] = r.Email, r.Name, string(r.Status)
		rec[3], rec[4] = r.CreatedAt.UTC().Format(time.RFC3339Nano), attrs
		n++
		return cw.Write(rec)
	})
	if err != nil {
		return n, fmt.Errorf("export: %w", err)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return n, fmt.Errorf("write the export: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("write the export: %w", err)
	}
	return n, nil
}

// ExportFilterFor selects list's subscriptions with the given status, or
// all of them when status is empty, and of them the subscribers matching
// the attribute filter attr (name=value, or blank for everyone). Another
// status, or a malformed filter, is refused with a message for a person.
func ExportFilterFor(listID int64, status, attr string) (store.ExportFilter, error) {
	f := store.ExportFilter{ListID: listID, Status: model.SubscriptionStatus(status)}
	if status != "" && !f.Status.Valid() {
		return f, fmt.Errorf("%q is not a subscription status: use confirmed, unconfirmed or unsubscribed, or none for everyone", status)
	}
	var err error
	f.Attr, err = store.ParseAttrFilter(attr)
	return f, err
}

// Download answers an HTTP request with the export as a CSV file named
// name. Nothing is sent before the first bytes are ready, so an export
// that fails at once returns its error for the caller to answer with a
// proper status; one that fails midway aborts the response
// (http.ErrAbortHandler), so the client sees a broken download rather than
// a short file that looks whole. A large list may take longer than the
// server's write timeout, which is lifted for this response.
func Download(w http.ResponseWriter, r *http.Request, src Source, f store.ExportFilter, name string) (int, error) {
	var n int
	err := ServeCSV(w, name, func(out io.Writer) error {
		var err error
		n, err = Export(r.Context(), out, src, f)
		return err
	})
	return n, err
}

// ServeCSV answers with what write writes as a CSV file named name, on the
// terms of Download: the headers go out with the first bytes, an error
// before them is returned, one after them aborts the response, and the
// server's write timeout is lifted.
func ServeCSV(w http.ResponseWriter, name string, write func(io.Writer) error) error {
	http.NewResponseController(w).SetWriteDeadline(time.Time{})
	dw := &download{w: w, name: name}
	err := write(dw)
	if err != nil && dw.started {
		panic(http.ErrAbortHandler)
	}
	return err
}

// download sets a file download's headers with its first bytes.
type download struct {
	w       http.ResponseWriter
	name    string
	started bool
}

func (d *download) Write(p []byte) (int, error) {
	if !d.started {
		d.started = true
		h := d.w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": d.name}))
		h.Set("Cache-Control", "no-store")
	}
	return d.w.Write(p)
}
