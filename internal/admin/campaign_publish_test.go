package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/auth"
)

// The new-campaign form offers to publish the edition when the campaign
// starts; ticked, the campaign records it and its page says so.
func TestCampaignFormPublishOnStart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	editor := e.login(auth.Editor)
	if page := editor.get("/admin/campaigns/new"); !strings.Contains(page, `name="publish_on_start"`) {
		t.Fatalf("the new-campaign form has no publish_on_start box:\n%s", page)
	}
	for _, tc := range []struct {
		name    string
		box     string
		publish bool
	}{{"Published on start", "on", true}, {"Left alone", "", false}} {
		form := url.Values{"csrf": {editor.csrf}, "name": {tc.name}, "edition": {e.ids["edition"]}, "lists": {e.ids["list"]},
			"from": {"Courier <news@example.com>"}, "tracking": {"on"}}
		if tc.box != "" {
			form.Set("publish_on_start", tc.box)
		}
		res := editor.post("/admin/campaigns", form)
		loc := res.Header.Get("Location")
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/campaigns/") {
			t.Fatalf("create %q: %d to %q", tc.name, res.StatusCode, loc)
		}
		id, err := strconv.ParseInt(strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], "/admin/campaigns/"), 10, 64)
		if err != nil {
			t.Fatalf("campaign location %q: %v", loc, err)
		}
		c, err := e.st.Campaign(ctx, id)
		if err != nil || c.PublishOnStart != tc.publish {
			t.Fatalf("%q: publish on start %v (%v), want %v", tc.name, c.PublishOnStart, err, tc.publish)
		}
		page := editor.get("/admin/campaigns/" + strconv.FormatInt(id, 10))
		if says := strings.Contains(page, "Publishes the edition when it starts"); says != tc.publish {
			t.Errorf("%q: the campaign page mentions publishing: %v, want %v", tc.name, says, tc.publish)
		}
	}
}
