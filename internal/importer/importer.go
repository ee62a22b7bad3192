// Package importer reads subscriber CSV files into the store and writes the
// store's subscribers back out as CSV.
//
// Import streams: it holds one record, one batch being read and one being
// written, and a compact set of the addresses seen (8 bytes of hash and 4 of
// line number each), so memory stays flat however long the file. The header
// row names the columns; exports from Herald, listmonk, Mailchimp and
// Substack are recognised as they are. Rows the file marks as people who
// left (unsubscribed, cleaned, blocklisted) put the address on the
// suppression list instead of subscribing it, and a signup date in the file
// is kept as the subscription's start. A row that cannot be imported (bad
// address or date, wrong number of fields, invalid UTF-8, a duplicate of an
// earlier row, an address erased at its owner's request, ...) is rejected
// with the physical line where its record starts and a reason a person can
// act on; the good rows are imported regardless. Only a failure to read the
// file or to write to the store stops an import.
//
// Export writes the columns email, name, status, created_at, attributes,
// which Import reads back unchanged.
package importer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/herald-news/herald/internal/address"
	"github.com/herald-news/herald/internal/csvsafe"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

// Defaults for Options.
const (
	// DefaultStatus is the subscription status of imported rows when neither
	// the file nor the person importing says otherwise: the people on a list
	// exported from another platform were already subscribed there.
	DefaultStatus = model.SubConfirmed
	// DefaultBatchSize is the number of rows written in one transaction.
	DefaultBatchSize = 1000
	// DefaultMaxRecordBytes bounds one record (one row, with all its
	// fields), so an unterminated quote cannot pull a whole file into memory.
	DefaultMaxRecordBytes = 1 << 20
)

// readBufferSize is the read-ahead buffer under the CSV parser.
const readBufferSize = 64 << 10

// ErrRecordTooLarge is wrapped by the error Import returns when one record
// exceeds Options.MaxRecordBytes.
var ErrRecordTooLarge = errors.New("record too large")

// ErrUnclosedQuote is wrapped by the error Import returns when a quoted
// field never closes: every following line would be read as part of it, so
// the import stops there instead of silently swallowing the rest of the
// file. The rows before it are written; fix the quote and import again.
var ErrUnclosedQuote = errors.New("a quoted field is never closed")

// Sink is the part of the store an import writes to: *store.Store. Rows in
// one call have distinct, normalised addresses.
type Sink interface {
	ImportBatch(ctx context.Context, rows []store.ImportRow, opt store.ImportOptions) (store.ImportResult, error)
	SuppressBatch(ctx context.Context, rows []store.SuppressRow) error
}

// shaped is a sink that knows how it is best written to (*store.Store).
type shaped interface {
	ImportShape() (batchSize, writers int)
}

// Options control one import.
type Options struct {
	// ListID is the list the rows are subscribed to.
	ListID int64
	// Status, when set (confirmed or unconfirmed), applies to every row the
	// file does not mark as unsubscribed. When empty, a status column in the
	// file decides, and DefaultStatus applies where it does not.
	Status model.SubscriptionStatus
	// Mode says what happens to addresses that already exist; upsert when empty.
	Mode store.ImportMode
	// BatchSize is the number of rows per transaction. When zero, the
	// sink's ImportShape says, if it has one, else DefaultBatchSize.
	BatchSize int
	// Writers is the number of batches written at once, each in its own
	// transaction; 1 when zero. More than one suits a database that takes
	// concurrent writers (PostgreSQL): batches never share an address, so
	// they cannot conflict, but they may commit out of order. When zero,
	// the sink's ImportShape says, if it has one, else 1.
	Writers int
	// MaxRecordBytes bounds one record; DefaultMaxRecordBytes when zero.
	MaxRecordBytes int
	// OnReject is called for every rejected row, one call at a time: the
	// rows the file gets wrong in line order as they are read, the rows the
	// store refuses (erased addresses) as their batch is written. An error
	// it returns stops the import.
	OnReject func(Reject) error
	// OnHeader is called once with the header row, before any row is read
	// (a rejects file can name the columns). An error it returns stops the
	// import.
	OnHeader func(header []string) error
	// OnRead is called with the number of bytes read from the input each
	// time the reader takes more, for a progress display.
	OnRead func(n int64)
	// OnBatch is called after each batch is written, with the totals so far
	// (Rows is not filled in). It runs on the writing goroutine.
	OnBatch func(Result)
	// Observer, when set, hears the import start and end and its rows
	// counted as they go (metrics).
	Observer Observer
}

