// Package doctor checks the DNS records a sending domain needs for its
// mail to be delivered: SPF (does it authorise the relays Herald sends
// through?), the DKIM selector's key (is it the key Herald signs with?),
// DMARC (present, its policy, and whether DKIM or SPF aligns with the From
// domain) and the bounce domain's MX. Each failure comes with the exact
// record to publish. Admin → Settings and `herald doctor` show the same
// checks.
//
// Contract: lookups go to the resolver given (NewResolver: the system's,
// or a DNS server named in configuration, which is how the tests use an
// in-process server on loopback), each bounded by the context.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"

	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/message"
)

// Status is a check's outcome.
type Status string

// Statuses.
const (
	OK   Status = "ok"
	Fail Status = "fail"
	Skip Status = "skip" // nothing to check (no bounce domain, no relay)
)

// A Check is one record's verdict.
type Check struct {
	Name   string // SPF, DKIM, DMARC, MX
	Status Status
	// Detail says what was found, in one line.
	Detail string
	// Fix, on a failure, is the record to publish (zone-file form), or
	// what to change.
	Fix string
}

// Relay is one way mail leaves Herald: an SMTP relay's host, or an email
// provider's API.
type Relay struct {
	Name     string
	Host     string // SMTP relay host name or IP; "" for a provider's API
	Provider string // ses, postmark, sendgrid, mailgun; "" for SMTP
}

// providerSPF is the SPF domain each provider asks its senders to include.
var providerSPF = map[string]string{
	"ses":      "amazonses.com",
	"postmark": "spf.mtasv.net",
	"sendgrid": "sendgrid.net",
	"mailgun":  "mailgun.org",
}

// Options is what to check.
type Options struct {
	FromDomain string // the domain of campaigns' From address
	// EnvelopeDomain is the Return-Path's domain, which SPF is checked
	// for: the bounce domain when one is set, else the From domain.
	EnvelopeDomain string
	BounceDomain   string // "" when none is configured
	Relays         []Relay
	DKIM           *message.DKIM // nil when Herald does not sign
	Resolver       *net.Resolver // nil: the system's
	// Timeout bounds the whole check (default 15s).
	Timeout time.Duration
}

// NewResolver returns a resolver that asks the DNS server at addr
// (host:port, over UDP and, for long answers, TCP), or the system's
// resolver when addr is empty.
func NewResolver(addr string) *net.Resolver {
	if addr == "" {
		return net.DefaultResolver
	}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

type checker struct {
	r *net.Resolver
}

func fqdn(name string) string { return strings.TrimSuffix(name, ".") + "." }

// notFound reports a name or record that does not exist, which is an
// answer, not a failure to get one.
func notFound(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && dnsErr.IsNotFound
}

// lookupError is a failed lookup, said as a sentence (the resolver's own
// error, with its server's address, stays underneath for errors.As).
type lookupError struct {
	kind, name string
	err        error
}

func (e *lookupError) Error() string {
	var dnsErr *net.DNSError
	if errors.As(e.err, &dnsErr) && dnsErr.IsTimeout {
		return fmt.Sprintf("no DNS answer in time for %s %s", e.kind, e.name)
	}
	return fmt.Sprintf("the DNS lookup of %s %s failed", e.kind, e.name)
}

func (e *lookupError) Unwrap() error { return e.err }

func (c *checker) txt(ctx context.Context, name string) ([]string, error) {
	txts, err := c.r.LookupTXT(ctx, fqdn(name))
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, &lookupError{kind: "TXT", name: name, err: err}
	}
	return txts, nil
}

func (c *checker) mx(ctx context.Context, name string) ([]*net.MX, error) {
	mxs, err := c.r.LookupMX(ctx, fqdn(name))
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, &lookupError{kind: "MX", name: name, err: err}
	}
	return mxs, nil
}

func (c *checker) addrs(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip.Unmap()}, nil
	}
	ips, err := c.r.LookupNetIP(ctx, "ip", fqdn(host))
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, &lookupError{kind: "the address of", name: host, err: err}
	}
	for i := range ips {
		ips[i] = ips[i].Unmap()
	}
	return ips, nil
}

