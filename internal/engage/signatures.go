package engage

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"unicode"

	"github.com/herald-news/herald/internal/model"
)

// Signature recognises one scanner or proxy by its user agent or its
// published address ranges. docs/engagement.md gives each default one's
// source.
type Signature struct {
	// Name is short and stable: it is stored in events' reasons
	// ("ua:barracuda", "ip:barracuda").
	Name string
	// Class is what a match means. Machine signatures apply to opens and
	// clicks; privacy and human ones (proxies that fetch images for a
	// mail client) to opens only.
	Class model.EventClass
	// UserAgents are case-insensitive substrings of the User-Agent, or,
	// with a leading "=", the whole User-Agent exactly.
	UserAgents []string
	// Nets are the address ranges the service's requests come from.
	Nets []netip.Prefix
}

func nets(cidrs ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(cidrs))
	for i, c := range cidrs {
		out[i] = netip.MustParsePrefix(c)
	}
	return out
}

// DefaultSignatures returns the built-in table, in the order it is tried.
// Ranges change: an operator adds or overrides entries with a signatures
// file (config key engagement_signatures).
func DefaultSignatures() []Signature {
	return []Signature{
		// Gmail fetches images through its proxy when a reader opens the
		// message (then caches them): a human open.
		{Name: "gmail-proxy", Class: model.ClassHuman, UserAgents: []string{"GoogleImageProxy", "via ggpht.com"}},
		// Apple Mail Privacy Protection preloads every image at delivery
		// through Apple's relays, with a bare "Mozilla/5.0" user agent.
		{Name: "apple-mpp", Class: model.ClassPrivacy, UserAgents: []string{"=Mozilla/5.0"}},
		// Microsoft Defender for Office 365 (Safe Links, detonation) runs in
		// Exchange Online Protection's published ranges.
		{Name: "microsoft-defender", Class: model.ClassMachine,
			UserAgents: []string{"safelinks", "microsoft office existence discovery"},
			Nets:       nets("40.92.0.0/15", "40.107.0.0/16", "52.100.0.0/14", "104.47.0.0/17", "2a01:111:f400::/48", "2a01:111:f403::/48")},
		{Name: "mimecast", Class: model.ClassMachine, UserAgents: []string{"mimecast"},
			Nets: nets("205.139.110.0/24", "207.211.30.0/24", "216.205.24.0/24", "170.10.128.0/24", "91.220.42.0/24", "195.130.217.0/24", "146.101.78.0/24")},
		{Name: "proofpoint", Class: model.ClassMachine, UserAgents: []string{"proofpoint", "urldefense"},
			Nets: nets("148.163.128.0/19", "67.231.144.0/20")},
		{Name: "barracuda", Class: model.ClassMachine, UserAgents: []string{"barracuda"},
			Nets: nets("64.235.144.0/20", "209.222.80.0/21")},
		{Name: "cisco", Class: model.ClassMachine, UserAgents: []string{"ironport", "cisco secure email", "ciscosecureemail"},
			Nets: nets("68.232.128.0/19", "216.71.128.0/19")},
		// Link checkers and scripts that say what they are.
		{Name: "automated", Class: model.ClassMachine, UserAgents: []string{"headlesschrome", "python-requests", "python-urllib",
			"go-http-client", "curl/", "wget/", "libwww-perl", "bot/", "crawler", "spider", "slackbot", "facebookexternalhit", "linkpreview"}},
	}
}

// ParseSignatures reads a signatures file: one entry a line, "#" starts a
// comment. Each line is NAME CLASS FIELD VALUE, where CLASS is machine,
// privacy or human, FIELD is ua (VALUE: a case-insensitive substring of the
// User-Agent, or "=" and the whole User-Agent; the rest of the line, spaces
// included) or ip (VALUE: an address range, 192.0.2.0/24, or one address).
// Lines with the same NAME make one signature. Errors name the line.
func ParseSignatures(data []byte) ([]Signature, error) {
	var out []Signature
	index := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 {
			return nil, fmt.Errorf("line %d: want NAME CLASS ua|ip VALUE, got %q", n, line)
		}
		name, class, field := f[0], model.EventClass(f[1]), f[2]
		switch class {
		case model.ClassMachine, model.ClassPrivacy, model.ClassHuman:
		default:
			return nil, fmt.Errorf("line %d: class %q is not machine, privacy or human", n, f[1])
		}
		i, ok := index[name]
		if !ok {
			i = len(out)
			index[name] = i
			out = append(out, Signature{Name: name, Class: class})
		} else if out[i].Class != class {
			return nil, fmt.Errorf("line %d: %s was %s on an earlier line, not %s", n, name, out[i].Class, class)
		}
		switch field {
		case "ua":
			// The value is the rest of the line: user agents have spaces.
			rest := line
			for range 3 {
				rest = strings.TrimLeftFunc(rest[strings.IndexFunc(rest, unicode.IsSpace):], unicode.IsSpace)
			}
			out[i].UserAgents = append(out[i].UserAgents, rest)
		case "ip":
			p, err := netip.ParsePrefix(f[3])
			if err != nil {
				a, aerr := netip.ParseAddr(f[3])
				if aerr != nil {
					return nil, fmt.Errorf("line %d: %q is not an address range (192.0.2.0/24) or an address", n, f[3])
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			out[i].Nets = append(out[i].Nets, p.Masked())
		default:
			return nil, fmt.Errorf("line %d: field %q is not ua or ip", n, field)
		}
	}
	return out, sc.Err()
}
