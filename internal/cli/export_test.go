package cli

import (
	"strings"
	"testing"
)

// TestExportAttributeFilter: `herald export --attr` takes name=value and
// refuses anything else, rather than exporting everyone.
func TestExportAttributeFilter(t *testing.T) {
	t.Parallel()
	data := "--data=" + t.TempDir()
	if _, errs, code := herald(t, nil, nil, data, "lists", "create", "daily", "--name", "Daily"); code != 0 {
		t.Fatalf("lists create: %s", errs)
	}
	file := "email,name,city\nann@example.com,Ann,Leeds\nbo@example.com,Bo,Bath\n"
	if _, errs, code := herald(t, nil, strings.NewReader(file), data, "import", "--list", "daily", "-"); code != 0 {
		t.Fatalf("import: %s", errs)
	}
	for bad, why := range map[string]string{"city": "name=value", "=Leeds": "no attribute name", "city=": "no value"} {
		out, errs, code := herald(t, nil, nil, data, "export", "--list", "daily", "--attr", bad)
		if code != 2 || out != "" || !strings.Contains(errs, why) {
			t.Errorf("export --attr %q: %d %q %q, want a usage error saying %q and nothing exported", bad, code, out, errs, why)
		}
	}
	out, errs, code := herald(t, nil, nil, data, "export", "--list", "daily", "--attr", "city=Leeds")
	if code != 0 || !strings.Contains(out, "\nann@example.com,Ann,") || strings.Contains(out, "bo@example.com") {
		t.Fatalf("export --attr city=Leeds: %d %s\n%s", code, errs, out)
	}
}
