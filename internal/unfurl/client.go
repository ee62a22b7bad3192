// Package unfurl fetches web pages safely on an editor's behalf and reads
// what a card or a pick needs from them: title, author, publication and
// image, from OpenGraph, Twitter cards and JSON-LD.
//
// Contract: the HTTP client it builds (NewClient, also used to poll feeds)
// goes only to http and https URLs, refuses to connect to loopback,
// private, link-local and other non-public addresses (checked on the
// resolved IP as the connection is made, so a redirect or a DNS answer that
// changes between checks cannot reach them), follows at most 5 redirects,
// and bounds time and size. Options.Allow lets tests reach an in-process
// server on loopback; Herald never sets it from configuration.
package unfurl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// Options bound what a fetch may do. The zero value takes the defaults.
type Options struct {
	// Timeout bounds a whole fetch, redirects included (default 10s).
	Timeout time.Duration
	// MaxBytes is the most of a body read (default 2 MiB).
	MaxBytes int64
	// MaxRedirects is how many redirects are followed (default and at
	// most 5).
	MaxRedirects int
	// Allow lists address ranges that are otherwise refused but may be
	// reached. For tests only (an in-process server on 127.0.0.1).
	Allow []netip.Prefix
	// UserAgent names Herald to the sites it fetches.
	UserAgent string
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 2 << 20
	}
	if o.MaxRedirects <= 0 || o.MaxRedirects > 5 {
		o.MaxRedirects = 5
	}
	if o.UserAgent == "" {
		o.UserAgent = "Herald (newsletter desk; +https://github.com/herald-news/herald)"
	}
	return o
}

// ErrRefused is returned (wrapped, with the reason) for a URL or address
// Herald will not fetch.
var ErrRefused = errors.New("refused")

// RefusedError says which address was refused and why.
type RefusedError struct {
	Addr   string
	Reason string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("%s is %s: Herald only fetches public addresses", e.Addr, e.Reason)
}

// Unwrap makes errors.Is(err, ErrRefused) true.
func (e *RefusedError) Unwrap() error { return ErrRefused }

// redirectError stops a chain of more redirects than allowed.
type redirectError int

func (e redirectError) Error() string { return fmt.Sprintf("more than %d redirects", int(e)) }

// NewClient returns an HTTP client that keeps to opts and to public
// addresses (see the package comment).
func NewClient(opts Options) *http.Client {
	opts = opts.withDefaults()
	dialer := &net.Dialer{
		Timeout: opts.Timeout,
		Control: func(network, address string, _ syscall.RawConn) error {
			return checkAddr(address, opts.Allow)
		},
	}
	tr := &http.Transport{
		Proxy:                 nil, // a proxy would dial for us, past the check
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   opts.Timeout,
		ResponseHeaderTimeout: opts.Timeout,
		MaxIdleConns:          10,
		IdleConnTimeout:       30 * time.Second,
	}
	return &http.Client{
		Transport: &agent{base: tr, ua: opts.UserAgent},
		Timeout:   opts.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > opts.MaxRedirects {
				return redirectError(opts.MaxRedirects)
			}
			return CheckURL(req.URL)
		},
	}
}

type agent struct {
	base http.RoundTripper
	ua   string
}

func (a *agent) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("User-Agent") == "" {
		r = r.Clone(r.Context())
		r.Header.Set("User-Agent", a.ua)
	}
	return a.base.RoundTrip(r)
}

// CheckURL refuses URLs that are not absolute http(s) URLs with a host.
// Addresses are checked later, when connecting.
func CheckURL(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return &RefusedError{Addr: u.Redacted(), Reason: "not an http or https URL"}
	}
	if u.Hostname() == "" {
		return &RefusedError{Addr: u.Redacted(), Reason: "a URL without a host"}
	}
	if u.User != nil {
		return &RefusedError{Addr: u.Redacted(), Reason: "a URL with a user name or password"}
	}
	return nil
}

// ParseURL parses and checks a URL typed by an editor.
func ParseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return nil, fmt.Errorf("%q is not a web address (it should start with https://)", raw)
	}
	if err := CheckURL(u); err != nil {
		return nil, err
	}
	return u, nil
}

// nonPublic are ranges that are not public unicast but that netip's
// predicates do not name.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: an IPv4 address inside
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2002::/16"),       // 6to4: an IPv4 address inside
	netip.MustParsePrefix("2001::/32"),       // Teredo: an IPv4 address inside
	netip.MustParsePrefix("::/96"),           // IPv4-compatible (deprecated)
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("fec0::/10"),       // old site-local
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
}

// checkAddr refuses a dial to a non-public IP unless allow covers it.
func checkAddr(address string, allow []netip.Prefix) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return &RefusedError{Addr: address, Reason: "not an address"}
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return &RefusedError{Addr: address, Reason: "not an IP address"}
	}
	ip = ip.Unmap()
	for _, p := range allow {
		if p.Contains(ip) {
			return nil
		}
	}
	if reason := classify(ip); reason != "" {
		return &RefusedError{Addr: ip.String(), Reason: reason}
	}
	return nil
}

// classify names why ip is not a public unicast address, or returns "".
func classify(ip netip.Addr) string {
	switch {
	case ip.IsLoopback():
		return "a loopback address"
	case ip.IsPrivate():
		return "a private address"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "a link-local address"
	case ip.IsUnspecified():
		return "an unspecified address"
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return "a multicast address"
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return "a reserved address"
		}
	}
	return ""
}

// Get fetches raw with c (a client from NewClient), after checking that it
// is an http(s) URL, with the extra request headers given.
func Get(ctx context.Context, c *http.Client, raw string, header http.Header) (*http.Response, error) {
	u, err := ParseURL(raw)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%q is not a web address", raw)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return c.Do(req)
}
