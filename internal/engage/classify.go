// Package engage decides which opens and clicks were a reader's and keeps
// every one of them: the classification rules (a table of signatures that
// configuration can extend, the HEAD, prefetch, burst and hidden-link
// rules) and the Recorder that writes events durably.
//
// Contract: the rules live here and nowhere else. Classify is pure and fast
// (it runs on the click redirect's request path); the rules that need a
// recipient's other clicks (burst, hidden link) run in Settle, which the
// Recorder applies after each commit. Every event handed to a Recorder is
// either written to the database, spooled to a local file and written
// later, or counted as lost through the Observer: never dropped silently.
// docs/engagement.md states the rules and their sources.
package engage

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/herald-news/herald/internal/model"
)

// Reasons an event is not a plain human one. Signatures add their own
// ("ua:NAME", "ip:NAME").
const (
	ReasonMethod     = "method"      // a HEAD request: "method:HEAD"
	ReasonPrefetch   = "prefetch"    // Sec-Purpose or Purpose: prefetch
	ReasonNoAgent    = "no-agent"    // a click without a User-Agent
	ReasonBurst      = "burst"       // most links of a message within seconds
	ReasonHiddenLink = "hidden-link" // the invisible link, and clicks around it
)

// Hit is what the public web knows of one tracking request.
type Hit struct {
	Kind      model.EventKind // EventOpen or EventClick
	Method    string
	UserAgent string
	Addr      netip.Addr // the client's address (invalid when unknown)
	// Purpose is the Sec-Purpose, Purpose or X-Purpose header, whichever
	// is set: browsers and link previews announce prefetches there.
	Purpose string
}

// HitFrom reads a Hit from a request; addr is the client address the
// server trusts (its own proxy rules decide).
func HitFrom(kind model.EventKind, r *http.Request, addr string) Hit {
	h := Hit{Kind: kind, Method: r.Method, UserAgent: r.UserAgent()}
	for _, name := range []string{"Sec-Purpose", "Purpose", "X-Purpose", "X-Moz"} {
		if v := r.Header.Get(name); v != "" {
			h.Purpose = v
			break
		}
	}
	if a, err := netip.ParseAddr(addr); err == nil {
		h.Addr = a.Unmap()
	}
	return h
}

// Verdict is a classification and the rule that made it.
type Verdict struct {
	Class  model.EventClass
	Reason string
}

// Classifier applies the per-request rules and a table of signatures. It
// is immutable and safe for concurrent use.
type Classifier struct {
	sigs []compiled
}

type compiled struct {
	Signature
	contains []string // lower case
	exact    []string
}

// NewClassifier builds a classifier from the default signatures followed
// by extra ones (from configuration: see ParseSignatures).
func NewClassifier(extra ...Signature) *Classifier {
	all := append(DefaultSignatures(), extra...)
	c := &Classifier{sigs: make([]compiled, 0, len(all))}
	for _, s := range all {
		cs := compiled{Signature: s}
		for _, ua := range s.UserAgents {
			if exact, ok := strings.CutPrefix(ua, "="); ok {
				cs.exact = append(cs.exact, exact)
			} else {
				cs.contains = append(cs.contains, strings.ToLower(ua))
			}
		}
		c.sigs = append(c.sigs, cs)
	}
	return c
}

// Classify decides an open or a click from the request alone. HEAD and
// OPTIONS requests and prefetches are never a reader's click; then the
// first signature that matches decides (privacy and human signatures apply
// to opens only: a click through Apple's relay is a person browsing); a
// click without a User-Agent is a machine's; everything else is human.
func (c *Classifier) Classify(h Hit) Verdict {
	if h.Method == http.MethodHead || h.Method == http.MethodOptions {
		return Verdict{model.ClassMachine, ReasonMethod + ":" + h.Method}
	}
	if p := strings.ToLower(h.Purpose); strings.Contains(p, "prefetch") || strings.Contains(p, "preview") {
		return Verdict{model.ClassMachine, ReasonPrefetch}
	}
	var lowerUA string
	for i := range c.sigs {
		s := &c.sigs[i]
		if s.Class != model.ClassMachine && h.Kind != model.EventOpen {
			continue
		}
		if len(s.contains) > 0 && lowerUA == "" {
			lowerUA = strings.ToLower(h.UserAgent)
		}
		if s.matchUA(h.UserAgent, lowerUA) {
			return Verdict{s.Class, "ua:" + s.Name}
		}
		if h.Addr.IsValid() {
			for _, p := range s.Nets {
				if p.Contains(h.Addr) {
					return Verdict{s.Class, "ip:" + s.Name}
				}
			}
		}
	}
	if h.Kind == model.EventClick && strings.TrimSpace(h.UserAgent) == "" {
		return Verdict{model.ClassMachine, ReasonNoAgent}
	}
	return Verdict{Class: model.ClassHuman}
}

func (s *compiled) matchUA(ua, lower string) bool {
	for _, e := range s.exact {
		if ua == e {
			return true
		}
	}
	if lower == "" {
		return false
	}
	for _, sub := range s.contains {
		if strings.Contains(lower, sub) {
			return true
		}
	}
	return false
}