// Run checks every record and returns one Check each: SPF, DKIM, DMARC,
// then the bounce domain's MX.
func Run(ctx context.Context, o Options) []Check {
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	o.FromDomain = strings.ToLower(strings.TrimSuffix(o.FromDomain, "."))
	if o.EnvelopeDomain == "" {
		o.EnvelopeDomain = o.FromDomain
	}
	c := &checker{r: o.Resolver}
	spf := c.checkSPF(ctx, o)
	dkim := c.checkDKIM(ctx, o)
	return []Check{spf, dkim, c.checkDMARC(ctx, o, spf.Status == OK, dkim.Status == OK), c.checkMX(ctx, o)}
}

// AllOK reports whether no check failed.
func AllOK(checks []Check) bool {
	for _, c := range checks {
		if c.Status == Fail {
			return false
		}
	}
	return true
}

func (c *checker) checkSPF(ctx context.Context, o Options) Check {
	ck := Check{Name: "SPF"}
	domain := o.EnvelopeDomain
	if len(o.Relays) == 0 {
		ck.Status, ck.Detail = Skip, "no relay is configured (the built-in outbox sends nothing out)"
		return ck
	}
	rec, err := c.spfRecord(ctx, domain)
	if err != nil {
		ck.Status, ck.Detail = Fail, err.Error()
		return ck
	}
	// The mechanism each relay needs, for the fix.
	var need, problems, fine []string
	for _, r := range o.Relays {
		if inc, ok := providerSPF[r.Provider]; ok {
			e := &spfEval{c: c}
			if rec != "" {
				// Any address: only the includes walked matter here.
				_, _ = e.check(ctx, netip.IPv4Unspecified(), domain)
			}
			found := false
			for _, d := range e.included {
				found = found || d == inc
			}
			if found {
				fine = append(fine, r.Name+" (include:"+inc+")")
			} else {
				need = append(need, "include:"+inc)
				problems = append(problems, fmt.Sprintf("%s's senders (include:%s) are not authorised", r.Name, inc))
			}
			continue
		}
		ips, err := c.addrs(ctx, r.Host)
		if err != nil || len(ips) == 0 {
			ck.Status, ck.Detail = Fail, fmt.Sprintf("relay %s: its address could not be found", r.Host)
			return ck
		}
		mech := "a:" + r.Host
		if _, err := netip.ParseAddr(r.Host); err == nil {
			mech = "ip4:" + r.Host
			if ips[0].Is6() {
				mech = "ip6:" + r.Host
			}
		}
		for _, ip := range ips {
			e := &spfEval{c: c}
			res, err := e.check(ctx, ip, domain)
			if res == spfPass {
				fine = append(fine, fmt.Sprintf("%s (%s)", r.Host, ip))
				continue
			}
			why := string(res)
			if err != nil {
				why += ": " + err.Error()
			}
			problems = append(problems, fmt.Sprintf("relay %s (%s) gets %s", r.Host, ip, why))
			need = append(need, mech)
			break
		}
	}
	if rec == "" {
		ck.Status, ck.Detail = Fail, domain+" has no SPF record"
		ck.Fix = fmt.Sprintf("%s TXT %q", fqdn(domain), "v=spf1 "+strings.Join(need, " ")+" ~all")
		return ck
	}
	if len(problems) > 0 {
		ck.Status, ck.Detail = Fail, domain+": "+strings.Join(problems, "; ")
		ck.Fix = fmt.Sprintf("%s TXT %q", fqdn(domain), addSPF(rec, need))
		return ck
	}
	ck.Status, ck.Detail = OK, fmt.Sprintf("%s authorises %s", domain, strings.Join(fine, ", "))
	return ck
}

