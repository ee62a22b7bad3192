// Command loadgen drives Herald and listmonk alike for the side-by-side
// click and subscribe measurement (docs/peers.md), and runs the SMTP sink
// both send their confirmation mail to.
//
//	loadgen sink -addr 127.0.0.1:2526 -http 127.0.0.1:2527 [-save DIR]
//	loadgen get  -urls FILE -n 20000 -c 32         (FILE: "URL<TAB>expected Location" lines)
//	loadgen post -url URL -n 5000 -c 32 -body 'email=peer-%s-%d@example.com&name=Bench' [-form URL -token-re RE -token-field csrf]
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
)

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: loadgen sink|get|post ...")
	}
	switch os.Args[1] {
	case "sink":
		sinkMain(os.Args[2:])
	case "get":
		getMain(os.Args[2:])
	case "post":
		postMain(os.Args[2:])
	default:
		log.Fatalf("unknown command %q", os.Args[1])
	}
}

// ---- SMTP sink ----

type backend struct {
	save  string
	count atomic.Int64
	bytes atomic.Int64
}

func (b *backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{b: b}, nil }

type session struct {
	b  *backend
	to []string
}

func (s *session) AuthPlain(string, string) error            { return nil }
func (s *session) Mail(string, *smtp.MailOptions) error      { return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = append(s.to, to); return nil }
func (s *session) Reset()                                    { s.to = nil }
func (s *session) Logout() error                             { return nil }
func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	n := s.b.count.Add(1)
	s.b.bytes.Add(int64(len(data)))
	if s.b.save != "" {
		name := filepath.Join(s.b.save, fmt.Sprintf("%08d.eml", n))
		if err := os.WriteFile(name, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func sinkMain(args []string) {
	fs := flag.NewFlagSet("sink", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:2526", "SMTP address")
	httpAddr := fs.String("http", "127.0.0.1:2527", "GET /count answers the messages received; POST /reset zeroes it")
	save := fs.String("save", "", "folder to write every message to (empty: count only)")
	fs.Parse(args)
	be := &backend{save: *save}
	if *save != "" {
		if err := os.MkdirAll(*save, 0o755); err != nil {
			log.Fatal(err)
		}
	}
	s := smtp.NewServer(be)
	s.Addr = *addr
	s.Domain = "sink.local"
	s.AllowInsecureAuth = true
	s.MaxMessageBytes = 64 << 20
	s.MaxRecipients = 1000
	s.EnableSMTPUTF8 = true
	mux := http.NewServeMux()
	mux.HandleFunc("/count", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			be.count.Store(0)
			be.bytes.Store(0)
		}
		fmt.Fprintf(w, "%d\n", be.count.Load())
	})
	go func() { log.Fatal(http.ListenAndServe(*httpAddr, mux)) }()
	log.Printf("sink on %s, count on http://%s/count", *addr, *httpAddr)
	log.Fatal(s.ListenAndServe())
}

// ---- load ----

type result struct {
	mu       sync.Mutex
	codes    map[int]int
	errs     map[string]int
	bad      int // right status, wrong Location
	badShown int
	lat      []time.Duration
}

func (r *result) add(code int, err error, d time.Duration, badLoc string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lat = append(r.lat, d)
	if err != nil {
		msg := err.Error()
		if len(msg) > 80 {
			msg = msg[:80]
		}
		r.errs[msg]++
		return
	}
	r.codes[code]++
	if badLoc != "" {
		r.bad++
		if r.badShown < 3 {
			r.badShown++
			log.Printf("unexpected: %s", badLoc)
		}
	}
}

func (r *result) report(what string, n, c int, wall time.Duration) {
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	pct := func(p float64) time.Duration {
		if len(r.lat) == 0 {
			return 0
		}
		i := int(p * float64(len(r.lat)-1))
		return r.lat[i]
	}
	codes := []string{}
	for k, v := range r.codes {
		codes = append(codes, fmt.Sprintf("%d:%d", k, v))
	}
	sort.Strings(codes)
	for k, v := range r.errs {
		codes = append(codes, fmt.Sprintf("err %q:%d", k, v))
	}
	fmt.Printf("%s n=%d c=%d wall=%.3fs rate=%.0f/s codes=[%s] wrong=%d p50=%s p90=%s p99=%s max=%s\n",
		what, n, c, wall.Seconds(), float64(n)/wall.Seconds(), strings.Join(codes, " "), r.bad,
		pct(0.5).Round(10*time.Microsecond), pct(0.9).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), pct(1).Round(10*time.Microsecond))
}

