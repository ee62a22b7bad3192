package progress_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/progress"
)

// syncBuffer lets the ticker goroutine and the test share a buffer.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestLinesMode(t *testing.T) {
	var out syncBuffer
	r := progress.New(&out, progress.Options{Description: "importing", Total: 2_000_000, Bytes: true, Interval: 10 * time.Millisecond})
	r.Add(1_000_000)
	r.SetStatus("5 imported")
	// Wait for a periodic line rather than sleeping a fixed time.
	for !strings.Contains(out.String(), "of 2.0 MB (50%)") {
		time.Sleep(5 * time.Millisecond)
	}
	r.Printf("line %d: bad", 7)
	r.Add(1_000_000)
	r.Finish()
	r.Finish() // a second call does nothing
	got := out.String()
	lines := strings.Split(strings.TrimSpace(got), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "importing: done, 2.0 MB, ") || !strings.HasSuffix(last, ", 5 imported") {
		t.Errorf("last line %q", last)
	}
	if !strings.Contains(got, "line 7: bad\n") || !strings.Contains(got, "importing: 1.0 MB of 2.0 MB (50%)") {
		t.Errorf("output:\n%s", got)
	}
	if progress.IsTerminal(&out) {
		t.Error("a buffer is not a terminal")
	}
}

func TestBarMode(t *testing.T) {
	var out syncBuffer
	r := progress.New(&out, progress.Options{Description: "sending", Unit: "messages", Mode: progress.Bar})
	r.Add(3)
	r.SetStatus("1 failed")
	r.Printf("relay down")
	r.Finish()
	got := out.String()
	if !strings.Contains(got, "sending (1 failed)") || !strings.Contains(got, "relay down") {
		t.Errorf("bar output %q", got)
	}
	if r.Done() != 3 {
		t.Errorf("done = %d", r.Done())
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1000: "1.0 kB", 1_500_000: "1.5 MB", 3_200_000_000: "3.2 GB"} {
		if got := progress.FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
