package unfurl

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"syscall"
)

// Describe words a failed fetch as a class a person can act on, without
// the details that would make Herald a scanner of other people's networks
// or tell its own: no resolver address, no "connection refused" against
// "connection reset" (which port is open), no raw dial error. A refusal
// says which rule refused the address.
func Describe(err error) string {
	var refused *RefusedError
	var dnsErr *net.DNSError
	var ne net.Error
	var certErr *tls.CertificateVerificationError
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var redirects redirectError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &refused):
		return refused.Error()
	case errors.As(err, &redirects):
		return redirects.Error()
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return fmt.Sprintf("the name %s does not resolve", dnsErr.Name)
		}
		return fmt.Sprintf("the name %s could not be looked up", dnsErr.Name)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "no answer in time"
	case errors.As(err, &certErr), errors.As(err, &unknownAuthority), errors.As(err, &hostname):
		return "its TLS certificate is not valid for it"
	case isTLSFailure(err):
		return "the TLS handshake failed"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET):
		return "the connection closed without an answer"
	case isDial(err):
		return "could not connect"
	}
	return "the request failed"
}

func isDial(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func isTLSFailure(err error) bool {
	var rec tls.RecordHeaderError
	var alert tls.AlertError
	return errors.As(err, &rec) || errors.As(err, &alert)
}

// CheckHost resolves u's host and refuses it when any of its addresses is
// not public (see the package comment), unless allow covers it. It is the
// check made when an address is saved (a webhook receiver, a feed), so an
// editor hears at once what would be refused later; a name that does not
// resolve now is let through (DNS may be down, or the name not published
// yet): the client's dial-time check guards every fetch, whatever the
// name resolves to by then.
func CheckHost(ctx context.Context, u *url.URL, allow []netip.Prefix) error {
	if err := CheckURL(u); err != nil {
		return err
	}
	host := u.Hostname()
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else {
		ips, _ = net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	}
	for _, ip := range ips {
		if err := checkAddr(netip.AddrPortFrom(ip, 0).String(), allow); err != nil {
			var refused *RefusedError
			if errors.As(err, &refused) && refused.Addr != host {
				refused.Addr = host + " (" + refused.Addr + ")"
			}
			return err
		}
	}
	return nil
}

// Everywhere is the allow list that lets every address through: for an
// operator who set an explicit "private receivers allowed" option.
var Everywhere = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}
