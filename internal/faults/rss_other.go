//go:build !unix

package faults

import "os"

// maxRSS needs getrusage; elsewhere the peak is unknown.
func maxRSS(*os.ProcessState) uint64 { return 0 }
