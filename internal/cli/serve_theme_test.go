package cli

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

// themeDir writes a theme whose email and web page say whose they are.
func themeDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"email.html": `<!DOCTYPE html><html lang="{{.Pub.Language}}"><body><p>Courier house theme: {{.Edition.Subject}} for {{.Name}}</p>` +
			`<a href="{{.UnsubscribeURL}}">Unsubscribe</a></body></html>`,
		"web.html": `<!DOCTYPE html><html lang="{{.Pub.Language}}"><body><main>Courier house web theme {{template "content" .}}</main></body></html>` +
			`{{define "content"}}<h1>{{.Edition.Subject}}</h1>{{end}}`,
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// firstOutboxMessage waits for serve to put a message in the data
// folder's outbox and returns it.
func firstOutboxMessage(t *testing.T, data string) []byte {
	t.Helper()
	ob, err := mailer.NewOutbox(filepath.Join(data, "outbox"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		items, err := ob.List(0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) > 0 {
			_, raw, err := ob.Get(items[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			return raw
		}
		if time.Now().After(deadline) {
			t.Fatal("serve sent nothing within a minute")
		}
	}
}

// serveUntilUp runs `herald serve` in-process with vars as its environment
// until it serves (returning its base URL) or exits (returning its exit
// status and log); a server that came up stops when the test ends.
func serveUntilUp(t *testing.T, vars map[string]string, args ...string) (base string, code int, log string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	errb := &syncBuffer{}
	go func() {
		e := &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: errb, getenv: func(k string) string { return vars[k] }}
		done <- e.exitCode(e.dispatch(ctx, append([]string{"serve", "--http", "127.0.0.1:0"}, args...)))
	}()
	serving := regexp.MustCompile(`msg="herald is serving" addr=(http://127\.0\.0\.1:[0-9]+)`)
	deadline := time.Now().Add(time.Minute)
	for {
		select {
		case code := <-done:
			cancel()
			return "", code, errb.String()
		default:
		}
		if m := serving.FindStringSubmatch(errb.String()); m != nil {
			t.Cleanup(func() {
				cancel()
				select {
				case <-done:
				case <-time.After(time.Minute):
					t.Error("serve did not shut down")
				}
			})
			return m[1], 0, errb.String()
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve neither started nor stopped within a minute:\n%s", errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServeUsesTheTheme: with the theme key set, the campaign email that
// serve's engine renders and the archive page it serves both come from the
// theme's templates.
func TestServeUsesTheTheme(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	vars := map[string]string{"HERALD_DATA": data, "HERALD_THEME": themeDir(t)}
	run := func(args ...string) string {
		t.Helper()
		out, errs, code := herald(t, vars, nil, args...)
		if code != 0 {
			t.Fatalf("herald %s: %d %s", strings.Join(args, " "), code, errs)
		}
		return strings.TrimSpace(out)
	}
	run("lists", "create", "evening", "--name", "Evening")
	csv := filepath.Join(dir, "readers.csv")
	file := filepath.Join(dir, "briefing.md")
	if err := os.WriteFile(csv, []byte("email,name\nreader@example.org,Robin Reader\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, sample.Source(), 0o644); err != nil {
		t.Fatal(err)
	}
	run("import", "--list", "evening", "--status", "confirmed", csv)
	id := run("edition", "import", file)
	func() { // published, so the archive shows it
		ctx := context.Background()
		s, err := store.Open(ctx, store.Options{SQLitePath: filepath.Join(data, "herald.db")})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		e, err := s.EditionBySlug(ctx, "2025-03-13-evening")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetEditionStatus(ctx, e.ID, model.EditionPublished); err != nil {
			t.Fatal(err)
		}
	}()
	// Due already: serve's own engine starts it, freezing the email.
	run("campaign", "create", "--edition", id, "--list", "evening", "--at", "2020-01-01T00:00:00Z")

	base, code, log := serveUntilUp(t, vars)
	if base == "" {
		t.Fatalf("serve exited %d:\n%s", code, log)
	}
	raw := firstOutboxMessage(t, data)
	if !strings.Contains(string(raw), "Courier house theme:") {
		t.Errorf("the campaign email does not use the theme:\n%.1500s", raw)
	}
	res, err := http.Get(base + "/archive/2025-03-13-evening")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(page), "Courier house web theme") {
		t.Errorf("the archive page does not use the theme: %d\n%.1500s", res.StatusCode, page)
	}
}

// TestServeRefusesAMissingTheme: a theme folder that is not there stops
// serve at start with a message naming it, instead of quietly sending the
// default theme.
func TestServeRefusesAMissingTheme(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "no-such-theme")
	for name, c := range map[string]struct {
		vars map[string]string
		args []string
	}{
		"HERALD_THEME": {vars: map[string]string{"HERALD_DATA": t.TempDir(), "HERALD_THEME": missing}},
		"--theme":      {vars: map[string]string{"HERALD_DATA": t.TempDir()}, args: []string{"--theme", missing}},
	} {
		base, code, log := serveUntilUp(t, c.vars, c.args...)
		if base != "" {
			t.Errorf("%s: serve started with a missing theme folder", name)
			continue
		}
		if code != 1 || !strings.Contains(log, `theme folder "`+missing+`" does not exist`) {
			t.Errorf("%s: serve with a missing theme: %d %q", name, code, log)
		}
	}
}

// TestEditionRenderTheme: `herald edition render` takes the theme from its
// flag or from the same configuration key as serve.
func TestEditionRenderTheme(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "briefing.md")
	if err := os.WriteFile(file, sample.Source(), 0o644); err != nil {
		t.Fatal(err)
	}
	theme := themeDir(t)
	for name, c := range map[string]struct {
		vars map[string]string
		args []string
	}{
		"--theme":      {vars: map[string]string{"HERALD_DATA": filepath.Join(dir, "a")}, args: []string{"--theme", theme}},
		"HERALD_THEME": {vars: map[string]string{"HERALD_DATA": filepath.Join(dir, "b"), "HERALD_THEME": theme}},
	} {
		out, errs, code := herald(t, c.vars, nil, append([]string{"edition", "render", file, "--format", "html"}, c.args...)...)
		if code != 0 || !strings.Contains(out, "Courier house theme:") {
			t.Errorf("%s: %d %q, output lacks the theme:\n%.300s", name, code, errs, out)
		}
	}
}

// TestCommandLineCampaignsUseServesTheme: `herald serve --theme DIR`
// renders the admin's previews and test copies with the theme; a
// campaign started from the command line (no theme of its own) is frozen
// with the same theme, not the built-in look, so readers get what the
// editor approved.
func TestCommandLineCampaignsUseServesTheme(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	vars := map[string]string{"HERALD_DATA": data}
	run := func(args ...string) string {
		t.Helper()
		out, errs, code := herald(t, vars, nil, args...)
		if code != 0 {
			t.Fatalf("herald %s: %d %s", strings.Join(args, " "), code, errs)
		}
		return strings.TrimSpace(out)
	}
	run("lists", "create", "evening", "--name", "Evening")
	csv := filepath.Join(dir, "readers.csv")
	file := filepath.Join(dir, "briefing.md")
	if err := os.WriteFile(csv, []byte("email,name\nreader@example.org,Robin Reader\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, sample.Source(), 0o644); err != nil {
		t.Fatal(err)
	}
	run("import", "--list", "evening", "--status", "confirmed", csv)
	id := run("edition", "import", file)
	if base, code, log := serveUntilUp(t, vars, "--theme", themeDir(t)); base == "" {
		t.Fatalf("serve exited %d:\n%s", code, log)
	}
	camp := run("campaign", "create", "--edition", id, "--list", "evening")
	run("campaign", "start", camp, "--no-check") // the sample's links lead nowhere
	raw := firstOutboxMessage(t, data)
	if !strings.Contains(string(raw), "Courier house theme:") {
		t.Errorf("a campaign started from the command line does not use serve's theme:\n%.1500s", raw)
	}
}
