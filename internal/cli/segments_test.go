package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/settings"
	"github.com/herald-news/herald/internal/store"
)

func TestSegmentsCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := "--data=" + dir
	if _, errs, code := herald(t, nil, nil, data, "lists", "create", "news", "--name", "News"); code != 0 {
		t.Fatal(errs)
	}
	csv := filepath.Join(dir, "people.csv")
	os.WriteFile(csv, []byte("email,name,city\nann@leeds.example,Ann,Leeds\nbob@york.example,Bob,York\ncat@leeds.example,Cat,Leeds\n"), 0o600)
	if _, errs, code := herald(t, nil, nil, data, "import", "--list", "news", csv); code != 0 {
		t.Fatal(errs)
	}
	out, errs, code := herald(t, nil, nil, data, "segments", "create", "Leeds", "--query", "list = news and attr.city = Leeds")
	if code != 0 || !strings.Contains(out, `created segment "Leeds": list = news and attr.city = "Leeds" (2 subscribers now)`) {
		t.Fatalf("segments create: %d %q %q", code, out, errs)
	}
	_, errs, code = herald(t, nil, nil, data, "segments", "create", "Bad", "--query", "list = news and")
	if code != 1 || !strings.Contains(errs, "segment query, at character 16: the query ends where a condition was expected") {
		t.Fatalf("bad query: %d %q", code, errs)
	}
	_, errs, code = herald(t, nil, nil, data, "segments", "create", "Typo", "--query", "list = newz")
	if code != 1 || !strings.Contains(errs, `there is no list "newz"`) {
		t.Fatalf("unknown list: %d %q", code, errs)
	}
	out, _, code = herald(t, nil, nil, data, "segments", "ls")
	if code != 0 || !strings.Contains(out, `Leeds  2            list = news and attr.city = "Leeds"`) {
		t.Fatalf("segments ls: %d %q", code, out)
	}
	out, _, code = herald(t, nil, nil, data, "segments", "count", "Leeds")
	if code != 0 || strings.TrimSpace(out) != "2" {
		t.Fatalf("segments count: %d %q", code, out)
	}
	out, _, code = herald(t, nil, nil, data, "segments", "count", "--query", "domain = york.example")
	if code != 0 || strings.TrimSpace(out) != "1" {
		t.Fatalf("segments count --query: %d %q", code, out)
	}
	_, errs, code = herald(t, nil, nil, data, "segments", "count")
	if code != 2 || !strings.Contains(errs, "a segment's name or --query") {
		t.Fatalf("count without arguments: %d %q", code, errs)
	}
	_, errs, code = herald(t, nil, nil, data, "segments", "count", "Nobody")
	if code != 1 || !strings.Contains(errs, `there is no segment "Nobody"`) {
		t.Fatalf("unknown segment: %d %q", code, errs)
	}
	_, errs, code = herald(t, nil, nil, data, "segments", "create", "Deep", "--query", strings.Repeat("not ", 900)+"list = news")
	if code != 1 || !strings.Contains(errs, "nest more than 16 deep") {
		t.Fatalf("deep query: %d %q", code, errs)
	}
	out, errs, code = herald(t, nil, nil, data, "segments", "rm", "Leeds")
	if code != 0 || !strings.Contains(out, "deleted segment Leeds") {
		t.Fatalf("segments rm: %d %q %q", code, out, errs)
	}
	_, errs, code = herald(t, nil, nil, data, "segments", "rm", "Leeds")
	if code != 1 || !strings.Contains(errs, `there is no segment named "Leeds"`) {
		t.Fatalf("segments rm again: %d %q", code, errs)
	}
}

