//go:build unix

package engage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes dir's lock file without waiting: own reports whether this
// process now holds it (keep the file open to hold it).
func lockDir(dir string) (own bool, lock *os.File, err error) {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return false, nil, fmt.Errorf("event spool lock: %w", err)
	}
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		f.Close()
		return false, nil, nil
	}
	if err != nil {
		f.Close()
		return false, nil, fmt.Errorf("event spool lock: %w", err)
	}
	return true, f, nil
}
