package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

// rulesData is a data folder with the list "news", the sample edition
// (ID 1, from a file) and a draft edition that is not ready (ID 2).
func rulesData(t *testing.T) (data string, st func() *store.Store) {
	t.Helper()
	dir := t.TempDir()
	data = "--data=" + dir
	file := filepath.Join(dir, "briefing.md")
	if err := os.WriteFile(file, sample.Source(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"lists", "create", "news", "--name", "News"}, {"edition", "import", file}} {
		if _, errs, code := herald(t, nil, nil, append([]string{data}, args...)...); code != 0 {
			t.Fatalf("%v: %d %s", args, code, errs)
		}
	}
	open := func() *store.Store {
		s, err := store.Open(context.Background(), store.Options{SQLitePath: filepath.Join(dir, "herald.db")})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	s := open()
	unready := &model.Edition{Slug: "unready", Date: "2026-03-02", Subject: "Not ready yet", Sections: []model.Section{{Kind: model.KindLead, Lead: &model.Lead{}}}}
	if err := s.CreateEdition(context.Background(), unready, ""); err != nil || unready.ID != 2 {
		t.Fatalf("unready edition %d: %v", unready.ID, err)
	}
	return data, open
}

// TestCampaignRulesInTheCLI: campaign create is checked by the rules the
// admin and the API use (delivery.CreateCampaign): --from is parsed now,
// --edition ID gets the readiness check an edition file gets, and a
// refusal is one line on stderr naming the flag, with exit status 2.
func TestCampaignRulesInTheCLI(t *testing.T) {
	t.Parallel()
	data, open := rulesData(t)
	for _, tc := range []struct {
		what string
		args []string
		want string
	}{
		{"a From that is not an address", []string{"--from", "The Courier"}, "herald: --from: The From address should look like: The Courier <news@example.com>.\n"},
		{"a Reply-To that is not an address", []string{"--reply-to", "letters at example.com"}, "herald: --reply-to: The reply-to address is not an email address"},
		{"a name on two lines", []string{"--name", "Evening\nBcc: all@example.com"}, "herald: --name: The campaign name must fit on one line.\n"},
		{"an edition ID that is not ready", []string{"--edition", "2"}, "herald: --edition: The edition is not ready to send: "},
	} {
		args := append([]string{data, "campaign", "create", "--edition", "1", "--list", "news"}, tc.args...)
		_, errs, code := herald(t, nil, nil, args...)
		if code != 2 || !strings.HasPrefix(errs, tc.want) {
			t.Errorf("%s: %d %q, want 2 and %q", tc.what, code, errs, tc.want)
		}
	}
	if n, err := open().CountCampaigns(context.Background()); err != nil || n != 0 {
		t.Fatalf("%d campaigns (%v) after refusals", n, err)
	}
	out, errs, code := herald(t, nil, nil, data, "campaign", "create", "--edition", "1", "--list", "news",
		"--from", "The Courier <news@example.com>", "--reply-to", "letters@example.com")
	if code != 0 || strings.TrimSpace(out) != "1" {
		t.Fatalf("a good campaign: %d %q %q", code, out, errs)
	}
}

// TestListRuleInTheCLI: lists create keeps the store's slug rule, naming
// the argument.
func TestListRuleInTheCLI(t *testing.T) {
	t.Parallel()
	data := "--data=" + t.TempDir()
	_, errs, code := herald(t, nil, nil, data, "lists", "create", "News-Desk", "--name", "News")
	if code != 2 || !strings.HasPrefix(errs, `herald: SLUG: A list's slug is lower-case letters, digits and dashes (at most 63), starting with a letter or digit; "News-Desk" is not.`) {
		t.Fatalf("capitals: %d %q", code, errs)
	}
	_, errs, code = herald(t, nil, nil, data, "lists", "create", "news", "--name", "Two\nlines")
	if code != 2 || !strings.HasPrefix(errs, "herald: --name: The list name must fit on one line.") {
		t.Fatalf("two-line name: %d %q", code, errs)
	}
}

// TestStatusChangesInTheCLI: pause, resume, cancel and the new schedule
// go through delivery.ChangeStatus.
func TestStatusChangesInTheCLI(t *testing.T) {
	t.Parallel()
	data, open := rulesData(t)
	if _, errs, code := herald(t, nil, nil, data, "campaign", "create", "--edition", "1", "--list", "news"); code != 0 {
		t.Fatalf("create: %d %q", code, errs)
	}
	_, errs, code := herald(t, nil, nil, data, "campaign", "pause", "1")
	if code != 1 || !strings.Contains(errs, "campaign 1 is draft and cannot become paused") {
		t.Fatalf("pausing a draft: %d %q", code, errs)
	}
	out, errs, code := herald(t, nil, nil, data, "campaign", "schedule", "1", "--at", "2030-01-02T08:00:00Z")
	if code != 0 || out != "campaign 1 is scheduled for 2030-01-02T08:00:00Z; 'herald serve' starts it then\n" {
		t.Fatalf("schedule: %d %q %q", code, out, errs)
	}
	if c, err := open().Campaign(context.Background(), 1); err != nil || c.Status != model.CampaignScheduled {
		t.Fatalf("after schedule: %+v, %v", c, err)
	}
	if _, errs, code = herald(t, nil, nil, data, "campaign", "schedule", "1"); code != 2 || !strings.Contains(errs, "give --at TIME or --clear") {
		t.Fatalf("schedule without a time: %d %q", code, errs)
	}
	if out, errs, code = herald(t, nil, nil, data, "campaign", "schedule", "1", "--clear"); code != 0 || out != "campaign 1 is a draft\n" {
		t.Fatalf("clear: %d %q %q", code, out, errs)
	}
	if out, errs, code = herald(t, nil, nil, data, "campaign", "cancel", "1"); code != 0 || out != "campaign 1 is cancelled\n" {
		t.Fatalf("cancel: %d %q %q", code, out, errs)
	}
	if _, errs, code = herald(t, nil, nil, data, "campaign", "schedule", "1", "--clear"); code != 1 || !strings.Contains(errs, "campaign 1 is cancelled; only a draft or scheduled campaign can be scheduled") {
		t.Fatalf("scheduling a cancelled campaign: %d %q", code, errs)
	}
}

// TestUserAndTokenRulesInTheCLI: user create and token create keep the
// rules the admin keeps (auth.CreateUser, auth.CreateToken), naming the
// argument or flag.
func TestUserAndTokenRulesInTheCLI(t *testing.T) {
	t.Parallel()
	data := "--data=" + t.TempDir()
	_, errs, code := herald(t, nil, nil, data, "user", "create", "ada", "--role", "editor")
	if code != 2 || !strings.HasPrefix(errs, "herald: EMAIL: The address has no @") {
		t.Fatalf("no address: %d %q", code, errs)
	}
	_, errs, code = herald(t, nil, nil, data, "user", "create", "ada@example.com", "--role", "editor", "--name", "Ada\nBcc")
	if code != 2 || !strings.HasPrefix(errs, "herald: --name: The user's name must fit on one line.") {
		t.Fatalf("two-line name: %d %q", code, errs)
	}
	if _, errs, code = herald(t, nil, strings.NewReader("a long enough password\n"), data, "user", "create", "ada@example.com", "--role", "editor", "--password-stdin"); code != 0 {
		t.Fatalf("user create: %d %q", code, errs)
	}
	_, errs, code = herald(t, nil, nil, data, "token", "create", "ada@example.com", "--role", "editor", "--name", " ")
	if code != 2 || !strings.HasPrefix(errs, "herald: --name: A token needs a name.") {
		t.Fatalf("token without a name: %d %q", code, errs)
	}
}
