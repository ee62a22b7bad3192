package engage

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

// spool is a folder of append-only segment files, one JSON event a line.
// New events go to the active segment; the writer seals it (closes it, so
// the next event starts another) before draining, and drains sealed
// segments oldest first, recording its progress in the database with the
// events (store.RecordSpooled). A line is written with one write call, so
// a kill -9 leaves whole lines; the operating system keeps what was
// written when the process dies.
type spool struct {
	dir  string
	lock *os.File // held while the process runs

	mu     sync.Mutex
	active *os.File
	name   string // the active segment's file name
	offs   map[string]int64
	closed bool
	// empty is set when the folder was last seen without a segment and
	// cleared by every append, so an idle recorder need not list the
	// folder at each window.
	empty bool
	// unreadable is how many lines the last next could not read back (a
	// write cut short, a damaged line): lost, and counted as such.
	unreadable int
}

// spoolLine is an event as the spool stores it.
type spoolLine struct {
	Kind       model.EventKind  `json:"k"`
	Campaign   int64            `json:"c,omitempty"`
	Subscriber int64            `json:"s,omitempty"`
	URL        string           `json:"u,omitempty"`
	Detail     string           `json:"d,omitempty"`
	At         time.Time        `json:"t"`
	Class      model.EventClass `json:"cl,omitempty"`
	Reason     string           `json:"r,omitempty"`
}

const segmentExt = ".events"

func openSpool(dir string) (*spool, error) {
	if dir == "" {
		d, err := os.MkdirTemp("", "herald-spool-")
		if err != nil {
			return nil, fmt.Errorf("event spool: %w", err)
		}
		dir = d
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("event spool folder: %w", err)
	}
	// One process per folder: a second process on the same data folder
	// (a second serve, a command) spools in a folder of its own inside it,
	// which the next process to own the main folder adopts.
	own, lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	if !own {
		var rnd [4]byte
		rand.Read(rnd[:])
		sub := filepath.Join(dir, fmt.Sprintf("node-%d-%s", os.Getpid(), hex.EncodeToString(rnd[:])))
		if err := os.Mkdir(sub, 0o700); err != nil {
			return nil, fmt.Errorf("event spool folder: %w", err)
		}
		if own, lock, err = lockDir(sub); err != nil || !own {
			return nil, fmt.Errorf("event spool folder %s: %w", sub, errors.Join(err, errors.New("locked")))
		}
		return &spool{dir: sub, lock: lock, offs: map[string]int64{}}, nil
	}
	adopt(dir)
	return &spool{dir: dir, lock: lock, offs: map[string]int64{}}, nil
}

// adopt moves into dir the segments of the node folders in it whose
// process is gone (their lock is free), and removes those folders.
func adopt(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "node-") {
			continue
		}
		sub := filepath.Join(dir, e.Name())
		own, lock, err := lockDir(sub)
		if err != nil || !own {
			continue // still in use
		}
		segs, _ := filepath.Glob(filepath.Join(sub, "*"+segmentExt))
		moved := true
		for _, seg := range segs {
			if os.Rename(seg, filepath.Join(dir, filepath.Base(seg))) != nil {
				moved = false
			}
		}
		lock.Close()
		if moved {
			os.RemoveAll(sub)
		}
	}
}

// append writes evs to the active segment in one write call.
func (s *spool) append(evs []model.Event) error {
	var b []byte
	for _, e := range evs {
		line, err := json.Marshal(spoolLine{Kind: e.Kind, Campaign: e.CampaignID, Subscriber: e.SubscriberID, URL: e.URL,
			Detail: e.Detail, At: e.At, Class: e.Class, Reason: e.Reason})
		if err != nil {
			return err
		}
		b = append(append(b, line...), '\n')
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("event spool is closed")
	}
	if s.active == nil {
		var rnd [4]byte
		rand.Read(rnd[:])
		name := fmt.Sprintf("%020d-%s%s", time.Now().UnixNano(), hex.EncodeToString(rnd[:]), segmentExt)
		f, err := os.OpenFile(filepath.Join(s.dir, name), os.O_WRONLY|os.O_CREATE|os.O_APPEND|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("event spool: %w", err)
		}
		s.active, s.name = f, name
	}
	s.empty = false
	if _, err := s.active.Write(b); err != nil {
		return fmt.Errorf("event spool: %w", err)
	}
	return nil
}

