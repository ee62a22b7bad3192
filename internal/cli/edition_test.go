package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/edition/sample"
)

// runCmd runs one command function in-process, the way dispatch would.
func runCmd(t *testing.T, run func(context.Context, *env, []string) error, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code = e.exitCode(run(context.Background(), e, args))
	return out.String(), errb.String(), code
}

func TestEditionCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := "--data=" + filepath.Join(dir, "data")
	file := filepath.Join(dir, "briefing.md")
	if err := os.WriteFile(file, sample.Source(), 0o644); err != nil {
		t.Fatal(err)
	}

	out, errs, code := runCmd(t, runEditionCheck, file)
	if code != 0 || out != file+": ok\n" {
		t.Fatalf("check sample: %d %q %q", code, out, errs)
	}

	bad := filepath.Join(dir, "bad.md")
	os.WriteFile(bad, []byte("---\nsubject: Hi\r there\ndate: 2025-01-01\n---\n# cards\n## Click\nurl: javascript:alert(1)\n# poll\n"), 0o644)
	out, _, code = runCmd(t, runEditionCheck, bad)
	for _, want := range []string{
		bad + ":2:12: the subject must be one line",
		bad + `:7:6: the card URL "javascript:alert(1)" is not a web address`,
		bad + `:8:3: unknown section kind "poll"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check bad file lacks %q:\n%s", want, out)
		}
	}
	if code != 1 {
		t.Errorf("check bad file exit %d", code)
	}

	for _, c := range []struct{ format, want string }{
		{"html", "Good evening, Grace Hopper."},
		{"text", "Good evening, Grace Hopper."},
		{"web", `<html lang="en">`},
		{"json", `"slug": "2025-03-13-evening"`},
	} {
		out, errs, code = runCmd(t, runEditionRender, file, data, "--format", c.format, "--subscriber-name", "Grace Hopper")
		if code != 0 || !strings.Contains(out, c.want) {
			t.Errorf("render %s: %d %q, output lacks %q", c.format, code, errs, c.want)
		}
	}
	_, errs, code = runCmd(t, runEditionRender, file, data, "--format", "pdf")
	if code != 2 || !strings.Contains(errs, "--format must be html, text, web or json") {
		t.Errorf("render pdf: %d %q", code, errs)
	}
	_, errs, code = runCmd(t, runEditionRender, bad, data)
	if code != 1 || !strings.Contains(errs, "bad.md has 3 problem(s)") {
		t.Errorf("render bad file: %d %q", code, errs)
	}

	// File -> store -> file is byte-identical.
	out, errs, code = runCmd(t, runEditionImport, file, data)
	if code != 0 || strings.TrimSpace(out) != "1" {
		t.Fatalf("import: %d %q %q", code, out, errs)
	}
	_, errs, code = runCmd(t, runEditionImport, file, data)
	if code != 1 || !strings.Contains(errs, `an edition with the slug "2025-03-13-evening" exists already`) {
		t.Errorf("import twice: %d %q", code, errs)
	}
	out, errs, code = runCmd(t, runEditionExport, "1", data)
	if code != 0 || out != string(sample.Source()) {
		t.Errorf("export differs from the imported file: %d %q\n%s", code, errs, out)
	}
	_, errs, code = runCmd(t, runEditionExport, "42", data)
	if code != 1 || !strings.Contains(errs, "no edition has the ID 42") {
		t.Errorf("export missing: %d %q", code, errs)
	}
}
