package cli

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionCommandPrintsGoVersion(t *testing.T) {
	t.Parallel()
	out, errs, code := herald(t, nil, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "herald ") || !strings.Contains(out, runtime.Version()) {
		t.Fatalf("herald version: %d %q %q", code, out, errs)
	}
}

func TestVersionLineReadsBuildInfo(t *testing.T) {
	t.Parallel()
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "374afd5c1e2b9a0d7e6f5a4b3c2d1e0f9a8b7c6d"},
		{Key: "vcs.time", Value: "2026-12-06T18:02:11Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	want := "herald v1.4.0 commit 374afd5c1e2b (2026-12-06T18:02:11Z, modified) go1.26.8"
	if got := versionLine(bi, true); got != want {
		t.Fatalf("versionLine = %q, want %q", got, want)
	}
	if got := versionLine(&debug.BuildInfo{GoVersion: "go1.26.8"}, true); got != "herald (devel) commit unknown go1.26.8" {
		t.Fatalf("no VCS info: %q", got)
	}
	if got := versionLine(nil, false); !strings.Contains(got, "unknown version") {
		t.Fatalf("no build info: %q", got)
	}
}