// Observer hears how imports go while they run. Its methods must return
// quickly; they are called from the import's goroutines.
type Observer interface {
	// ImportRunning is called with +1 when an import starts and -1 when
	// it ends, however it ends.
	ImportRunning(delta int)
	// ImportRows counts rows as they are written or rejected: result is
	// "imported" (new subscribers), "updated", "skipped" or "rejected".
	ImportRows(result string, n int)
}

// Reject is one row that was not imported.
type Reject struct {
	Line   int      // physical line where the record starts (the header is line 1)
	Reason string   // why, for a person
	Fields []string // the record's fields as read (nil when the record could not be parsed)
}

// Result counts what an import did.
type Result struct {
	Rows       int // data records read (not counting the header)
	Imported   int // new subscribers
	Updated    int // existing subscribers updated
	Skipped    int // existing subscribers left alone
	Suppressed int // rows marking people who left, put on the suppression list
	Rejected   int // rows not imported
}

// String is the summary line printed at the end of an import.
func (r Result) String() string {
	return fmt.Sprintf("imported %d, updated %d, skipped %d, suppressed %d, rejected %d",
		r.Imported, r.Updated, r.Skipped, r.Suppressed, r.Rejected)
}

// erasedReason is why a row whose address was erased is rejected.
const erasedReason = "the address was erased at its owner's request, so it is not imported " +
	"(Herald keeps only its hash, to keep it out; lift it under Suppressions only if they ask to come back)"

