package admin_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/herald-news/herald/internal/auth"
)

// TestTimeZonesAreChecked: the publication's zone and a subscriber's tz
// attribute must be IANA zone names; anything else is refused unsaved.
func TestTimeZonesAreChecked(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	c := e.login(auth.Owner)
	form := url.Values{"csrf": {c.csrf}, "name": {"Northgate Courier"}, "site_url": {"https://courier.example"}, "time_zone": {"Europe/Lonodn"}}
	c.post("/admin/settings/publication", form)
	if p, err := e.st.GetPublication(ctx); err != nil || p.TimeZone != "" {
		t.Fatalf("a misspelt zone was saved: %+v, %v", p, err)
	}
	form.Set("time_zone", "Europe/London")
	c.post("/admin/settings/publication", form)
	if p, err := e.st.GetPublication(ctx); err != nil || p.TimeZone != "Europe/London" {
		t.Fatalf("the zone was not saved: %+v, %v", p, err)
	}
	path := "/admin/subscribers/" + e.ids["subscriber"]
	c.post(path, url.Values{"csrf": {c.csrf}, "name": {"Reader"}, "attributes": {`{"tz": "Atlantis/Capital"}`}})
	if sub, err := e.st.SubscriberByEmail(ctx, "reader@example.org"); err != nil || sub.Attributes["tz"] != nil {
		t.Fatalf("a bad tz was saved: %+v, %v", sub, err)
	}
	c.post(path, url.Values{"csrf": {c.csrf}, "name": {"Reader"}, "attributes": {`{"tz": "Asia/Tokyo"}`}})
	if sub, err := e.st.SubscriberByEmail(ctx, "reader@example.org"); err != nil || sub.Attributes["tz"] != "Asia/Tokyo" {
		t.Fatalf("a good tz was not saved: %+v, %v", sub, err)
	}
}
