package cli

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/store/storetest"
)

// importFile writes a 100,000-row file with 300 bad rows (a bad address,
// a ragged row or a duplicate, in turn) and returns it with the lines of
// the bad rows.
func importFile(t *testing.T) (string, []int) {
	var b strings.Builder
	b.WriteString("Email Address,First Name,Last Name,City\n")
	var bad []int
	line := 2
	for i := 0; i < 100_000; i++ {
		row := fmt.Sprintf("reader%d@example.com,Reader,%d,York\n", i, i)
		if i%333 == 100 && len(bad) < 300 {
			switch len(bad) % 3 {
			case 0:
				row = fmt.Sprintf("reader%d@@example.com,Reader,%d,York\n", i, i)
			case 1:
				row = fmt.Sprintf("reader%d@example.com,Reader,%d\n", i, i)
			case 2:
				row = fmt.Sprintf("reader%d@example.com,Again,%d,York\n", i-1, i)
			}
			bad = append(bad, line)
		} else if i%1000 == 7 {
			row = fmt.Sprintf("reader%d@example.com,\"Reader\nof\nnews\",%d,York\n", i, i)
		}
		b.WriteString(row)
		line += strings.Count(row, "\n")
	}
	path := filepath.Join(t.TempDir(), "readers.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, bad
}

func TestImportExportCommands(t *testing.T) {
	t.Parallel()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			vars := map[string]string{}
			if db == "postgres" {
				vars["HERALD_DATABASE_URL"] = storetest.PostgresURL(t)
			}
			data := "--data=" + t.TempDir()
			for _, slug := range []string{"daily", "copy"} {
				if _, errs, code := herald(t, vars, nil, data, "lists", "create", slug, "--name", slug); code != 0 {
					t.Fatalf("lists create: %s", errs)
				}
			}
			path, bad := importFile(t)
			rejectsPath := filepath.Join(t.TempDir(), "rejects.csv")
			out, errs, code := herald(t, vars, nil, data, "import", "--list", "daily", "--rejects", rejectsPath, path)
			if code != 3 {
				t.Fatalf("import exited %d: %s", code, errs)
			}
			if want := "imported 99700, updated 0, skipped 0, suppressed 0, rejected 300\n"; out != want {
				t.Fatalf("summary %q, want %q", out, want)
			}
			for _, l := range bad {
				if !strings.Contains("\n"+errs, fmt.Sprintf("\nline %d: ", l)) {
					t.Fatalf("line %d not reported on stderr", l)
				}
			}
			if !strings.Contains(errs, "importing: done") || !strings.Contains(errs, "300 rows were rejected") {
				t.Errorf("stderr lacks progress or summary:\n%.2000s", errs)
			}
			f, err := os.Open(rejectsPath)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			cr := csv.NewReader(f)
			cr.FieldsPerRecord = -1
			recs, err := cr.ReadAll()
			if err != nil || len(recs) != 301 {
				t.Fatalf("rejects file: %d records, %v", len(recs), err)
			}
			if h := strings.Join(recs[0], ","); h != "line,reason,Email Address,First Name,Last Name,City" {
				t.Errorf("rejects header %q", h)
			}
			for i, l := range bad {
				if recs[i+1][0] != fmt.Sprint(l) {
					t.Fatalf("rejects row %d: %q, want line %d", i, recs[i+1], l)
				}
			}
			if !strings.Contains(recs[3][1], "duplicate of line") || len(recs[2]) != 5 {
				t.Errorf("rejects rows: %q %q", recs[2], recs[3])
			}

			// Export, re-import into another list from standard input, export again.
			first, errs, code := herald(t, vars, nil, data, "export", "--list", "daily")
			if code != 0 || !strings.HasPrefix(first, "email,name,status,created_at,attributes\n") {
				t.Fatalf("export: %d %s", code, errs)
			}
			out, errs, code = herald(t, vars, strings.NewReader(first), data, "import", "--list", "copy", "-")
			if code != 0 || out != "imported 0, updated 99700, skipped 0, suppressed 0, rejected 0\n" {
				t.Fatalf("re-import: %d %q %s", code, out, errs)
			}
			second, _, _ := herald(t, vars, nil, data, "export", "--list", "copy")
			if second != first {
				t.Fatal("export, import, export changed the data")
			}

			_, errs, code = herald(t, vars, strings.NewReader("Name,Phone\nAnn,1\n"), data, "import", "--list", "daily", "-")
			if code != 1 || !strings.Contains(errs, `the columns found are "Name", "Phone"`) {
				t.Fatalf("missing email column: %d %s", code, errs)
			}
			_, errs, code = herald(t, vars, nil, data, "import", "--list", "daily", "--mode", "merge", path)
			if code != 2 || !strings.Contains(errs, "--mode must be upsert or skip-existing") {
				t.Fatalf("bad mode: %d %s", code, errs)
			}
		})
	}
}