// Import reads CSV from in and writes its rows to sink. It returns the
// counts and, when the file could not be read to its end or the store
// failed, an error (rows in batches already written stay written).
// Rejected rows are not an error: Result.Rejected counts them.
func Import(ctx context.Context, in io.Reader, sink Sink, opt Options) (Result, error) {
	if opt.Mode == "" {
		opt.Mode = store.ImportUpsert
	}
	if !opt.Mode.Valid() {
		return Result{}, fmt.Errorf("unknown import mode %q (expected upsert or skip-existing)", opt.Mode)
	}
	if opt.Status != "" && opt.Status != model.SubConfirmed && opt.Status != model.SubUnconfirmed {
		return Result{}, fmt.Errorf("an import's status must be confirmed or unconfirmed, not %q", opt.Status)
	}
	if sh, ok := sink.(shaped); ok {
		batchSize, writers := sh.ImportShape()
		if opt.BatchSize <= 0 {
			opt.BatchSize = batchSize
		}
		if opt.Writers <= 0 {
			opt.Writers = writers
		}
	}
	if opt.BatchSize <= 0 {
		opt.BatchSize = DefaultBatchSize
	}
	if opt.Writers <= 0 {
		opt.Writers = 1
	}
	if opt.MaxRecordBytes <= 0 {
		opt.MaxRecordBytes = DefaultMaxRecordBytes
	}
	if onReject := opt.OnReject; onReject != nil {
		// The reader and the writer both reject rows: one call at a time.
		var mu sync.Mutex
		opt.OnReject = func(r Reject) error {
			mu.Lock()
			defer mu.Unlock()
			return onReject(r)
		}
	}
	if opt.Observer != nil {
		opt.Observer.ImportRunning(1)
		defer opt.Observer.ImportRunning(-1)
	}

	lim := &limitReader{r: in, max: int64(opt.MaxRecordBytes) + readBufferSize, onRead: opt.OnRead}
	br := bufio.NewReaderSize(lim, readBufferSize)
	if bom, err := br.Peek(3); err == nil && string(bom) == "\uFEFF" {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // ragged rows are rejected one by one, not fatal
	cr.ReuseRecord = true

	header, err := cr.Read()
	switch {
	case errors.Is(err, io.EOF):
		return Result{}, errors.New("the file is empty: expected a header row naming the columns (email, name, ...)")
	case errors.Is(err, errLimit):
		return Result{}, fmt.Errorf("%w: the header row is longer than %d bytes", ErrRecordTooLarge, opt.MaxRecordBytes)
	case err != nil:
		return Result{}, fmt.Errorf("%w: %s", ErrBadHeader, csvReason(err))
	}
	l, err := parseHeader(append([]string(nil), header...))
	if err != nil {
		return Result{}, err
	}
	if opt.OnHeader != nil {
		if err := opt.OnHeader(l.header); err != nil {
			return Result{}, err
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := &writer{sink: sink, opt: opt, cancel: cancel}
	batches := make(chan *batch, 1)
	free := make(chan *batch, 2+opt.Writers)
	var writers sync.WaitGroup
	for range opt.Writers {
		writers.Go(func() { w.run(ctx, batches, free) })
	}

	p := newParser(l, opt.Status)
	res, readErr := p.readAll(ctx, cr, lim, opt, &w.rejected, batches, free)
	close(batches)
	writers.Wait()
	res.Imported, res.Updated, res.Skipped, res.Suppressed = w.res.Imported, w.res.Updated, w.res.Skipped, w.suppressed
	res.Rejected += w.erased
	if w.err != nil {
		return res, w.err
	}
	if readErr != nil {
		return res, readErr
	}
	return res, ctx.Err()
}

// readAll parses records until the end of the file, sending full batches to
// the writer. It returns the rows read and rejected.
func (p *parser) readAll(ctx context.Context, cr *csv.Reader, lim *limitReader, opt Options,
	rejected *atomic.Int64, batches chan<- *batch, free chan *batch) (Result, error) {
	var res Result
	nextLine := 2 // where the next record starts, at the earliest
	reject := func(r Reject) error {
		res.Rejected++
		rejected.Add(1)
		if opt.Observer != nil {
			opt.Observer.ImportRows("rejected", 1)
		}
		if opt.OnReject != nil {
			return opt.OnReject(r)
		}
		return nil
	}
	b := newBatch(free)
	var send func() error
	// On a read error the rows before it are still written, so "imported
	// N" covers every good row up to the line named in the error.
	fail := func(err error) (Result, error) {
		if b.n > 0 && ctx.Err() == nil {
			_ = send()
		}
		return res, err
	}
	send = func() error {
		select {
		case batches <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
		b = newBatch(free)
		return nil
	}
	for {
		lim.reset()
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && errors.Is(err, csv.ErrQuote) && pe.Line > pe.StartLine {
				return fail(fmt.Errorf("%w: the quote opened on line %d runs to line %d; the import stopped there, rows before it are in",
					ErrUnclosedQuote, pe.StartLine, pe.Line))
			}
			if errors.As(err, &pe) {
				res.Rows++
				nextLine = pe.Line + 1
				if err := reject(Reject{Line: pe.StartLine, Reason: csvReason(err)}); err != nil {
					return res, err
				}
				continue
			}
			if errors.Is(err, errLimit) {
				return fail(fmt.Errorf("%w: the record starting at line %d or just after is longer than %d bytes (is a closing quote missing?)",
					ErrRecordTooLarge, nextLine, opt.MaxRecordBytes))
			}
			return fail(fmt.Errorf("read the file: %w", err))
		}
		res.Rows++
		line, _ := cr.FieldPos(0)
		last := len(rec) - 1
		endLine, _ := cr.FieldPos(last)
		nextLine = endLine + strings.Count(rec[last], "\n") + 1

		if reason := p.add(b, rec, line); reason != "" {
			if err := reject(Reject{Line: line, Reason: reason, Fields: append([]string(nil), rec...)}); err != nil {
				return res, err
			}
			continue
		}
		if b.n >= opt.BatchSize {
			if err := send(); err != nil {
				return res, err
			}
		}
	}
	if b.n > 0 {
		if err := send(); err != nil {
			return res, err
		}
	}
	return res, nil
}

// csvReason words a CSV syntax error for a person.
func csvReason(err error) string {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return err.Error()
	}
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return fmt.Sprintf("a quote (\") inside an unquoted field, at line %d column %d (quote the whole field and double the quote)", pe.Line, pe.Column)
	case errors.Is(pe.Err, csv.ErrQuote):
		return fmt.Sprintf("a quoted field is not closed properly, at line %d column %d", pe.Line, pe.Column)
	}
	return fmt.Sprintf("the CSV is malformed at line %d column %d: %v", pe.Line, pe.Column, pe.Err)
}

// batch collects the rows of one transaction, grouped by the subscription
// status they are imported with, and the addresses to suppress. Attribute
// JSON lives in one arena.
type batch struct {
	confirmed, unconfirmed []store.ImportRow
	suppress               []store.SuppressRow
	n                      int
	arena                  []byte
}

func newBatch(free chan *batch) *batch {
	select {
	case b := <-free:
		return b
	default:
		return &batch{}
	}
}

// writer writes batches to the sink on goroutines of its own (Writers of
// them), so parsing and writing overlap.
type writer struct {
	sink     Sink
	opt      Options
	cancel   context.CancelFunc
	rejected atomic.Int64 // counted by the reader and the writers, read for OnBatch

	mu         sync.Mutex // guards what follows, and OnBatch's calls
	res        store.ImportResult
	suppressed int
	erased     int // rows the store refused: their address was erased
	err        error
}

// failed reports whether a writer has failed.
func (w *writer) failed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err != nil
}

