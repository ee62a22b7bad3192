// Package browsertest drives a real headless Chromium from Go tests.
//
// New starts a fresh browser (its own user-data-dir, no network chatter)
// for one test and closes it when the test ends. Every console error,
// uncaught exception and browser-log error the pages produce is collected,
// so a test can end with AssertNoProblems. Screenshots go into the folder
// named by HERALD_TEST_ARTIFACTS (default: a test temporary folder).
//
// The browser binary comes from HERALD_TEST_CHROMIUM. When it is unset the
// test is skipped, unless CI is set, in which case the test fails: CI must
// run the browser tests.
//
// Typical use:
//
//	b := browsertest.New(t)
//	b.Do(chromedp.Navigate(srv.URL + "/"), chromedp.WaitVisible(chromedp.CSS("h1")))
//	title := browsertest.Run(b, chromedp.Text(chromedp.CSS("h1")))
//	b.Screenshot("home")
//	b.AssertNoProblems()
package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// EnvChromium names the environment variable holding the browser binary.
const EnvChromium = "HERALD_TEST_CHROMIUM"

// EnvArtifacts names the environment variable holding the screenshot folder.
const EnvArtifacts = "HERALD_TEST_ARTIFACTS"

// StepTimeout bounds each Do or Run call, so a stuck page fails the test
// instead of hanging it.
const StepTimeout = 30 * time.Second

// Browser is one headless Chromium tab owned by one test.
type Browser struct {
	t         testing.TB
	ctx       context.Context
	artifacts string

	mu       sync.Mutex
	problems []string
	shots    int
}

// New starts headless Chromium for t, or skips t when no browser is
// configured (fails instead when CI is set). The browser stops when t ends.
func New(t testing.TB) *Browser {
	t.Helper()
	exe := os.Getenv(EnvChromium)
	if exe == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set; CI must run the browser tests", EnvChromium)
		}
		t.Skipf("%s is not set; skipping browser test", EnvChromium)
	}
	artifacts := os.Getenv(EnvArtifacts)
	if artifacts == "" {
		artifacts = t.TempDir()
	} else if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatalf("creating artifacts folder: %v", err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("window-size", "1280,900"),
		chromedp.UserDataDir(t.TempDir()),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	b := &Browser{t: t, ctx: ctx, artifacts: artifacts}
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// The first Run starts the browser; it must not carry a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium (%s): %v", exe, err)
	}
	go b.collect(chromedp.Console(ctx))
	return b
}

func (b *Browser) collect(msgs func(func(chromedp.ConsoleMessage, error) bool)) {
	for m, err := range msgs {
		if err != nil {
			return
		}
		if m.Type != chromedp.ConsoleError && !m.IsException() {
			continue
		}
		text := m.String()
		if m.URL != "" {
			text += " (" + m.URL + ")"
		}
		b.mu.Lock()
		b.problems = append(b.problems, text)
		b.mu.Unlock()
	}
}

// Context returns the chromedp context of the tab, for chromedp.Run and
// chromedp.Do when a test wants to handle errors itself.
func (b *Browser) Context() context.Context { return b.ctx }

// Do runs the steps in order and fails the test (after saving a screenshot
// named "failure") when one fails or StepTimeout passes.
func (b *Browser) Do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	Run(b, chromedp.Steps(steps...))
}

// Run runs one action that returns a value, failing the test (after saving
// a screenshot named "failure") on error.
func Run[T any](b *Browser, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, StepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.Screenshot("failure")
		loc, _ := chromedp.Run(b.ctx, chromedp.Location())
		b.t.Fatalf("browser step failed at %s: %v", loc, err)
	}
	return v
}

// Screenshot saves a full-page PNG named after the test and name into the
// artifacts folder and returns its path ("" when capture failed; capture
// failure is logged, not fatal).
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, StepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %q: %v", name, err)
		return ""
	}
	b.mu.Lock()
	b.shots++
	n := b.shots
	b.mu.Unlock()
	file := filepath.Join(b.artifacts, fmt.Sprintf("%s-%02d-%s.png", safeName(b.t.Name()), n, safeName(name)))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Logf("screenshot %q: %v", name, err)
		return ""
	}
	return file
}

// Problems returns the console errors, uncaught exceptions and browser-log
// errors seen so far, oldest first.
func (b *Browser) Problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.problems...)
}

// AssertNoProblems fails the test when any page so far wrote a console
// error or threw an uncaught exception. Events arrive asynchronously, so it
// first gives the browser a round trip to deliver pending ones.
func (b *Browser) AssertNoProblems() {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, StepTimeout)
	defer cancel()
	// A round trip through the page orders us after earlier console events.
	_, _ = chromedp.Run(ctx, chromedp.Evaluate[int](`1`))
	time.Sleep(100 * time.Millisecond)
	if p := b.Problems(); len(p) > 0 {
		b.t.Errorf("browser reported %d problem(s):\n  %s", len(p), strings.Join(p, "\n  "))
	}
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func safeName(s string) string { return unsafeChars.ReplaceAllString(s, "_") }
