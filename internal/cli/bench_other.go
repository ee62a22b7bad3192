//go:build !unix

package cli

import "time"

// maxRSS is not measured where getrusage does not exist.
func maxRSS() string { return "not measured on this system" }

// cpuTime is not measured on this system.
func cpuTime() time.Duration { return 0 }
