package faults

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill a node if the test process dies first
// (a -timeout panic, say), so no herald outlives its test.
func dieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