// pending reports whether the spool may hold events: false only once the
// folder was seen empty and nothing was appended since.
func (s *spool) pending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.empty
}

// next reads up to batch events of the oldest sealed segment from where the
// database says it stopped, sealing the active segment first when there is
// no other. It returns the segment ("" when the spool is empty), the offset
// it read from and the offset after the events.
func (s *spool) next(ctx context.Context, st *store.Store, batch int) (seg string, off int64, evs []model.Event, next int64, err error) {
	seg, err = s.oldestSealed()
	if err != nil || seg == "" {
		return "", 0, nil, 0, err
	}
	s.mu.Lock()
	off, known := s.offs[seg]
	s.mu.Unlock()
	if !known {
		if off, err = st.SpoolDone(ctx, seg); err != nil {
			return "", 0, nil, 0, err
		}
	}
	f, err := os.Open(filepath.Join(s.dir, seg))
	if err != nil {
		return "", 0, nil, 0, fmt.Errorf("event spool: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return "", 0, nil, 0, fmt.Errorf("event spool: %w", err)
	}
	rd := bufio.NewReaderSize(f, 64<<10)
	next = off
	s.unreadable = 0
	for len(evs) < batch {
		line, err := rd.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			// A sealed segment ends with a whole line; a partial one is a
			// write cut short and cannot be read back.
			next += int64(len(line))
			if len(line) > 0 {
				s.unreadable++
			}
			break
		}
		if err != nil {
			return "", 0, nil, 0, fmt.Errorf("event spool: %w", err)
		}
		next += int64(len(line))
		var l spoolLine
		if err := json.Unmarshal(line, &l); err != nil {
			s.unreadable++ // counted as lost by drain once the offsets move past it
			continue
		}
		evs = append(evs, model.Event{Kind: l.Kind, CampaignID: l.Campaign, SubscriberID: l.Subscriber, URL: l.URL,
			Detail: l.Detail, At: l.At, Class: l.Class, Reason: l.Reason})
	}
	return seg, off, evs, next, nil
}

// advanced notes that seg is written up to next, removing it once whole.
func (s *spool) advanced(ctx context.Context, st *store.Store, seg string, off, next int64) error {
	fi, err := os.Stat(filepath.Join(s.dir, seg))
	if err != nil {
		return fmt.Errorf("event spool: %w", err)
	}
	if next < fi.Size() {
		s.mu.Lock()
		s.offs[seg] = next
		s.mu.Unlock()
		return nil
	}
	if err := os.Remove(filepath.Join(s.dir, seg)); err != nil {
		return fmt.Errorf("event spool: %w", err)
	}
	s.mu.Lock()
	delete(s.offs, seg)
	s.mu.Unlock()
	return st.ForgetSpool(ctx, seg)
}

// oldestSealed returns the oldest segment not being written, sealing the
// active one when it is the only one.
func (s *spool) oldestSealed() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return "", fmt.Errorf("event spool: %w", err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), segmentExt) && e.Name() != s.name {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 && s.active != nil {
		if err := s.active.Close(); err != nil {
			return "", fmt.Errorf("event spool: %w", err)
		}
		names = append(names, s.name)
		s.active, s.name = nil, ""
	}
	if len(names) == 0 {
		s.empty = true
		return "", nil
	}
	sort.Strings(names)
	return names[0], nil
}

// close closes the active segment; it stays for the next start.
func (s *spool) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	var err error
	if s.active != nil {
		err = s.active.Close()
		s.active, s.name = nil, ""
	}
	if s.lock != nil {
		s.lock.Close()
		s.lock = nil
	}
	return err
}
