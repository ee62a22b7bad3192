// Package clientip says which address a request came from, for rate
// limits, sign-in throttling and the audit log: the connection's peer, or,
// behind a trusted proxy (trust_proxy), the address the proxy appended
// last to X-Forwarded-For (the one it saw; earlier entries are whatever
// the client claimed).
package clientip

import (
	"net"
	"net/http"
	"strings"
)

// From returns the client address of r.
func From(r *http.Request, trustProxy bool) string {
	if trustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			if ip := strings.TrimSpace(parts[len(parts)-1]); net.ParseIP(ip) != nil {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
