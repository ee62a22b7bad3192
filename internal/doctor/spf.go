package doctor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// An spfResult is what an SPF record says of one sending address (RFC 7208
// section 2.6).
type spfResult string

const (
	spfPass      spfResult = "pass"
	spfFail      spfResult = "fail"
	spfSoftFail  spfResult = "softfail"
	spfNeutral   spfResult = "neutral"
	spfNone      spfResult = "none"
	spfPermError spfResult = "permerror"
	spfTempError spfResult = "temperror"
)

// spfLookupLimit is RFC 7208's limit on DNS-querying terms in one check.
const spfLookupLimit = 10

// spfRecord returns domain's one SPF record: "" when there is none, an error
// when there are several (a permanent error to receivers) or DNS fails.
func (c *checker) spfRecord(ctx context.Context, domain string) (string, error) {
	txts, err := c.txt(ctx, domain)
	if err != nil {
		return "", err
	}
	var found []string
	for _, t := range txts {
		if strings.EqualFold(t, "v=spf1") || strings.HasPrefix(strings.ToLower(t), "v=spf1 ") {
			found = append(found, t)
		}
	}
	switch len(found) {
	case 0:
		return "", nil
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("%s has %d SPF records; receivers treat that as an error: merge them into one", domain, len(found))
}

// spfEval evaluates domain's SPF policy for ip, following include and
// redirect. It also reports the domains included on the way, which is how
// an email provider's sending IPs are authorised.
type spfEval struct {
	c        *checker
	lookups  int
	included []string
}

func (e *spfEval) check(ctx context.Context, ip netip.Addr, domain string) (spfResult, error) {
	rec, err := e.c.spfRecord(ctx, domain)
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) {
			return spfTempError, err
		}
		return spfPermError, err
	}
	if rec == "" {
		return spfNone, nil
	}
	var redirect string
	for _, term := range strings.Fields(rec)[1:] {
		if k, v, ok := strings.Cut(term, "="); ok && !strings.ContainsAny(k, ":/") {
			if strings.EqualFold(k, "redirect") {
				redirect = v
			}
			continue // exp= and unknown modifiers
		}
		qual := spfPass
		switch term[0] {
		case '+':
			term = term[1:]
		case '-':
			qual, term = spfFail, term[1:]
		case '~':
			qual, term = spfSoftFail, term[1:]
		case '?':
			qual, term = spfNeutral, term[1:]
		}
		name, arg, _ := strings.Cut(term, ":")
		name = strings.ToLower(name)
		cidr := ""
		if name != "ip4" && name != "ip6" { // "a/24", "mx:host/24"
			if n, c, ok := strings.Cut(name, "/"); ok {
				name, cidr = n, c
			}
			if a, c, ok := strings.Cut(arg, "/"); ok {
				arg, cidr = a, c
			}
		}
		match, err := e.match(ctx, ip, domain, name, arg, cidr)
		if err != nil {
			return spfPermError, err
		}
		if match {
			return qual, nil
		}
	}
	if redirect != "" {
		if err := e.count(); err != nil {
			return spfPermError, err
		}
		res, err := e.check(ctx, ip, redirect)
		if res == spfNone {
			return spfPermError, fmt.Errorf("redirect=%s has no SPF record", redirect)
		}
		return res, err
	}
	return spfNeutral, nil
}

func (e *spfEval) count() error {
	e.lookups++
	if e.lookups > spfLookupLimit {
		return fmt.Errorf("the SPF record needs more than %d DNS lookups; receivers stop there with an error", spfLookupLimit)
	}
	return nil
}

// match reports whether one mechanism matches ip.
func (e *spfEval) match(ctx context.Context, ip netip.Addr, domain, name, arg, cidr string) (bool, error) {
	switch name {
	case "all":
		return true, nil
	case "ip4", "ip6":
		if !strings.Contains(arg, "/") {
			a, err := netip.ParseAddr(arg)
			if err != nil {
				return false, fmt.Errorf("%s:%s is not an address", name, arg)
			}
			return a == ip, nil
		}
		p, err := netip.ParsePrefix(arg)
		if err != nil {
			return false, fmt.Errorf("%s:%s is not an address range", name, arg)
		}
		return p.Contains(ip), nil
	case "include":
		if err := e.count(); err != nil {
			return false, err
		}
		e.included = append(e.included, strings.ToLower(arg))
		res, err := e.check(ctx, ip, arg)
		switch res {
		case spfPass:
			return true, nil
		case spfPermError, spfTempError, spfNone:
			if err == nil {
				err = fmt.Errorf("include:%s has no SPF record", arg)
			}
			return false, err
		}
		return false, nil
	case "a", "mx":
		if err := e.count(); err != nil {
			return false, err
		}
		target := domain
		if arg != "" {
			target = arg
		}
		hosts := []string{target}
		if name == "mx" {
			mxs, err := e.c.mx(ctx, target)
			if err != nil {
				return false, err
			}
			hosts = hosts[:0]
			for _, m := range mxs {
				hosts = append(hosts, m.Host)
			}
		}
		for _, h := range hosts {
			addrs, err := e.c.addrs(ctx, h)
			if err != nil {
				return false, err
			}
			for _, a := range addrs {
				if inCIDR(a, ip, cidr) {
					return true, nil
				}
			}
		}
		return false, nil
	case "exists", "ptr":
		// Macros and reverse lookups: a receiver may match them, Herald
		// cannot tell; count the lookup and move on.
		return false, e.count()
	}
	return false, fmt.Errorf("the SPF record has an unknown term %q", name)
}

// inCIDR reports whether ip is a, or in a's network of the given prefix
// length ("" for the address alone; "24" or "24//64" as SPF writes them).
func inCIDR(a, ip netip.Addr, cidr string) bool {
	if a.Is4() != ip.Is4() {
		return false
	}
	if cidr == "" {
		return a == ip
	}
	v4, v6, _ := strings.Cut(cidr, "/")
	bits := v4
	if ip.Is6() {
		bits = strings.TrimPrefix(v6, "/")
	}
	var n int
	if _, err := fmt.Sscan(bits, &n); err != nil {
		return a == ip
	}
	p, err := a.Prefix(n)
	return err == nil && p.Contains(ip)
}