// TestCampaignCreateWithSegmentLocalTimeAndABTest: campaign create takes
// segments, a local send time and an A/B test, refuses ones that cannot
// work, and campaign status shows the test.
func TestCampaignCreateWithSegmentLocalTimeAndABTest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := "--data=" + dir
	file := filepath.Join(dir, "briefing.md")
	if err := os.WriteFile(file, sample.Source(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"lists", "create", "news", "--name", "News"},
		{"edition", "import", file},
		{"segments", "create", "All news", "--query", "list = news"},
	} {
		if _, errs, code := herald(t, nil, nil, append([]string{data}, args...)...); code != 0 {
			t.Fatalf("%v: %d %s", args, code, errs)
		}
	}
	_, errs, code := herald(t, nil, nil, data, "campaign", "create", "--edition", "1", "--segment", "All news", "--local-time", "25:00")
	if code != 2 || !strings.Contains(errs, `"25:00" is not a time of day written HH:MM`) {
		t.Fatalf("bad local time: %d %q", code, errs)
	}
	_, errs, code = herald(t, nil, nil, data, "campaign", "create", "--edition", "1", "--segment", "All news", "--ab-subject", "Only one")
	if code != 2 || !strings.Contains(errs, "2 to 4 subject lines (it has 1)") {
		t.Fatalf("one subject line: %d %q", code, errs)
	}
	_, errs, code = herald(t, nil, nil, data, "campaign", "create", "--edition", "1", "--segment", "Nobody")
	if code != 1 || !strings.Contains(errs, `there is no segment "Nobody"`) {
		t.Fatalf("unknown segment: %d %q", code, errs)
	}
	if _, errs, code = herald(t, nil, nil, data, "campaign", "create", "--edition", "1", "--segment", "All news", "--local-time", "07:00"); code != 0 {
		t.Fatalf("local time: %d %q", code, errs)
	}
	if _, errs, code = herald(t, nil, nil, data, "campaign", "create", "--edition", "1", "--segment", "All news",
		"--ab-subject", "One", "--ab-subject", "Two", "--ab-preheader", "First", "--ab-sample", "30", "--ab-wait", "90m", "--ab-metric", "clicks"); code != 0 {
		t.Fatalf("A/B test: %d %q", code, errs)
	}
	out, errs, code := herald(t, nil, nil, data, "campaign", "status", "2")
	if code != 0 || !strings.Contains(out, "A/B test (30% sample): winner chosen after 1h30m0s by unique clicks") {
		t.Fatalf("campaign status: %d %q %q", code, out, errs)
	}
}

func TestSunsetCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := "--data=" + dir
	out, errs, code := herald(t, nil, nil, data, "sunset", "--months", "6", "--dry-run")
	if code != 0 || !strings.Contains(out, "0 subscribers with no open or click since") || !strings.Contains(out, `would be moved to the segment "Re-engagement"`) {
		t.Fatalf("sunset: %d %q %q", code, out, errs)
	}
	_, errs, code = herald(t, nil, nil, data, "sunset", "--months", "6", "--action", "delete")
	if code != 1 || !strings.Contains(errs, `the action is segment or suppress (not "delete")`) {
		t.Fatalf("bad action: %d %q", code, errs)
	}
	_, errs, code = herald(t, map[string]string{"HERALD_TRACKING": "anonymous"}, nil, data, "sunset", "--months", "6")
	if code != 2 || !strings.Contains(errs, "a sunset needs full tracking: tracking is anonymous") {
		t.Fatalf("anonymous tracking: %d %q", code, errs)
	}
	// Anonymous by the admin's privacy setting, with full tracking
	// configured: refused too, dry run or not.
	s, err := store.Open(context.Background(), store.Options{SQLitePath: filepath.Join(dir, "herald.db")})
	if err != nil {
		t.Fatal(err)
	}
	err = settings.SaveTracking(context.Background(), s, settings.Tracking{Opens: true, Clicks: true, Anonymous: true}, time.Now())
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, dry := range []string{"--dry-run=false", "--dry-run"} {
		_, errs, code = herald(t, nil, nil, data, "sunset", "--months", "6", dry)
		if code != 2 || !strings.Contains(errs, "a sunset needs full tracking: tracking is anonymous (Admin → Settings, privacy)") {
			t.Fatalf("anonymous by the privacy setting (%s): %d %q", dry, code, errs)
		}
	}
}

// TestCampaignVerbsNameThemselves: each campaign verb's help names the
// verb ("campaign pause ID"), not the status it leads to.
func TestCampaignVerbsNameThemselves(t *testing.T) {
	for _, verb := range []string{"start", "pause", "resume", "cancel"} {
		out, errs, _ := herald(t, nil, nil, "--data="+t.TempDir(), "campaign", verb, "--help")
		if !strings.Contains(out+errs, "Usage: herald campaign "+verb+" ID") {
			t.Errorf("campaign %s --help says:\n%s%s", verb, out, errs)
		}
	}
}