func transport(c int) *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        c * 2,
		MaxIdleConnsPerHost: c * 2,
		MaxConnsPerHost:     c,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
}

func run(n, c int, fn func(i int)) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}

// browserUA is sent on every request, so neither server takes the load for a bot.
const browserUA = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func getMain(args []string) {
	fs := flag.NewFlagSet("get", flag.ExitOnError)
	file := fs.String("urls", "", "file of URL<TAB>expected-Location lines")
	n := fs.Int("n", 20000, "requests")
	c := fs.Int("c", 32, "concurrent connections")
	label := fs.String("label", "clicks", "label for the report line")
	fs.Parse(args)
	f, err := os.Open(*file)
	if err != nil {
		log.Fatal(err)
	}
	type pair struct{ u, loc string }
	var urls []pair
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), "\t", 2)
		if len(parts) != 2 {
			continue
		}
		urls = append(urls, pair{parts[0], parts[1]})
	}
	f.Close()
	if len(urls) == 0 {
		log.Fatal("no URLs")
	}
	client := &http.Client{Transport: transport(*c), CheckRedirect: noRedirect, Timeout: time.Minute}
	// Warm the connections up: not counted.
	run(*c, *c, func(i int) {})
	res := &result{codes: map[int]int{}, errs: map[string]int{}}
	wall := run(*n, *c, func(i int) {
		p := urls[i%len(urls)]
		t := time.Now()
		req, _ := http.NewRequest(http.MethodGet, p.u, nil)
		req.Header.Set("User-Agent", browserUA)
		resp, err := client.Do(req)
		if err != nil {
			res.add(0, err, time.Since(t), "")
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d := time.Since(t)
		bad := ""
		if loc := resp.Header.Get("Location"); loc != p.loc {
			bad = fmt.Sprintf("%d %s -> %q, want %q", resp.StatusCode, p.u, loc, p.loc)
		}
		res.add(resp.StatusCode, nil, d, bad)
	})
	res.report(*label, *n, *c, wall)
}

func postMain(args []string) {
	fs := flag.NewFlagSet("post", flag.ExitOnError)
	target := fs.String("url", "", "form action")
	n := fs.Int("n", 5000, "requests")
	c := fs.Int("c", 32, "concurrent connections")
	body := fs.String("body", "", "form body; %[1]s is the run's tag, %[2]d the request's index (addresses distinct)")
	tag := fs.String("tag", fmt.Sprint(time.Now().UnixNano()), "the run's tag in addresses")
	form := fs.String("form", "", "GET this page first (keeping its cookies) to read a form token")
	tokenRE := fs.String("token-re", `name="csrf" value="([^"]+)"`, "regexp whose first group is the form token")
	tokenField := fs.String("token-field", "csrf", "form field the token goes in")
	want := fs.String("want", "", "a string every response body must contain (the success page)")
	label := fs.String("label", "subscribes", "label for the report line")
	fs.Parse(args)
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Transport: transport(*c), CheckRedirect: noRedirect, Jar: jar, Timeout: time.Minute}
	prefix := ""
	if *form != "" {
		resp, err := client.Get(*form)
		if err != nil {
			log.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := regexp.MustCompile(*tokenRE).FindSubmatch(page)
		if m == nil {
			log.Fatal(errors.New("no form token on " + *form))
		}
		prefix = *tokenField + "=" + url.QueryEscape(string(m[1])) + "&"
	}
	run(*c, *c, func(i int) {})
	res := &result{codes: map[int]int{}, errs: map[string]int{}}
	wantB := []byte(*want)
	wall := run(*n, *c, func(i int) {
		b := prefix + fmt.Sprintf(*body, *tag, i)
		req, _ := http.NewRequest(http.MethodPost, *target, strings.NewReader(b))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("User-Agent", browserUA)
		t := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			res.add(0, err, time.Since(t), "")
			return
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(t)
		bad := ""
		if len(wantB) > 0 && !bytes.Contains(page, wantB) {
			s := string(page)
			if len(s) > 200 {
				s = s[:200]
			}
			bad = fmt.Sprintf("%d body without %q: %s", resp.StatusCode, *want, s)
		}
		res.add(resp.StatusCode, nil, d, bad)
	})
	res.report(*label, *n, *c, wall)
}
