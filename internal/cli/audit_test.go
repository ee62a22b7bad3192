package cli

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestAuditFromTheCLI makes each audited kind of change with the real
// commands and reads them back with `herald audit`: one row each, as
// cli:OS-USER via cli; a refused change adds none; no token or erased
// address is in the log.
func TestAuditFromTheCLI(t *testing.T) {
	t.Parallel()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			vars := map[string]string{}
			if db == "postgres" {
				vars["HERALD_DATABASE_URL"] = storetest.PostgresURL(t)
			}
			dir := t.TempDir()
			data := "--data=" + dir
			file := filepath.Join(dir, "briefing.md")
			if err := os.WriteFile(file, sample.Source(), 0o644); err != nil {
				t.Fatal(err)
			}
			run := func(stdin string, want int, args ...string) (string, string) {
				t.Helper()
				out, errs, code := herald(t, vars, strings.NewReader(stdin), append([]string{data}, args...)...)
				if code != want {
					t.Fatalf("herald %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errs)
				}
				return out, errs
			}
			run("", 0, "lists", "create", "news", "--name", "News")
			run("email,name\nreader@example.com,Reader\n", 0, "import", "--list", "news", "-")
			run("", 0, "edition", "import", file)
			run("", 0, "campaign", "create", "--edition", "1", "--list", "news")
			run("", 0, "campaign", "start", "1", "--no-check") // the sample's links lead nowhere
			run("", 0, "campaign", "pause", "1")
			run("", 0, "campaign", "cancel", "1")
			run("", 1, "campaign", "pause", "1") // cancelled is final
			run("a long enough password\n", 0, "user", "create", "ed@example.com", "--role", "editor", "--password-stdin")
			run("", 0, "user", "role", "ed@example.com", "author")
			token, _ := run("", 0, "token", "create", "ed@example.com", "--role", "viewer", "--name", "ci")
			run("", 0, "subscribers", "delete", "reader@example.com")
			if out, _ := run("", 0, "audit", "retention", "45"); out != "audit rows are kept for 45 days\n" {
				t.Errorf("audit retention 45: %q", out)
			}
			run("", 2, "audit", "retention", "-3")

			out, _ := run("", 0, "audit", "--since", "1h", "--csv")
			rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			actor := audit.CLI().Name
			var got []string
			for _, r := range rows[1:] {
				got = append(got, r[4])
				if r[1] != actor || r[2] != "cli" || r[3] != "" {
					t.Errorf("row %q: want %s via cli from no address", r, actor)
				}
			}
			want := "settings.update subscriber.erase token.create user.role user.create campaign.cancel campaign.pause campaign.start " +
				"campaign.create edition.create import.batch list.create"
			if strings.Join(got, " ") != want {
				t.Fatalf("CLI audit rows =\n%q\nwant\n%q", got, want)
			}
			for _, secret := range []string{strings.TrimSpace(token), "reader@example.com", "a long enough password"} {
				if strings.Contains(out, secret) {
					t.Errorf("the audit log holds %q", secret)
				}
			}
			out, _ = run("", 0, "audit", "--action", "campaign.")
			if strings.Count(out, "\n") != 5 || !strings.Contains(out, "status: paused → cancelled") || !strings.Contains(out, actor) {
				t.Errorf("herald audit --action campaign.:\n%s", out)
			}
			out, _ = run("", 0, "audit", "--action", "import.batch")
			if !strings.Contains(out, "imported: 1; rows: 1") || !strings.Contains(out, "list/1") {
				t.Errorf("herald audit --action import.batch:\n%s", out)
			}
			out, _ = run("", 0, "audit", "--action", "user.role")
			if !strings.Contains(out, "role: editor → author") {
				t.Errorf("herald audit --action user.role:\n%s", out)
			}
			run("", 2, "audit", "--since", "fortnight")
		})
	}
}
