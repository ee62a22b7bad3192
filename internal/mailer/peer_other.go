//go:build !unix

package mailer

import "net"

// peerSpoke cannot peek at a socket on this system: a pooled session the
// relay closed shows when it is used.
func peerSpoke(net.Conn) bool { return false }
