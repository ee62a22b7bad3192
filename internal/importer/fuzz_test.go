package importer_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/herald-news/herald/internal/address"
	"github.com/herald-news/herald/internal/importer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

// memSink records the rows Import writes, as the store would receive them.
type memSink struct {
	mu         sync.Mutex
	rows       []store.ImportRow
	suppressed []store.SuppressRow
	calls      int
}

func (s *memSink) SuppressBatch(_ context.Context, rows []store.SuppressRow) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	s.suppressed = append(s.suppressed, rows...)
	return nil
}

func (s *memSink) ImportBatch(_ context.Context, rows []store.ImportRow, opt store.ImportOptions) (store.ImportResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	for _, r := range rows {
		// Import reuses its batches: keep copies.
		r.Attributes = bytes.Clone(r.Attributes)
		s.rows = append(s.rows, r)
	}
	return store.ImportResult{Imported: len(rows)}, nil
}

// FuzzImport feeds arbitrary bytes to Import as a CSV file. Whatever the
// bytes, Import must not panic, must fail only with a header error, and
// must account for every data record exactly once: written to the sink
// (to subscribe or to suppress) with a normalised address not seen
// before, or rejected, in line order.
// opts picks the batch size (1 to 4, so batching is exercised on small
// inputs) and the forced status.
func FuzzImport(f *testing.F) {
	for _, s := range []string{
		"email,name\nann@example.com,Ann\n",
		"\uFEFFEmail,Name,City,attributes\r\nann@example.com,Ann Lee,York,\"{\"\"plan\"\":\"\"paid\"\",\"\"seats\"\":3}\"\r\n  Bob@Example.COM ,  Bob ,,\r\n",
		"Email Address,First Name,Last Name,MEMBER_RATING,OPTIN_TIME,UNSUB_TIME\nann@example.com,Ann,Lee,2,2024-01-01,\nbob@example.com,Bob,,1,,2025-02-02 10:00:00\n",
		"email,active_subscription,email_disabled\nann@example.com,true,false\nbob@example.com,false,true\n",
		"uuid,email,name,attributes,status,created_at,updated_at\n1,a@example.com,A,{},enabled,x,y\n2,b@example.com,B,\"{\"\"k\"\":1}\",blocklisted,x,y\n",
		"email\na@example.com\nA@EXAMPLE.com\nnot-an-address\n\"multi\nline\"@example.com\n\"bad\"quote\n\xff@example.com\n",
		"email,email\n",
		"name\nAnn\n",
		"",
	} {
		f.Add([]byte(s), uint8(0))
	}
	f.Add([]byte("email,name\na@example.com\nb@example.com,B,extra\nc@example.com,C\n"), uint8(5))
	f.Fuzz(func(t *testing.T, src []byte, opts uint8) {
		sink := &memSink{}
		var rejects []importer.Reject
		opt := importer.Options{
			BatchSize: 1 + int(opts%4),
			Status:    []model.SubscriptionStatus{"", model.SubConfirmed, model.SubUnconfirmed}[int(opts/4)%3],
			OnReject: func(r importer.Reject) error {
				rejects = append(rejects, r)
				return nil
			},
		}
		res, err := importer.Import(context.Background(), bytes.NewReader(src), sink, opt)
		if errors.Is(err, importer.ErrUnclosedQuote) {
			// Stopped mid-file on purpose: what was done must still add up.
			if res.Rows < len(rejects) || res.Imported != len(sink.rows) || res.Suppressed != len(sink.suppressed) {
				t.Fatalf("unclosed quote: result %+v, %d rows written, %d rejects", res, len(sink.rows), len(rejects))
			}
			return
		}
		if err != nil {
			header := errors.Is(err, importer.ErrBadHeader) || errors.Is(err, importer.ErrNoEmailColumn) ||
				errors.Is(err, importer.ErrRecordTooLarge) || strings.HasPrefix(err.Error(), "the file is empty")
			if !header {
				t.Fatalf("Import failed with %v\nfile: %q", err, src)
			}
			if sink.calls != 0 || len(rejects) != 0 || res != (importer.Result{}) {
				t.Fatalf("a header error after work was done: %v, result %+v, %d sink calls, %d rejects", err, res, sink.calls, len(rejects))
			}
			return
		}
		if res.Rejected != len(rejects) || res.Imported != len(sink.rows) || res.Suppressed != len(sink.suppressed) ||
			res.Rows != len(rejects)+len(sink.rows)+len(sink.suppressed) {
			t.Fatalf("result %+v, but %d rows written, %d suppressed and %d rejected\nfile: %q",
				res, len(sink.rows), len(sink.suppressed), len(rejects), src)
		}
		lines := make(map[int]bool)
		emails := make(map[string]int)
		written := make([]store.ImportRow, 0, len(sink.rows)+len(sink.suppressed))
		written = append(written, sink.rows...)
		for _, r := range sink.suppressed {
			if !r.Reason.Valid() {
				t.Fatalf("line %d suppressed with reason %q", r.Line, r.Reason)
			}
			written = append(written, store.ImportRow{Line: r.Line, Email: r.Email})
		}
		for _, r := range written {
			if n, err := address.Normalize(r.Email); err != nil || n != r.Email {
				t.Fatalf("line %d written with address %q, which normalises to %q, %v", r.Line, r.Email, n, err)
			}
			if first, dup := emails[r.Email]; dup {
				t.Fatalf("address %q written from lines %d and %d", r.Email, first, r.Line)
			}
			emails[r.Email] = r.Line
			if lines[r.Line] || r.Line < 2 {
				t.Fatalf("line %d written twice or before the data", r.Line)
			}
			lines[r.Line] = true
		}
		prev := 1
		for _, r := range rejects {
			if r.Line <= prev {
				t.Fatalf("reject lines do not increase: %d after %d\nfile: %q", r.Line, prev, src)
			}
			prev = r.Line
			if lines[r.Line] {
				t.Fatalf("line %d both written and rejected\nfile: %q", r.Line, src)
			}
			if r.Reason == "" {
				t.Fatalf("line %d rejected without a reason", r.Line)
			}
		}
	})
}
