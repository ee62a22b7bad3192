package i18n

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
)

// catalogFile is one catalog's messages by key.
type catalogFile map[string]*goi18n.Message

func readCatalog(t *testing.T, file string) catalogFile {
	t.Helper()
	b, err := fs.ReadFile(locales, file)
	if err != nil {
		t.Fatal(err)
	}
	name := file // go-i18n reads the language from the name
	if strings.HasPrefix(file, "locales/admin/") {
		name = path.Base(path.Dir(file)) + ".toml"
	}
	mf, err := goi18n.ParseMessageFileBytes(b, name, map[string]goi18n.UnmarshalFunc{"toml": toml.Unmarshal})
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	out := catalogFile{}
	for _, m := range mf.Messages {
		out[m.ID] = m
	}
	return out
}

func forms(m *goi18n.Message) []string {
	var out []string
	for _, s := range []string{m.Zero, m.One, m.Two, m.Few, m.Many, m.Other} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

var placeholderRE = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

// placeholders returns the sorted names a message fills in, over all its
// plural forms.
func placeholders(m *goi18n.Message) []string {
	var out []string
	for _, f := range forms(m) {
		for _, p := range placeholderRE.FindAllStringSubmatch(f, -1) {
			if !slices.Contains(out, p[1]) {
				out = append(out, p[1])
			}
		}
	}
	slices.Sort(out)
	return out
}

// formatKeys are patterns whose placeholders a language picks from a set
// (Japanese dates use the month's number, French times no am/pm).
var formatKeys = map[string][]string{
	"date.format": {"Day", "Month", "MonthNumber", "Weekday", "Year"},
	"time.format": {"HalfDay", "Hour", "Hour12", "Minute"},
}

// TestCatalogsComplete is the catalog test: every catalog has exactly the
// English keys, each with the English placeholders (format patterns: drawn
// from their set), plural messages have an "other" form, and no English
// key is left that no code uses.
func TestCatalogsComplete(t *testing.T) {
	files, err := fs.Glob(locales, "locales/*.toml")
	if err != nil || len(files) < 10 {
		t.Fatalf("catalogs %v, %v; want at least ten", files, err)
	}
	en := readCatalog(t, "locales/en.toml")
	for _, f := range files {
		if f != "locales/en.toml" {
			for _, p := range compare(en, readCatalog(t, f)) {
				t.Errorf("%s %s", f, p)
			}
		}
	}
	// The admin's catalogs follow admin/en/ the same way, file by file
	// (one file per part of the admin); English, French and German are
	// complete.
	adminEN := catalogFile{}
	enFiles, _ := fs.Glob(locales, "locales/admin/en/*.toml")
	for _, f := range enFiles {
		for id, m := range readCatalog(t, f) {
			if _, dup := adminEN[id]; dup {
				t.Errorf("%s: %s is also in another admin file", f, id)
			}
			adminEN[id] = m
		}
	}
	langs, _ := fs.Glob(locales, "locales/admin/*")
	for _, want := range []string{"locales/admin/de", "locales/admin/fr"} {
		if !slices.Contains(langs, want) {
			t.Errorf("no %s/: the admin must be complete in English, French and German", want)
		}
	}
	for _, dir := range langs {
		if dir == "locales/admin/en" {
			continue
		}
		files, _ := fs.Glob(locales, dir+"/*.toml")
		for _, f := range files {
			if !slices.Contains(enFiles, "locales/admin/en/"+path.Base(f)) {
				t.Errorf("%s has no English file: the admin's files follow locales/admin/en/", f)
			}
		}
		for _, en := range enFiles {
			f := dir + "/" + path.Base(en)
			if !slices.Contains(files, f) {
				t.Errorf("no %s: every admin file of English needs its translation", f)
				continue
			}
			for _, p := range compare(readCatalog(t, en), readCatalog(t, f)) {
				t.Errorf("%s %s", f, p)
			}
		}
	}
	used := usedKeys(t)
	for _, cat := range []catalogFile{en, adminEN} {
		for id := range cat {
			if !used[id] {
				t.Errorf("%s is in the English catalogs but no code uses it: remove it from every catalog", id)
			}
		}
	}
	for id := range adminEN {
		if !strings.HasPrefix(id, "admin.") {
			t.Errorf("admin/en.toml has %s: the admin's keys start with admin.", id)
		}
	}
}

// compare returns what is wrong with catalog cat next to English.
func compare(en, cat catalogFile) []string {
	var out []string
	for id, want := range en {
		got, ok := cat[id]
		if !ok {
			out = append(out, fmt.Sprintf("misses %s (English: %q)", id, want.Other))
			continue
		}
		if got.Other == "" {
			out = append(out, fmt.Sprintf("%s has no \"other\" form", id))
		}
		gp, wp := placeholders(got), placeholders(want)
		if allowed, ok := formatKeys[id]; ok {
			for _, p := range gp {
				if !slices.Contains(allowed, p) {
					out = append(out, fmt.Sprintf("%s uses {{.%s}}; a format may use %v", id, p, allowed))
				}
			}
			continue
		}
		if !slices.Equal(gp, wp) {
			out = append(out, fmt.Sprintf("%s fills in %v, English %v", id, gp, wp))
		}
		if strings.Count(strings.Join(forms(got), ""), "<a ") != strings.Count(strings.Join(forms(want), ""), "<a ") {
			out = append(out, fmt.Sprintf("%s has not the links English has", id))
		}
	}
	for id := range cat {
		if _, ok := en[id]; !ok {
			out = append(out, fmt.Sprintf("has %s, which English has not (no code uses it)", id))
		}
	}
	slices.Sort(out)
	return out
}

// usedKeys returns the catalog keys quoted in Herald's code and templates
// (tests excluded).
func usedKeys(t *testing.T) map[string]bool {
	t.Helper()
	used := map[string]bool{}
	quoted := regexp.MustCompile(`"([a-z0-9_]+(?:\.[a-z0-9_]+)+)"`)
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == "locales") {
			return filepath.SkipDir
		}
		if d.IsDir() || strings.HasSuffix(path, "_test.go") || !(strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".html")) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range quoted.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return used
}

// The test must be able to fail: a catalog without a key, with a stray
// key, with another placeholder or without its link is caught.
func TestCatalogTestCatches(t *testing.T) {
	en := catalogFile{
		"a.b":      {ID: "a.b", Other: "Hello {{.Name}}"},
		"a.c":      {ID: "a.c", Other: "Gone"},
		"a.l_html": {ID: "a.l_html", Other: `See <a href="{{.URL}}">it</a>`},
	}
	bad := catalogFile{
		"a.b":      {ID: "a.b", Other: "Bonjour {{.Nom}}"},
		"a.x":      {ID: "a.x", Other: "x"},
		"a.l_html": {ID: "a.l_html", Other: "Voir {{.URL}}"},
	}
	got := compare(en, bad)
	want := []string{
		"a.b fills in [Nom], English [Name]",
		"a.l_html has not the links English has",
		"has a.x, which English has not (no code uses it)",
		`misses a.c (English: "Gone")`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("compare found\n%q\nwant\n%q", got, want)
	}
}
