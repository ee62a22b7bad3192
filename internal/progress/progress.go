// Package progress reports how far a long job (an import, a send) has got.
// On a terminal it draws a progress bar; anywhere else (a log file, a pipe,
// a service manager) it writes a plain line every few seconds and one at the
// end, so logs stay readable. A Reporter is safe for concurrent use; Finish
// must be called once when the job ends, and stops everything it started.
package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Mode chooses how progress is shown.
type Mode int

// Modes.
const (
	// Auto draws a bar when the writer is a terminal and writes lines otherwise.
	Auto Mode = iota
	// Bar always draws a progress bar.
	Bar
	// Lines always writes plain progress lines.
	Lines
)

// DefaultInterval is the time between two plain progress lines.
const DefaultInterval = 2 * time.Second

// Options describe a job's progress display.
type Options struct {
	// Description names the job, e.g. "importing".
	Description string
	// Total is the amount of work when known (bytes or items); zero or
	// negative means unknown.
	Total int64
	// Bytes says the counts are bytes, shown as kB, MB, ...
	Bytes bool
	// Unit names the items counted when Bytes is false, e.g. "messages".
	Unit string
	// Mode chooses bar or lines; Auto looks at the writer.
	Mode Mode
	// Interval is the time between plain lines; DefaultInterval when zero.
	Interval time.Duration
}

// Reporter shows one job's progress.
type Reporter struct {
	w     io.Writer
	opt   Options
	start time.Time
	done  atomic.Int64

	bar *progressbar.ProgressBar // nil in line mode

	mu       sync.Mutex // guards status, finished and writes in line mode
	status   string
	finished bool
	stop     chan struct{}
	stopped  chan struct{}
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// New starts showing progress on w (usually os.Stderr).
func New(w io.Writer, opt Options) *Reporter {
	if opt.Interval <= 0 {
		opt.Interval = DefaultInterval
	}
	if opt.Unit == "" && !opt.Bytes {
		opt.Unit = "items"
	}
	r := &Reporter{w: w, opt: opt, start: time.Now()}
	mode := opt.Mode
	if mode == Auto {
		mode = Lines
		if IsTerminal(w) {
			mode = Bar
		}
	}
	if mode == Bar {
		r.bar = r.newBar()
		return r
	}
	r.stop = make(chan struct{})
	r.stopped = make(chan struct{})
	go r.tick()
	return r
}

func (r *Reporter) newBar() *progressbar.ProgressBar {
	total := r.opt.Total
	if total <= 0 {
		total = -1
	}
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(r.w),
		progressbar.OptionSetDescription(r.opt.Description),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionThrottle(100 * time.Millisecond),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(r.w) }),
	}
	if r.opt.Bytes {
		opts = append(opts, progressbar.OptionShowBytes(true))
	} else {
		opts = append(opts, progressbar.OptionShowIts(), progressbar.OptionSetItsString(r.opt.Unit))
	}
	return progressbar.NewOptions64(total, opts...)
}

// Add records n more units of work done.
func (r *Reporter) Add(n int64) {
	r.done.Add(n)
	if r.bar != nil {
		// The bar refuses to go past its total; a total that was an
		// estimate must not turn into an error.
		if t := r.opt.Total; t > 0 && r.done.Load() > t {
			return
		}
		_ = r.bar.Add64(n)
	}
}

// Done returns the work recorded so far.
func (r *Reporter) Done() int64 { return r.done.Load() }

// SetStatus sets a short text shown after the progress, e.g.
// "12,000 imported, 3 rejected".
func (r *Reporter) SetStatus(s string) {
	r.mu.Lock()
	r.status = s
	r.mu.Unlock()
	if r.bar != nil {
		r.bar.Describe(r.describe(s))
	}
}

func (r *Reporter) describe(status string) string {
	if status == "" {
		return r.opt.Description
	}
	return r.opt.Description + " (" + status + ")"
}

// Printf writes one message line without breaking the bar; in line mode it
// is written as is.
func (r *Reporter) Printf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	if r.bar != nil {
		_, _ = progressbar.Bprintf(r.bar, "%s", msg)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, _ = io.WriteString(r.w, msg)
}

// Finish ends the display: the bar is completed, or a last line written.
// Calling it again does nothing.
func (r *Reporter) Finish() {
	r.mu.Lock()
	if r.finished {
		r.mu.Unlock()
		return
	}
	r.finished = true
	r.mu.Unlock()
	if r.bar != nil {
		_ = r.bar.Finish()
		return
	}
	close(r.stop)
	<-r.stopped
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writeLine(true)
}

func (r *Reporter) tick() {
	defer close(r.stopped)
	t := time.NewTicker(r.opt.Interval)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			r.mu.Lock()
			r.writeLine(false)
			r.mu.Unlock()
		}
	}
}

// writeLine writes one plain progress line; r.mu is held.
func (r *Reporter) writeLine(final bool) {
	done := r.done.Load()
	elapsed := time.Since(r.start)
	var b strings.Builder
	b.WriteString(r.opt.Description)
	b.WriteString(": ")
	if final {
		b.WriteString("done, ")
	}
	b.WriteString(r.amount(done))
	if t := r.opt.Total; t > 0 && !final {
		fmt.Fprintf(&b, " of %s (%d%%)", r.amount(t), min(100, done*100/t))
	}
	if secs := elapsed.Seconds(); secs > 0 {
		fmt.Fprintf(&b, ", %s/s", r.amount(int64(float64(done)/secs)))
	}
	fmt.Fprintf(&b, ", %s", elapsed.Round(100*time.Millisecond))
	if r.status != "" {
		b.WriteString(", ")
		b.WriteString(r.status)
	}
	b.WriteByte('\n')
	_, _ = io.WriteString(r.w, b.String())
}

func (r *Reporter) amount(n int64) string {
	if r.opt.Bytes {
		return FormatBytes(n)
	}
	return fmt.Sprintf("%d %s", n, r.opt.Unit)
}

// FormatBytes writes n bytes with a decimal unit: "512 B", "1.5 MB".
func FormatBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}
