package bounce

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// imapServer is an in-process IMAP server over TLS on a loopback port,
// with one user whose INBOX the test fills.
type imapServer struct {
	addr string
	user *imapmemserver.User
	tls  *tls.Config // the client's: trusts the server's certificate
}

func startIMAP(t *testing.T) *imapServer {
	t.Helper()
	cert, pool := selfSigned(t)
	mem := imapmemserver.New()
	user := imapmemserver.NewUser("bounces", "mailbox-password")
	if err := user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	if err := user.Create("Processed", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(user)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:   imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		Logger: log.New(io.Discard, "", 0),
	})
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return &imapServer{addr: ln.Addr().String(), user: user, tls: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}}
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "imap.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func (m *imapServer) put(t *testing.T, raw []byte) {
	t.Helper()
	if _, err := m.user.Append("INBOX", bytes.NewReader(raw), &imap.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (m *imapServer) count(t *testing.T, box string) uint32 {
	t.Helper()
	st, err := m.user.Status(box, &imap.StatusOptions{NumMessages: true})
	if err != nil {
		t.Fatal(err)
	}
	return *st.NumMessages
}

func (m *imapServer) url(query string) MailboxURL {
	u, err := ParseMailboxURL("imaps://bounces:mailbox-password@" + m.addr + "/INBOX" + query)
	if err != nil {
		panic(err)
	}
	return u
}

func TestMailboxRecordsEachSample(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		srv := startIMAP(t)
		type placed struct {
			sub  *model.Subscriber
			kind model.EventKind
		}
		var all []placed
		for _, sm := range samples {
			sub, verp, msgID := f.reader()
			raw := fill(t, sm.file, sub.Email, verp, msgID)
			if sm.kind != model.EventComplaint && !strings.Contains(string(raw), "Delivered-To:") {
				// As a mail server files it: the envelope recipient, which
				// the poller reads in place of RCPT TO.
				raw = append([]byte("Delivered-To: "+verp+"\r\n"), raw...)
			}
			srv.put(t, raw)
			all = append(all, placed{sub, sm.kind})
		}
		// Mail for nobody at all is filed too: it must not stop the rest.
		srv.put(t, []byte("From: someone@elsewhere.example\r\nSubject: hello\r\n\r\nA note.\r\n"))

		box := &Mailbox{URL: srv.url(""), Rec: f.rec, Leases: s, TLS: srv.tls}
		n, err := box.PollIfDue(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		for _, p := range all {
			soft := 0
			if p.kind == model.EventSoftBounce {
				soft = 1
			}
			f.check(p.sub, p.kind, soft)
			if p.kind != "" {
				want++
			}
		}
		if n != want {
			t.Fatalf("recorded %d, want %d", n, want)
		}
		// Everything read is deleted: a second poll finds nothing, and
		// records nothing twice.
		if left := srv.count(t, "INBOX"); left != 0 {
			t.Fatalf("%d messages left in INBOX", left)
		}
	})
}

func TestMailboxLeaseAndMove(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		srv := startIMAP(t)
		sub, verp, msgID := f.reader()
		srv.put(t, fill(t, "postfix_hard.eml", sub.Email, verp, msgID))
		ctx := context.Background()
		url := srv.url("?processed=Processed")
		first := &Mailbox{URL: url, Rec: f.rec, Leases: s, TLS: srv.tls, Every: time.Hour}
		// Another node holds the lease: this one leaves the mailbox alone.
		if ok, err := s.ClaimBounceMailbox(ctx, url.Name(), time.Minute); err != nil || !ok {
			t.Fatalf("claim: %v, %v", ok, err)
		}
		if n, err := first.PollIfDue(ctx); err != nil || n != 0 || srv.count(t, "INBOX") != 1 {
			t.Fatalf("poll under another node's lease: %d, %v, %d in INBOX", n, err, srv.count(t, "INBOX"))
		}
		f.check(sub, "", 0)
		// Its lease over (the node died, or finished), this node reads.
		if err := s.FinishBounceMailbox(ctx, url.Name(), 0, "", time.Now().Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
		if n, err := first.PollIfDue(ctx); err != nil || n != 1 {
			t.Fatalf("poll: %d, %v", n, err)
		}
		f.check(sub, model.EventBounce, 0)
		if srv.count(t, "INBOX") != 0 || srv.count(t, "Processed") != 1 {
			t.Fatalf("after the poll: %d in INBOX, %d in Processed; want the report moved", srv.count(t, "INBOX"), srv.count(t, "Processed"))
		}
		// Not due again for an hour (Every).
		if ok, err := s.ClaimBounceMailbox(ctx, url.Name(), time.Minute); err != nil || ok {
			t.Fatalf("claim right after a poll: %v, %v; want not due", ok, err)
		}
	})
}

func TestMailboxRefusesBadURLsAndWrongPassword(t *testing.T) {
	for _, bad := range []string{"imap://u:p@host/INBOX", "imaps://host/INBOX", "imaps://u@host/INBOX", "::"} {
		if _, err := ParseMailboxURL(bad); err == nil {
			t.Errorf("ParseMailboxURL(%q) took it", bad)
		}
	}
	u, err := ParseMailboxURL("imaps://bounces:p%40ss@imap.gazette.example")
	if err != nil || u.Addr != "imap.gazette.example:993" || u.Password != "p@ss" || u.Mailbox != "INBOX" || strings.Contains(u.Name(), "p@ss") {
		t.Fatalf("ParseMailboxURL = %+v, %v", u, err)
	}
	srv := startIMAP(t)
	wrong := srv.url("")
	wrong.Password = "not-it"
	box := &Mailbox{URL: wrong, Rec: &Recorder{}, TLS: srv.tls}
	if _, err := box.Poll(context.Background()); err == nil || !strings.Contains(err.Error(), "log in") {
		t.Fatalf("wrong password: %v", err)
	}
	// A server whose certificate is not trusted is not logged in to.
	box = &Mailbox{URL: srv.url(""), Rec: &Recorder{}, TLS: &tls.Config{ServerName: "127.0.0.1"}}
	if _, err := box.Poll(context.Background()); err == nil {
		t.Fatal("logged in over TLS to an untrusted server")
	}
}
