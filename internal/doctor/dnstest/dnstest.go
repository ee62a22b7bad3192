// Package dnstest runs an in-process authoritative DNS server on loopback,
// over UDP and TCP on one port, serving the records a test gives it in
// zone-file form. Answers too long for the client's UDP size are truncated
// as a real server truncates them, so clients retry over TCP.
package dnstest

import (
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
)

// Server is a running DNS server.
type Server struct {
	// Addr is host:port for both UDP and TCP.
	Addr string
	// TCPQueries counts the queries that came over TCP.
	TCPQueries atomic.Int64

	mu      sync.Mutex
	records map[string][]dns.RR // by lower-case FQDN
}

// Start serves records ("good.test. 300 IN TXT \"v=spf1 -all\"", one RR
// each) until the test ends.
func Start(t testing.TB, records ...string) *Server {
	t.Helper()
	s := &Server{records: map[string][]dns.RR{}}
	for _, r := range records {
		s.Add(t, r)
	}
	var pc net.PacketConn
	var ln net.Listener
	for try := 0; ; try++ {
		var err error
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		_ = pc.Close() // the port was not free for TCP too: try another
		if try == 20 {
			t.Fatalf("no port free for both UDP and TCP: %v", err)
		}
	}
	s.Addr = pc.LocalAddr().String()
	udp := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(s.serve)}
	tcp := &dns.Server{Listener: ln, Handler: dns.HandlerFunc(s.serve)}
	var started sync.WaitGroup
	for _, srv := range []*dns.Server{udp, tcp} {
		started.Add(1)
		srv.NotifyStartedFunc = started.Done
		go func() { _ = srv.ActivateAndServe() }() // returns when Shutdown runs
	}
	started.Wait()
	t.Cleanup(func() {
		_ = udp.Shutdown() // a test server: nothing to do if it will not stop
		_ = tcp.Shutdown()
	})
	return s
}

// Add serves one more record.
func (s *Server) Add(t testing.TB, record string) {
	t.Helper()
	rr, err := dns.NewRR(record)
	if err != nil {
		t.Fatalf("record %q: %v", record, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	name := strings.ToLower(rr.Header().Name)
	s.records[name] = append(s.records[name], rr)
}

func (s *Server) serve(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	udp := true
	if _, ok := w.LocalAddr().(*net.TCPAddr); ok {
		udp = false
		s.TCPQueries.Add(1)
	}
	s.mu.Lock()
	for _, q := range req.Question {
		rrs, ok := s.records[strings.ToLower(q.Name)]
		if !ok {
			m.Rcode = dns.RcodeNameError
			continue
		}
		for _, rr := range rrs {
			if rr.Header().Rrtype == q.Qtype {
				m.Answer = append(m.Answer, dns.Copy(rr))
			}
		}
	}
	s.mu.Unlock()
	if udp {
		size := dns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil {
			size = int(opt.UDPSize())
		}
		m.Truncate(size)
	}
	_ = w.WriteMsg(m) // a client gone is the client's business
}
