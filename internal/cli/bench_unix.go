//go:build unix

package cli

import (
	"runtime"
	"syscall"
	"time"
)

// maxRSS returns the process's peak resident set size, as the kernel
// counts it.
func maxRSS() string {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return "unknown"
	}
	rss := uint64(ru.Maxrss) // kilobytes on Linux, bytes on macOS
	if runtime.GOOS != "darwin" {
		rss *= 1024
	}
	return mib(rss)
}

// cpuTime is the CPU time the process has used so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
