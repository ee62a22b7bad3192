package admin_test

import (
	"context"
	"html"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/series"
)

// TestDeskFormsExplainMistakes: the time zone, source and series forms
// refuse bad input with a sentence saying what to fix, and keep good input;
// the series page shows times in the newsroom's zone.
func TestDeskFormsExplainMistakes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	owner := e.login(auth.Owner)
	flash := func(c *client, path string, form url.Values, want string) {
		t.Helper()
		form.Set("csrf", c.csrf)
		res := c.post(path, form)
		loc := res.Header.Get("Location")
		page := html.UnescapeString(c.get(strings.SplitN(loc, "#", 2)[0]))
		if !strings.Contains(page, want) {
			t.Errorf("POST %s %v: the page after does not say %q", path, form, want)
		}
	}
	flash(owner, "/admin/settings/zone", url.Values{"zone": {"Mars/Olympus_Mons"}}, `"Mars/Olympus_Mons" is not a time zone Herald knows`)
	flash(owner, "/admin/settings/zone", url.Values{"zone": {"America/New_York"}}, "The newsroom's time zone is now America/New_York.")
	if loc, err := series.Zone(ctx, e.st); err != nil || loc.String() != "America/New_York" {
		t.Fatalf("zone = %v, %v", loc, err)
	}

	flash(owner, "/admin/sources", url.Values{"name": {"Ours"}, "url": {"ftp://example.org/feed"}}, "The feed address should be a web address")
	flash(owner, "/admin/sources", url.Values{"name": {""}, "url": {"https://example.org/feed"}}, "Give the source a name.")
	flash(owner, "/admin/sources", url.Values{"name": {"Ours"}, "url": {"https://example.org/feed"}, "interval": {"2"}}, "every 5 minutes at the most often")
	flash(owner, "/admin/sources", url.Values{"name": {"Ours"}, "url": {"https://example.org/feed"}, "own": {"on"}}, "Source “Ours” added")
	flash(owner, "/admin/sources", url.Values{"name": {"Again"}, "url": {"https://example.org/feed"}}, "That feed is already a source.")

	base := url.Values{"name": {"Evening briefing"}, "slot_time": {"18:00"}, "day1": {"on"}, "list": {e.ids["list"]}, "active": {"on"},
		"skeleton": {"lead: Tonight\npicks: Five things\ntext: Housekeeping | Reply to reach the desk."}, "remind_before": {"30"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for key, vs := range base {
			f[key] = append([]string(nil), vs...)
		}
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	flash(owner, "/admin/series", with("slot_time", "6pm"), "The time should be on the 24-hour clock")
	flash(owner, "/admin/series", with("day1", ""), "Choose at least one day of the week.")
	flash(owner, "/admin/series", with("list", ""), "Choose at least one list.")
	flash(owner, "/admin/series", with("skeleton", "lede: Tonight"), `"lede" is not a section kind`)
	flash(owner, "/admin/series", with("automatic", "on"), "An automatic series needs a source")
	flash(owner, "/admin/series", with("remind_to", "not an address"), "The reminder address is not an email address.")
	flash(owner, "/admin/series", base, "Series “Evening briefing” created.")
	all, err := e.st.AllSeries(ctx)
	if err != nil || len(all) != 1 {
		t.Fatalf("series = %+v, %v", all, err)
	}
	sr := all[0]
	if len(sr.Template.Sections) != 3 || sr.Template.Sections[2].Text.Body != "Reply to reach the desk." || sr.RemindBefore != 30*time.Minute ||
		len(sr.Weekdays) != 1 || sr.Weekdays[0] != time.Monday {
		t.Errorf("saved series: %+v", sr)
	}
	page := owner.get("/admin/series")
	if !strings.Contains(page, "America/New_York") || !(strings.Contains(page, "18:00 EST") || strings.Contains(page, "18:00 EDT")) {
		t.Errorf("the series page does not show the next slot in New York time")
	}
	// An author may read the desk but not add sources or series.
	author := e.login(auth.Author)
	if res := author.post("/admin/sources", url.Values{"csrf": {author.csrf}, "name": {"X"}, "url": {"https://x.example/feed"}}); res.StatusCode != 403 {
		t.Errorf("an author adding a source: %d", res.StatusCode)
	}
}