// fail records the first error and stops the import.
func (w *writer) fail(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
	w.cancel()
}

func (w *writer) run(ctx context.Context, batches <-chan *batch, free chan<- *batch) {
	for b := range batches {
		if !w.failed() { // else drain, so the reader never blocks
			w.write(ctx, b)
		}
		clear(b.confirmed)
		clear(b.unconfirmed)
		clear(b.suppress)
		b.confirmed, b.unconfirmed, b.suppress = b.confirmed[:0], b.unconfirmed[:0], b.suppress[:0]
		b.n, b.arena = 0, b.arena[:0]
		select {
		case free <- b:
		default:
		}
	}
}

// write writes one batch: its suppressions, then its rows by status.
func (w *writer) write(ctx context.Context, b *batch) {
	if len(b.suppress) > 0 {
		if err := w.sink.SuppressBatch(ctx, b.suppress); err != nil {
			w.fail(err)
			return
		}
		w.mu.Lock()
		w.suppressed += len(b.suppress)
		w.mu.Unlock()
		if obs := w.opt.Observer; obs != nil {
			obs.ImportRows("suppressed", len(b.suppress))
		}
	}
	for _, g := range []struct {
		rows   []store.ImportRow
		status model.SubscriptionStatus
	}{{b.confirmed, model.SubConfirmed}, {b.unconfirmed, model.SubUnconfirmed}} {
		if len(g.rows) == 0 {
			continue
		}
		r, err := w.sink.ImportBatch(ctx, g.rows, store.ImportOptions{
			ListID: w.opt.ListID, Status: g.status, Mode: w.opt.Mode, Source: model.SourceImport,
		})
		if err != nil {
			w.fail(fmt.Errorf("write lines %d to %d: %w", g.rows[0].Line, g.rows[len(g.rows)-1].Line, err))
			return
		}
		w.mu.Lock()
		w.res = w.res.Add(r)
		w.erased += len(r.Erased)
		w.mu.Unlock()
		if err := w.rejectErased(r.Erased); err != nil {
			w.fail(err)
			return
		}
		if obs := w.opt.Observer; obs != nil {
			obs.ImportRows("imported", r.Imported)
			obs.ImportRows("updated", r.Updated)
			obs.ImportRows("skipped", r.Skipped)
		}
	}
	if w.opt.OnBatch != nil {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.err == nil {
			w.opt.OnBatch(Result{Imported: w.res.Imported, Updated: w.res.Updated, Skipped: w.res.Skipped,
				Suppressed: w.suppressed, Rejected: int(w.rejected.Load())})
		}
	}
}

