//go:build unix

package mailer

import (
	"errors"
	"net"
	"syscall"
)

// peerSpoke reports whether anything waits to be read on an idle pooled
// connection: the relay closed it (a restart, an idle timeout) or said
// something unasked, such as a 421. Either way the session is over, and
// nothing was sent on it yet. It peeks at the socket without blocking or
// taking anything from it.
func peerSpoke(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	spoke := false
	err = rc.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		spoke = n > 0 || err == nil || !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EINTR)
		return true
	})
	return err == nil && spoke
}