// addSPF puts mechanisms into an SPF record before its "all" term (or
// redirect), where they take effect.
func addSPF(rec string, mechs []string) string {
	terms := strings.Fields(rec)
	for i, t := range terms[1:] {
		l := strings.ToLower(strings.TrimLeft(t, "+-~?"))
		if l == "all" || strings.HasPrefix(l, "redirect=") {
			out := append([]string{}, terms[:i+1]...)
			out = append(out, mechs...)
			return strings.Join(append(out, terms[i+1:]...), " ")
		}
	}
	return strings.Join(append(terms, mechs...), " ") + " ~all"
}

func (c *checker) checkDKIM(ctx context.Context, o Options) Check {
	ck := Check{Name: "DKIM"}
	if o.DKIM == nil || o.DKIM.Key == nil {
		ck.Status, ck.Detail = Fail, "Herald does not sign its mail"
		ck.Fix = "generate a key in Admin → Settings → DKIM (or set dkim_key_file, dkim_selector and dkim_domain), then publish the record it shows"
		return ck
	}
	name := message.DNSName(o.DKIM.Selector, o.DKIM.Domain)
	want, err := message.DNSRecord(o.DKIM.Key)
	if err != nil {
		ck.Status, ck.Detail = Fail, err.Error()
		return ck
	}
	ck.Fix = fmt.Sprintf("%s TXT %s", fqdn(name), message.SplitTXT(want))
	txts, err := c.txt(ctx, name)
	if err != nil {
		ck.Status, ck.Detail = Fail, err.Error()
		return ck
	}
	wantTags := dkimTags(want)
	for _, t := range txts {
		tags := dkimTags(t)
		if _, ok := tags["p"]; !ok {
			continue
		}
		switch {
		case tags["p"] == "":
			ck.Status, ck.Detail = Fail, name+" publishes an empty key: the key is revoked"
		case tags["p"] != wantTags["p"]:
			ck.Status, ck.Detail = Fail, name+" publishes another key than the one Herald signs with"
		case strings.ToLower(orDefault(tags["k"], "rsa")) != wantTags["k"]:
			ck.Status, ck.Detail = Fail, fmt.Sprintf("%s says k=%s, Herald's key is %s", name, orDefault(tags["k"], "rsa"), wantTags["k"])
		default:
			ck.Status, ck.Detail, ck.Fix = OK, fmt.Sprintf("%s matches Herald's %s key", name, wantTags["k"]), ""
		}
		return ck
	}
	ck.Status, ck.Detail = Fail, name+" has no DKIM key record"
	return ck
}

// dkimTags reads a DKIM key record's tag=value list, whitespace removed
// from the key.
func dkimTags(rec string) map[string]string {
	tags := map[string]string{}
	for _, part := range strings.Split(rec, ";") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		tags[strings.ToLower(strings.TrimSpace(k))] = strings.Join(strings.Fields(v), "")
	}
	return tags
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// orgDomain is the registrable domain ("example.co.uk" for
// "news.example.co.uk"), which relaxed DMARC alignment compares.
func orgDomain(d string) string {
	o, err := publicsuffix.EffectiveTLDPlusOne(d)
	if err != nil {
		return d
	}
	return o
}

func aligned(mode, a, b string) bool {
	a, b = strings.ToLower(a), strings.ToLower(b)
	if mode == "s" {
		return a == b
	}
	return orgDomain(a) == orgDomain(b)
}

