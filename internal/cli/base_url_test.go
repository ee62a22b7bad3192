package cli

import (
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/smtpsink"
)

// TestCampaignStartNeedsBaseURLForARelay (issue 23, item 12): on a server
// with a relay and no base_url, `herald campaign schedule` and `herald
// campaign start` refuse, naming
// the setting, and nothing reaches the relay; with base_url set (a
// loopback one, as tests use) the same campaign starts.
func TestCampaignStartNeedsBaseURLForARelay(t *testing.T) {
	_, file, data := ferryFile(t)
	sink, err := smtpsink.Start(smtpsink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	relay := map[string]string{"HERALD_RELAY_URL": sink.URL()}
	for _, args := range [][]string{
		{"lists", "create", "news", "--name", "News"},
		{"import", "--list", "news", "-"},
		{"edition", "import", file},
		{"campaign", "create", "--edition", "1", "--list", "news"},
	} {
		if _, errs, code := herald(t, relay, strings.NewReader("email\nreader@example.net\n"), append([]string{data}, args...)...); code != 0 {
			t.Fatalf("%v: %d %s", args, code, errs)
		}
	}
	// Scheduling it is refused the same way, now rather than at its time.
	out, errs, code := herald(t, relay, nil, data, "campaign", "schedule", "1", "--at", "2030-01-15T18:00:00Z")
	if code != 2 || !strings.Contains(errs, "herald: base_url: Mail to readers through a relay needs base_url") || strings.Contains(out, "scheduled") {
		t.Fatalf("schedule without base_url: %d\n%s%s", code, out, errs)
	}
	out, errs, code = herald(t, relay, nil, data, "campaign", "start", "1", "--no-check")
	if code != 2 || !strings.Contains(errs, "herald: base_url: Mail to readers through a relay needs base_url") ||
		!strings.Contains(errs, "http://127.0.0.1:8080") || strings.Contains(out, "started") {
		t.Fatalf("start without base_url: %d\n%s%s", code, out, errs)
	}
	if n := sink.Count(); n != 0 {
		t.Fatalf("%d messages reached the relay", n)
	}
	relay["HERALD_BASE_URL"] = "http://127.0.0.1:8080"
	if out, errs, code := herald(t, relay, nil, data, "campaign", "start", "1", "--no-check"); code != 0 || !strings.Contains(out, "campaign 1 started") {
		t.Fatalf("start with an explicit base_url: %d\n%s%s", code, out, errs)
	}
	// The outbox (no relay) takes a campaign without base_url.
	if _, errs, code := herald(t, nil, nil, data, "campaign", "create", "--edition", "1", "--list", "news"); code != 0 {
		t.Fatalf("campaign create: %s", errs)
	}
	// A second send of the edition to the list: --yes.
	if out, errs, code := herald(t, nil, nil, data, "campaign", "start", "2", "--no-check", "--yes"); code != 0 || !strings.Contains(out, "campaign 2 started") {
		t.Fatalf("start into the outbox: %d\n%s%s", code, out, errs)
	}
}
