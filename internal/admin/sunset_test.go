package admin_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/admin"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/settings"
	"github.com/herald-news/herald/internal/store"
)

// TestSunsetPage: the sunset page shows the configured policy, the last
// run's report and who would go next (a dry run that moves nobody); with
// anonymous tracking the preview is refused, saying why.
func TestSunsetPage(t *testing.T) {
	policy := &store.SunsetPolicy{Months: 3, Action: store.SunsetSegment, SuppressAfter: 14}
	e := newEnv(t, func(d *admin.Deps) { d.Sunset = policy })
	ctx := context.Background()
	owner := e.login(auth.Owner)
	page := owner.get("/admin/sunset")
	for _, want := range []string{"3 months", "suppressed after 14 days", "Not run yet", "readers with no open or click since"} {
		if !strings.Contains(page, want) {
			t.Errorf("sunset page lacks %q", want)
		}
	}
	if _, err := e.st.Sunset(ctx, *policy); err != nil {
		t.Fatal(err)
	}
	if page := owner.get("/admin/sunset?months=12&action=suppress"); !strings.Contains(page, "Back from the segment") ||
		!strings.Contains(page, "would be suppressed") || !strings.Contains(page, "of another policy") {
		t.Errorf("after a run, the page lacks the last report or the other policy's preview:\n%s", page)
	}
	if page := owner.get("/admin/sunset?months=99"); !strings.Contains(page, "Months must be from 1 to 60.") {
		t.Error("a preview of 99 months is not refused")
	}
	if err := settings.SaveTracking(ctx, e.st, settings.Tracking{Opens: true, Clicks: true, Anonymous: true}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if page := owner.get("/admin/sunset"); !strings.Contains(page, "A sunset needs full tracking: tracking is anonymous") {
		t.Error("with anonymous tracking the preview is not refused")
	}
	if page := e.login(auth.Viewer).get("/admin/sunset"); strings.Contains(page, "Who would go next") {
		t.Error("a viewer sees the sunset page")
	}
}
