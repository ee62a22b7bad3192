package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/precheck/prechecktest"
)

// heraldOnline runs the command line with the pre-send checks allowed to
// reach the test's site on loopback.
func heraldOnline(t *testing.T, stdin io.Reader, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var out, errb bytes.Buffer
	e := &env{stdin: stdin, stdout: &out, stderr: &errb, getenv: func(string) string { return "" }, allow: prechecktest.Loopback}
	code = e.exitCode(e.dispatch(context.Background(), args))
	return out.String(), errb.String(), code
}

// ferryFile writes the checks' test edition, linking to a new test site,
// into a new data folder.
func ferryFile(t *testing.T) (site, file, data string) {
	t.Helper()
	dir := t.TempDir()
	site = prechecktest.Site(t)
	file = filepath.Join(dir, "ferry.md")
	if err := os.WriteFile(file, []byte(prechecktest.Edition(site)), 0o644); err != nil {
		t.Fatal(err)
	}
	return site, file, "--data=" + dir
}

func TestEditionCheckOnline(t *testing.T) {
	site, file, data := ferryFile(t)
	// Offline, the file is fine, as before.
	if out, errs, code := heraldOnline(t, nil, data, "edition", "check", file); code != 0 || out != file+": ok\n" {
		t.Fatalf("edition check: %d %q %q", code, out, errs)
	}
	out, errs, code := heraldOnline(t, nil, data, "edition", "check", "--online", file)
	if code != 1 || !strings.Contains(out, file+`: links: "the union's statement": answers 404 Not Found (`+site+"/gone)") ||
		!strings.Contains(out, "2 links and 1 images fetched") || strings.Contains(out, site+"/ok") || !strings.Contains(errs, "1 warning(s) before sending") {
		t.Fatalf("edition check --online: %d\n%s%s", code, out, errs)
	}
	// Without the test's allow list the checker keeps to public addresses.
	out, _, code = herald(t, nil, nil, data, "edition", "check", "--online", file)
	if code != 1 || !strings.Contains(out, "Herald only fetches public addresses") {
		t.Fatalf("loopback reached outside tests: %d %s", code, out)
	}
}

func TestCampaignStartConfirmsWarnings(t *testing.T) {
	_, file, data := ferryFile(t)
	for _, args := range [][]string{
		{"lists", "create", "news", "--name", "News"},
		{"edition", "import", file},
		{"campaign", "create", "--edition", "1", "--list", "news"},
		{"campaign", "create", "--edition", "1", "--list", "news"},
	} {
		if _, errs, code := heraldOnline(t, nil, append([]string{data}, args...)...); code != 0 {
			t.Fatalf("%v: %d %s", args, code, errs)
		}
	}
	// Not on a terminal: the warnings, and no start without --yes.
	out, errs, code := heraldOnline(t, nil, data, "campaign", "start", "1")
	if code != 1 || !strings.Contains(errs, `campaign 1: links: "the union's statement": answers 404 Not Found`) || !strings.Contains(errs, "pass --yes to start it anyway") {
		t.Fatalf("start with warnings: %d %q %q", code, out, errs)
	}
	if out, _, _ := heraldOnline(t, nil, data, "campaign", "status", "1"); !strings.Contains(out, "draft") {
		t.Fatalf("the campaign started without a confirmation: %s", out)
	}
	out, errs, code = heraldOnline(t, nil, data, "campaign", "start", "1", "--yes")
	if code != 0 || !strings.Contains(out, "campaign 1 started") || !strings.Contains(errs, "starting anyway (--yes): 1 warning(s)") {
		t.Fatalf("start --yes: %d %q %q", code, out, errs)
	}
	// The second campaign of the same edition to the same list says the
	// edition already went there and starts only with --yes.
	out, errs, code = heraldOnline(t, nil, data, "campaign", "start", "2", "--no-check")
	if code != 1 || strings.Contains(out, "started") || !strings.Contains(errs, "pass --yes to send it again") ||
		!strings.Contains(errs, `campaign 2: this edition already went to News on `) {
		t.Fatalf("start again without --yes: %d %q %q", code, out, errs)
	}
	out, errs, code = heraldOnline(t, nil, data, "campaign", "start", "2", "--no-check", "--yes")
	if code != 0 || !strings.Contains(out, "campaign 2 started") || strings.Contains(errs, "warning") ||
		!strings.Contains(errs, `campaign 2: this edition already went to News on `) || !strings.Contains(errs, `(campaign 1, `) {
		t.Fatalf("start --no-check: %d %q %q", code, out, errs)
	}
}
