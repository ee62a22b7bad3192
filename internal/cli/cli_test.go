package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// herald runs the command line in-process with the given environment and
// standard input, and returns what it printed and its exit status.
func herald(t *testing.T, vars map[string]string, stdin io.Reader, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var out, errb bytes.Buffer
	e := &env{stdin: stdin, stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] }}
	code = e.exitCode(e.dispatch(context.Background(), args))
	return out.String(), errb.String(), code
}

func TestListsAndSubscribersCommands(t *testing.T) {
	t.Parallel()
	data := "--data=" + t.TempDir()
	out, errs, code := herald(t, nil, nil, data, "lists", "create", "daily", "--name", "The Daily", "--double-opt-in", "--public")
	if code != 0 || !strings.Contains(out, "created list daily") {
		t.Fatalf("lists create: %d %q %q", code, out, errs)
	}
	_, errs, code = herald(t, nil, nil, "lists", "create", "daily", data, "--name", "Again")
	if code != 1 || !strings.Contains(errs, `a list with the slug "daily" exists already`) {
		t.Fatalf("duplicate list: %d %q", code, errs)
	}
	_, errs, code = herald(t, nil, nil, "lists", "create", "Bad Slug", data, "--name", "X")
	if code != 2 || !strings.Contains(errs, "lower-case letters") {
		t.Fatalf("bad slug: %d %q", code, errs)
	}
	out, _, code = herald(t, nil, nil, data, "lists", "ls")
	if code != 0 || !strings.Contains(out, "daily  The Daily  double") {
		t.Fatalf("lists ls: %d %q", code, out)
	}
	out, _, code = herald(t, nil, nil, data, "subscribers", "count", "--list", "daily")
	if code != 0 || strings.TrimSpace(out) != "0" {
		t.Fatalf("count: %d %q", code, out)
	}
	_, errs, code = herald(t, nil, nil, data, "subscribers", "show", "nobody@example.com")
	if code != 1 || !strings.Contains(errs, "no subscriber has the address nobody@example.com") {
		t.Fatalf("show missing: %d %q", code, errs)
	}
	_, errs, code = herald(t, nil, nil, data, "subscribers", "delete", "not an address")
	if code != 1 || !strings.Contains(errs, "not a usable address") {
		t.Fatalf("delete bad address: %d %q", code, errs)
	}
	_, errs, code = herald(t, nil, nil, data, "frobnicate")
	if code != 2 || !strings.Contains(errs, `unknown command "frobnicate"`) {
		t.Fatalf("unknown command: %d %q", code, errs)
	}
	_, errs, code = herald(t, map[string]string{"HERALD_WORKERS": "many"}, nil, data, "lists", "ls")
	if code != 1 || !strings.Contains(errs, "HERALD_WORKERS: must be auto or a whole number") {
		t.Fatalf("bad config: %d %q", code, errs)
	}
	_, errs, code = herald(t, map[string]string{"HERALD_WEBHOOK_SENDGRID_KEY": "not a key"}, nil, data, "serve", "--http", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errs, "webhook_sendgrid_key: not base64") {
		t.Fatalf("bad SendGrid key: %d %q", code, errs)
	}
}

func TestServeAnswersHealthzAndShutsDown(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	errb := &syncBuffer{}
	go func() {
		// Port 0: serve picks a free port and logs it, so no other test
		// can take the port in between.
		e := &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: errb, getenv: func(string) string { return "" }}
		done <- e.exitCode(e.dispatch(ctx, []string{"serve", "--data", filepath.Join(t.TempDir(), "d"), "--http", "127.0.0.1:0"}))
	}()
	// Migrations and the owner's password hash come first: on a busy
	// machine that takes seconds, so wait for the log line, not a time.
	serving := regexp.MustCompile(`msg="herald is serving" addr=(http://127\.0\.0\.1:[0-9]+)`)
	var base string
	deadline := time.Now().Add(time.Minute)
	for base == "" {
		select {
		case code := <-done:
			t.Fatalf("serve exited %d before serving:\n%s", code, errb.String())
		default:
		}
		if m := serving.FindStringSubmatch(errb.String()); m != nil {
			base = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("serve did not start within a minute:\n%s", errb.String())
		} else {
			time.Sleep(20 * time.Millisecond)
		}
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatalf("healthz: %v\n%s", err, errb.String())
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Fatalf("healthz = %d %q", resp.StatusCode, body)
	}
	// Without a metrics_token there are no metrics.
	if resp, err := http.Get(base + "/metrics"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("metrics without a token configured: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d: %s", code, errb.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("serve did not shut down")
	}
}

// syncBuffer is a bytes.Buffer one goroutine writes while another reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDataFolderIsMadePrivate: an existing data folder others can read
// (an older installation, or one made by hand) is made 0700 when Herald
// opens it.
func TestDataFolderIsMadePrivate(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	if _, errs, code := herald(t, nil, nil, "--data="+dir, "lists", "ls"); code != 0 {
		t.Fatalf("lists ls: %d %q", code, errs)
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data folder mode = %v, %v", fi.Mode().Perm(), err)
	}
}
