package cli

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
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
	if code != 1 || !strings.Contains(errs, "HERALD_WORKERS: must be a whole number") {
		t.Fatalf("bad config: %d %q", code, errs)
	}
}

func TestServeAnswersHealthzAndShutsDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	var errb bytes.Buffer
	go func() {
		e := &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: &errb, getenv: func(string) string { return "" }}
		done <- e.exitCode(e.dispatch(ctx, []string{"serve", "--data", filepath.Join(t.TempDir(), "d"), "--http", addr}))
	}()
	var resp *http.Response
	for i := 0; i < 100; i++ {
		resp, err = http.Get("http://" + addr + "/healthz")
		if err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("healthz never answered: %v\n%s", err, errb.String())
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Fatalf("healthz = %d %q", resp.StatusCode, body)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d: %s", code, errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not shut down")
	}
}
