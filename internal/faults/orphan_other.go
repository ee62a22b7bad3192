//go:build !linux

package faults

import "os/exec"

// dieWithParent needs Linux's parent-death signal; elsewhere nodes are only
// killed by the test's own cleanup.
func dieWithParent(*exec.Cmd) {}
