package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSegmentsCommands(t *testing.T) {
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
}