// rejectErased reports the rows the store refused because their address
// was erased.
func (w *writer) rejectErased(lines []int) error {
	if obs := w.opt.Observer; obs != nil && len(lines) > 0 {
		obs.ImportRows("rejected", len(lines))
	}
	for _, line := range lines {
		w.rejected.Add(1)
		if w.opt.OnReject != nil {
			if err := w.opt.OnReject(Reject{Line: line, Reason: erasedReason}); err != nil {
				return err
			}
		}
	}
	return nil
}

// parser turns records into import rows.
type parser struct {
	l      *layout
	forced model.SubscriptionStatus
	now    time.Time // for refusing signup dates in the future
	seed   maphash.Seed
	seen   *seenSet // hashes of the normalised addresses so far, with their first lines

	scratch bytes.Buffer
	enc     *json.Encoder
}

func newParser(l *layout, forced model.SubscriptionStatus) *parser {
	p := &parser{l: l, forced: forced, now: time.Now(), seed: maphash.MakeSeed(), seen: newSeenSet()}
	p.enc = json.NewEncoder(&p.scratch)
	p.enc.SetEscapeHTML(false)
	return p
}

// add validates one record and appends it to b; it returns why the record
// was rejected, or "".
func (p *parser) add(b *batch, rec []string, line int) string {
	l := p.l
	if len(rec) != len(l.header) {
		return fmt.Sprintf("the row has %d fields but the header has %d", len(rec), len(l.header))
	}
	for i, f := range rec {
		if !utf8.ValidString(f) {
			return fmt.Sprintf("column %d (%s) is not valid UTF-8 text; save the file as UTF-8", i+1, l.header[i])
		}
	}
	email, err := address.Normalize(rec[l.email])
	if err != nil {
		return fmt.Sprintf("bad email address %q: %v", rec[l.email], err)
	}
	sig, said, reason := l.rowStatus(rec)
	if reason != "" {
		return reason
	}
	if sig == signalArchived {
		return "the file marks this address as archived (neither subscribed nor unsubscribed); it is not imported"
	}
	leaves, left := leaving[sig]
	var start time.Time
	if !left {
		if start, reason = l.signupTime(rec, p.now); reason != "" {
			return reason
		}
	}
	mark := len(b.arena)
	var attrs []byte
	if !left {
		if attrs, reason = p.attributes(b, rec); reason != "" {
			b.arena = b.arena[:mark]
			return reason
		}
	}
	h := maphash.String(p.seed, email)
	if first, dup := p.seen.lookup(h); dup {
		b.arena = b.arena[:mark]
		return fmt.Sprintf("duplicate of line %d", first)
	}
	p.seen.add(h, int32(line))
	if left {
		b.suppress = append(b.suppress, store.SuppressRow{Line: line, Email: email, Reason: leaves, Detail: "import: " + said})
		b.n++
		return ""
	}
	status := sig.resolve(p.forced)
	row := store.ImportRow{Line: line, Email: email, Name: p.name(rec), Attributes: attrs, Start: start}
	if status == model.SubUnconfirmed {
		b.unconfirmed = append(b.unconfirmed, row)
	} else {
		b.confirmed = append(b.confirmed, row)
	}
	b.n++
	return ""
}

// name is the record's name on one line: spreadsheets let a cell hold line
// breaks, and a name goes into mail headers, where one cannot. A name that
// Herald's own export wrote with an apostrophe against formulas (csvsafe)
// comes back as it was.
func (p *parser) name(rec []string) string {
	l := p.l
	if l.name >= 0 {
		return oneLine(csvsafe.Unescape(rec[l.name]))
	}
	var first, last string
	if l.first >= 0 {
		first = oneLine(csvsafe.Unescape(rec[l.first]))
	}
	if l.last >= 0 {
		last = oneLine(csvsafe.Unescape(rec[l.last]))
	}
	if first == "" || last == "" {
		return first + last
	}
	return first + " " + last
}

