//go:build unix

package faults

import (
	"os"
	"runtime"
	"syscall"
)

// maxRSS is the peak resident set size of an exited process in bytes, as
// the kernel counts it, or 0 if unknown.
func maxRSS(ps *os.ProcessState) uint64 {
	if ps == nil {
		return 0
	}
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok || ru == nil {
		return 0
	}
	rss := uint64(ru.Maxrss) // kilobytes on Linux, bytes on macOS
	if runtime.GOOS != "darwin" {
		rss *= 1024
	}
	return rss
}