func (c *checker) checkDMARC(ctx context.Context, o Options, spfOK, dkimOK bool) Check {
	ck := Check{Name: "DMARC"}
	from := o.FromDomain
	fix := fmt.Sprintf("%s TXT %q", fqdn("_dmarc."+from), "v=DMARC1; p=none; rua=mailto:dmarc-reports@"+from)
	var rec, at string
	for _, d := range []string{from, orgDomain(from)} {
		txts, err := c.txt(ctx, "_dmarc."+d)
		if err != nil {
			ck.Status, ck.Detail = Fail, err.Error()
			return ck
		}
		for _, t := range txts {
			if strings.HasPrefix(strings.ToUpper(strings.ReplaceAll(t, " ", "")), "V=DMARC1") {
				rec, at = t, "_dmarc."+d
			}
		}
		if rec != "" {
			break
		}
	}
	if rec == "" {
		ck.Status, ck.Detail, ck.Fix = Fail, "_dmarc."+from+" has no DMARC record", fix
		return ck
	}
	tags := dkimTags(rec)
	policy := tags["p"]
	if at != "_dmarc."+from && tags["sp"] != "" {
		policy = tags["sp"] // a subdomain under its organisation's record
	}
	switch policy {
	case "none", "quarantine", "reject":
	default:
		ck.Status, ck.Detail, ck.Fix = Fail, fmt.Sprintf("%s has no valid policy (p=%s)", at, tags["p"]), fix
		return ck
	}
	var ways []string
	if o.DKIM != nil && dkimOK && aligned(tags["adkim"], o.DKIM.Domain, from) {
		ways = append(ways, "DKIM (d="+o.DKIM.Domain+")")
	}
	if spfOK && aligned(tags["aspf"], o.EnvelopeDomain, from) {
		ways = append(ways, "SPF ("+o.EnvelopeDomain+")")
	}
	if len(ways) == 0 {
		ck.Status = Fail
		ck.Detail = fmt.Sprintf("%s says p=%s, but neither a passing DKIM signature nor SPF aligns with the From domain %s", at, policy, from)
		ck.Fix = fmt.Sprintf("sign with dkim_domain = %s (or a domain under %s) and publish its DKIM record, so DKIM aligns", from, orgDomain(from))
		return ck
	}
	ck.Status = OK
	ck.Detail = fmt.Sprintf("%s: p=%s, aligned by %s", at, policy, strings.Join(ways, " and "))
	if policy == "none" {
		ck.Detail += " (p=none only reports; quarantine or reject protects the domain once reports are clean)"
	}
	return ck
}

func (c *checker) checkMX(ctx context.Context, o Options) Check {
	ck := Check{Name: "MX"}
	if o.BounceDomain == "" {
		ck.Status, ck.Detail = Skip, "no bounce domain (bounce_domain) is set"
		return ck
	}
	mxs, err := c.mx(ctx, o.BounceDomain)
	if err != nil {
		ck.Status, ck.Detail = Fail, err.Error()
		return ck
	}
	if len(mxs) == 0 || (len(mxs) == 1 && mxs[0].Host == ".") {
		ck.Status, ck.Detail = Fail, o.BounceDomain+" has no MX record: bounces sent to it go nowhere"
		ck.Fix = fmt.Sprintf("%s MX 10 %s (the host whose SMTP server takes bounces for Herald)", fqdn(o.BounceDomain), fqdn("mail."+orgDomain(o.BounceDomain)))
		return ck
	}
	var hosts []string
	for _, m := range mxs {
		hosts = append(hosts, fmt.Sprintf("%d %s", m.Pref, strings.TrimSuffix(m.Host, ".")))
	}
	ck.Status, ck.Detail = OK, o.BounceDomain+" receives mail at "+strings.Join(hosts, ", ")
	return ck
}

// For builds the Options that check a Herald configuration: the From
// address of campaigns ("Name <addr>" or addr), the relays mail leaves
// through, the DKIM key it signs with (nil: none), the bounce domain ("":
// none) and the DNS server to ask (host:port; "": the system's resolver).
func For(from string, relays []mailer.RelayConfig, key *message.DKIM, bounceDomain, dnsServer string) (Options, error) {
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return Options{}, fmt.Errorf("the From address %q does not parse: %w", from, err)
	}
	_, domain, _ := strings.Cut(addr.Address, "@")
	o := Options{FromDomain: strings.ToLower(domain), BounceDomain: bounceDomain, EnvelopeDomain: bounceDomain,
		DKIM: key, Resolver: NewResolver(dnsServer)}
	for _, r := range relays {
		if r.Kind == mailer.KindSMTP || r.Kind == "" {
			o.Relays = append(o.Relays, Relay{Name: r.Name, Host: r.Host})
		} else {
			o.Relays = append(o.Relays, Relay{Name: r.Name, Provider: string(r.Kind)})
		}
	}
	return o, nil
}