// oneLine folds every run of white space (line breaks and tabs included)
// into one space and trims the ends.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// attributes appends the record's attributes, as a canonical JSON object
// (keys sorted, no HTML escaping), to the batch arena and returns them; nil
// when the record has none.
func (p *parser) attributes(b *batch, rec []string) ([]byte, string) {
	l := p.l
	start := len(b.arena)
	if l.attributes >= 0 && strings.TrimSpace(rec[l.attributes]) != "" {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(rec[l.attributes]), &m); err != nil {
			return nil, fmt.Sprintf("the %s column does not hold a JSON object", l.header[l.attributes])
		}
		for _, c := range l.attrCols {
			if v := strings.TrimSpace(rec[c.index]); v != "" {
				if m == nil {
					m = make(map[string]json.RawMessage)
				}
				m[c.key] = p.appendString(nil, v)
			}
		}
		if raw, ok := m[model.TimeZoneAttribute]; ok {
			var zone string
			if err := json.Unmarshal(raw, &zone); err != nil {
				return nil, "attribute " + model.TimeZoneAttribute + ": give a time zone name such as Europe/London, in quotes"
			}
			if _, err := model.LoadZone(zone); err != nil {
				return nil, "attribute " + model.TimeZoneAttribute + ": " + err.Error()
			}
		}
		if len(m) == 0 {
			return nil, ""
		}
		p.scratch.Reset()
		if err := p.enc.Encode(m); err != nil {
			return nil, fmt.Sprintf("the %s column does not hold a JSON object", l.header[l.attributes])
		}
		b.arena = append(b.arena, bytes.TrimRight(p.scratch.Bytes(), "\n")...)
		return b.arena[start:len(b.arena):len(b.arena)], ""
	}
	for _, c := range l.attrCols {
		v := strings.TrimSpace(rec[c.index])
		if v == "" {
			continue
		}
		if c.key == model.TimeZoneAttribute {
			if _, err := model.LoadZone(v); err != nil {
				b.arena = b.arena[:start]
				return nil, "attribute " + model.TimeZoneAttribute + ": " + err.Error()
			}
		}
		if len(b.arena) == start {
			b.arena = append(b.arena, '{')
		} else {
			b.arena = append(b.arena, ',')
		}
		b.arena = p.appendString(b.arena, c.key)
		b.arena = append(b.arena, ':')
		b.arena = p.appendString(b.arena, v)
	}
	if len(b.arena) == start {
		return nil, ""
	}
	b.arena = append(b.arena, '}')
	return b.arena[start:len(b.arena):len(b.arena)], ""
}

// appendString appends s as a JSON string, exactly as encoding/json writes
// it with HTML escaping off, so attributes read from a JSON column and from
// plain columns are encoded alike.
func (p *parser) appendString(dst []byte, s string) []byte {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			plain = false
			break
		}
	}
	if plain {
		dst = append(dst, '"')
		dst = append(dst, s...)
		return append(dst, '"')
	}
	p.scratch.Reset()
	_ = p.enc.Encode(s) // a string always encodes
	return append(dst, bytes.TrimRight(p.scratch.Bytes(), "\n")...)
}

// errLimit is returned by limitReader when one record has taken too many
// bytes.
var errLimit = errors.New("record longer than the limit")

// limitReader counts the bytes read since the last reset (the start of the
// current record, give or take the read-ahead buffer) and fails past max.
type limitReader struct {
	r      io.Reader
	n, max int64
	onRead func(int64)
}

func (l *limitReader) reset() { l.n = 0 }

func (l *limitReader) Read(b []byte) (int, error) {
	if l.n >= l.max {
		return 0, errLimit
	}
	if int64(len(b)) > l.max-l.n {
		b = b[:l.max-l.n]
	}
	n, err := l.r.Read(b)
	l.n += int64(n)
	if n > 0 && l.onRead != nil {
		l.onRead(int64(n))
	}
	return n, err
}
