//go:build !unix

package engage

import "os"

// lockDir cannot lock on this system: every process owns the folder (run
// one Herald process per data folder).
func lockDir(dir string) (own bool, lock *os.File, err error) { return true, nil, nil }
