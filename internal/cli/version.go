package cli

import (
	"context"
	"fmt"
	"runtime/debug"
)

// Version, when set at link time (go build -ldflags "-X
// github.com/herald-news/herald/internal/cli.Version=v1.4.0"), names the
// release where the build information cannot: a container image built
// without the .git folder.
var Version string

// runVersion prints Herald's version, the commit it was built from and
// the Go version, all read from the binary's build information: a release
// built with `go install …@vX` has its module version, a build from a
// checkout its VCS revision (and "modified" when the tree had changes).
func runVersion(ctx context.Context, e *env, args []string) error {
	fs := e.flags("version", "")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, versionLine(debug.ReadBuildInfo()))
	return nil
}

// versionLine formats build information as one line:
//
//	herald v1.2.0 commit 374afd5c1e2b (2026-12-06T18:02:11Z) go1.26.8
func versionLine(bi *debug.BuildInfo, ok bool) string {
	if !ok {
		return "herald (unknown version: built without module information)"
	}
	version := bi.Main.Version
	if Version != "" {
		version = Version
	}
	if version == "" {
		version = "(devel)"
	}
	commit, when, modified := "unknown", "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
			if len(commit) > 12 {
				commit = commit[:12]
			}
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	line := "herald " + version + " commit " + commit
	switch {
	case when != "" && modified:
		line += " (" + when + ", modified)"
	case when != "":
		line += " (" + when + ")"
	case modified:
		line += " (modified)"
	}
	return line + " " + bi.GoVersion
}
