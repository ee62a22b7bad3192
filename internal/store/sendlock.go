package store

import (
	"errors"
	"fmt"
	"os"
)

// ErrAnotherSender is returned by LockSending when another process already
// sends from the same SQLite database.
var ErrAnotherSender = errors.New("another herald process is already sending from this database (is herald serve running?)")

// LockSending makes this process the only one sending from a SQLite
// database, for as long as it holds the returned release: the delivery
// engine returns every row left in sending to pending when it starts, which
// is right only if no other process is sending. On PostgreSQL any number of
// nodes send, and this does nothing.
func (s *Store) LockSending() (release func() error, err error) {
	if s.dialect != dialectSQLite {
		return func() error { return nil }, nil
	}
	f, err := os.OpenFile(s.path+".sending", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sending lock: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, err
	}
	return f.Close, nil // closing the file releases the lock
}
