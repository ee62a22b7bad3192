package browsertest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// EnvAxe names the environment variable holding axe-core's axe.min.js
// (the npm package, which scripts/test installs at a pinned version).
const EnvAxe = "HERALD_TEST_AXE"

// AxeTags are the axe-core rule tags a page is checked against: WCAG 2.0,
// 2.1 and 2.2 at levels A and AA.
var AxeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}

// Violation is one axe-core rule a page breaks, with the elements that
// break it.
type Violation struct {
	Rule   string // axe's rule id, such as "color-contrast"
	Impact string // "minor", "moderate", "serious" or "critical"
	Help   string // what the rule asks for, in one line
	URL    string // axe's page about the rule
	Nodes  []ViolationNode
}

// ViolationNode is one element breaking a rule.
type ViolationNode struct {
	Target  string // a CSS selector for the element
	Summary string // axe's "Fix any of the following" text
	HTML    string // the element's opening markup, shortened by axe
}

// Blocking reports whether the violation fails a test: serious and critical
// ones do.
func (v Violation) Blocking() bool { return v.Impact == "serious" || v.Impact == "critical" }

// String formats v for a test failure: the rule and its help, then one
// line per element with what to fix.
func (v Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s [%d element(s)]", v.Rule, v.Impact, v.Help, len(v.Nodes))
	for _, n := range v.Nodes {
		summary := strings.Join(strings.Fields(n.Summary), " ")
		fmt.Fprintf(&b, "\n      %s\n        %s", n.Target, summary)
	}
	return b.String()
}

var axeSource struct {
	once sync.Once
	src  string
	err  error
}

// axeScript returns the contents of HERALD_TEST_AXE, read once per test
// binary; "" when the variable is unset.
func axeScript() (string, error) {
	path := os.Getenv(EnvAxe)
	if path == "" {
		return "", nil
	}
	axeSource.once.Do(func() {
		b, err := os.ReadFile(path)
		axeSource.src, axeSource.err = string(b), err
	})
	return axeSource.src, axeSource.err
}

// RequireAxe skips t when axe-core is not configured (fails it instead
// when CI is set: CI must run the accessibility checks). Call it first in
// a test that checks pages with Axe, so a machine without axe-core skips
// the test before doing any work.
func RequireAxe(t testing.TB) {
	t.Helper()
	src, err := axeScript()
	switch {
	case err != nil:
		t.Fatalf("reading axe-core from %s: %v", os.Getenv(EnvAxe), err)
	case src != "":
		return
	case os.Getenv("CI") != "":
		t.Fatalf("%s is not set; CI must run the accessibility checks (scripts/test installs axe-core)", EnvAxe)
	default:
		t.Skipf("%s is not set; skipping the accessibility checks (scripts/test installs axe-core)", EnvAxe)
	}
}

// Violations runs axe-core over the page the browser shows now and returns
// every WCAG 2.2 A/AA violation it finds, whatever its impact. Frames are
// not entered: an admin preview frame holds an email, checked on its own.
func Violations(b *Browser) ([]Violation, error) {
	src, err := axeScript()
	if err != nil || src == "" {
		return nil, fmt.Errorf("axe-core is not available (%s): %v", EnvAxe, err)
	}
	ctx, cancel := context.WithTimeout(b.ctx, StepTimeout)
	defer cancel()
	// Evaluated through the DevTools protocol, so a page's Content-Security-
	// Policy (the archive's allows no script at all) does not stop it.
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](src+"\n;typeof window.axe === 'object'"))
	if err != nil {
		return nil, fmt.Errorf("injecting axe-core: %w", err)
	}
	if !loaded {
		return nil, fmt.Errorf("injecting axe-core: window.axe is missing after the script ran")
	}
	tags := `["` + strings.Join(AxeTags, `","`) + `"]`
	run := `axe.run(document, {
		runOnly: {type: "tag", values: ` + tags + `},
		resultTypes: ["violations"],
		iframes: false,
	}).then(r => r.violations.map(v => ({
		Rule: v.id, Impact: v.impact || "", Help: v.help, URL: v.helpUrl,
		Nodes: v.nodes.map(n => ({
			Target: n.target.map(t => Array.isArray(t) ? t.join(" >>> ") : t).join(" "),
			Summary: n.failureSummary || "",
			HTML: n.html,
		})),
	})))`
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]Violation](run, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("running axe-core: %w", err)
	}
	return vs, nil
}

// Axe checks the page the browser shows now with axe-core and fails t
// (without stopping it, so one run reports every page) when a serious or
// critical WCAG 2.2 A/AA violation is found, naming the page, each rule,
// the elements and what to fix. Lesser violations are logged. It saves a
// screenshot named after page either way. Call RequireAxe first.
func Axe(t testing.TB, b *Browser, page string) {
	t.Helper()
	RequireAxe(t)
	vs, err := Violations(b)
	b.Screenshot("axe-" + page)
	if err != nil {
		t.Errorf("%s: %v", page, err)
		return
	}
	var blocking, other []string
	for _, v := range vs {
		if v.Blocking() {
			blocking = append(blocking, v.String())
		} else {
			other = append(other, v.String())
		}
	}
	if len(other) > 0 {
		t.Logf("%s: axe-core found %d lesser violation(s):\n  %s", page, len(other), strings.Join(other, "\n  "))
	}
	if len(blocking) > 0 {
		t.Errorf("%s: axe-core found %d serious or critical violation(s):\n  %s", page, len(blocking), strings.Join(blocking, "\n  "))
	}
}

// ColorScheme makes pages report prefers-color-scheme: scheme ("light" or
// "dark") from now on, as a reader's system setting would.
func ColorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	})
}
