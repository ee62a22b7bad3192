package faults_test

import (
	"context"
	"database/sql"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/faults"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/token"
)

// TestClicksKilled kills a herald node with SIGKILL after 10,000 clicks
// from 16 clients through its redirect, starts it again, and counts the
// clicks stored: at most those acknowledged within the last commit window
// before the kill may be missing. The recorder commits every 100ms; the
// events of the commit under way at the kill are at risk too, and a commit
// takes a while on a loaded machine, so the window counted is the last
// 500ms.
func TestClicksKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("runs herald twice under click load")
	}
	ctx := context.Background()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	dbPath := filepath.Join(data, "herald.db")
	const key = "fault-suite-signing-key-0123456789abcdef"

	// A started, tracked campaign with a few links.
	s, err := store.Open(ctx, store.Options{SQLitePath: dbPath})
	if err != nil {
		t.Fatal(err)
	}
	l := &model.List{Slug: "daily", Name: "Daily", OptIn: model.OptInSingle}
	if err := s.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	c := &model.Campaign{Name: "Evening", EditionID: 1, ListIDs: []int64{l.ID}, From: "Desk <desk@example.com>", Tracking: true}
	if err := s.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	links := []string{"https://example.org/lead", "https://example.org/card", "https://example.net/pick"}
	if _, err := s.StartCampaign(ctx, c.ID, model.Frozen{Subject: "s", Prefix: "x", HTML: []byte("h"), Text: []byte("t"), Links: links}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := []string{"HERALD_DATA=" + data, "HERALD_LOG_LEVEL=warn", "HERALD_SECRET_KEY=" + key, "HERALD_HTTP_ADDR=" + addr,
		"HERALD_BASE_URL=http://" + addr, "HERALD_ROLE=web"}
	signer, err := token.NewSigner([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	start := func(name string) *faults.Node {
		n, err := faults.StartNode(herald, name, env, "serve")
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, time.Minute, name+" answering", func() bool {
			resp, err := http.Get("http://" + addr + "/healthz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
		return n
	}
	node := start("first")
	defer node.Kill()

	// Readers click; each acknowledged redirect is timed.
	urls := make([]string, 500)
	for i := range urls {
		tok := signer.Sign(token.Claims{Purpose: token.Click, SubscriberID: int64(i + 1), CampaignID: c.ID})
		urls[i] = "http://" + addr + "/c/" + tok + "?u=" + url.QueryEscape(links[i%len(links)])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{MaxIdleConnsPerHost: 32}, Timeout: 5 * time.Second}
	var mu sync.Mutex
	var acked []time.Time
	var stop atomic.Bool
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; !stop.Load(); i += 16 {
				req, _ := http.NewRequest(http.MethodGet, urls[i%len(urls)], nil)
				req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusFound {
					at := time.Now()
					mu.Lock()
					acked = append(acked, at)
					mu.Unlock()
				}
			}
		}()
	}
	waitFor(t, 2*time.Minute, "10,000 clicks", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= 10000
	})
	node.Kill()
	killed := time.Now()
	stop.Store(true)
	wg.Wait()
	mu.Lock()
	total, recent := len(acked), 0
	for _, at := range acked {
		if killed.Sub(at) <= 500*time.Millisecond {
			recent++
		}
	}
	mu.Unlock()

	// The next start writes what the first left in its spool.
	again := start("second")
	defer again.Kill()
	watch, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	stored := func() int {
		var n int
		watch.QueryRow(`SELECT COUNT(*) FROM events WHERE kind = 'click'`).Scan(&n)
		return n
	}
	last, steady := -1, 0
	waitFor(t, time.Minute, "the stored count to hold still for a second", func() bool {
		time.Sleep(100 * time.Millisecond)
		n := stored()
		if n == last {
			steady++
		} else {
			last, steady = n, 0
		}
		return steady >= 10
	})
	lost := total - last
	t.Logf("%d clicks acknowledged, %d stored, %d missing; %d acknowledged in the last 500ms before the kill", total, last, lost, recent)
	if lost > recent {
		t.Fatalf("%d acknowledged clicks missing after kill -9: more than the %d of the last commit window", lost, recent)
	}
}
