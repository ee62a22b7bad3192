package admin_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

// postPage posts a form and returns the status and the page it answered.
func (c *client) postPage(path string, form url.Values) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res := c.do(req)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// besideField fails unless the page shows want under the form field
// named name (after the field, before its block ends).
func besideField(t *testing.T, what, page, name, want string) {
	t.Helper()
	i := strings.Index(page, `name="`+name+`"`)
	if i < 0 {
		t.Errorf("%s: the page has no field %q", what, name)
		return
	}
	block, _, _ := strings.Cut(page[i:], "</div>\n") // the end of the field's block in the form
	const open = `<p class="field-error" role="alert">`
	j := strings.Index(block, open)
	if j < 0 || !strings.HasPrefix(html.UnescapeString(block[j+len(open):]), want) {
		t.Errorf("%s: no %q beside the field %q:\n%s", what, want, name, block)
	}
}

// unreadyEdition stores a draft edition the validator finds problems in.
func unreadyEdition(t *testing.T, st *store.Store) *model.Edition {
	t.Helper()
	e := &model.Edition{Slug: "unready", Date: "2026-03-02", Sections: []model.Section{{Kind: model.KindLead, Lead: &model.Lead{}}}}
	if err := st.CreateEdition(context.Background(), e, ""); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestCampaignRulesInTheAdmin: the new-campaign form is checked by the
// rules the API and the CLI use (delivery.CreateCampaign); a refused form
// comes back with the message beside its field and what was typed kept,
// and no campaign is made.
func TestCampaignRulesInTheAdmin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	unready := unreadyEdition(t, e.st)
	c := e.login(auth.Editor)
	before, err := e.st.CountCampaigns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what, field, value, errField, want string
	}{
		{"a Reply-To that is not an address", "reply_to", "letters at example.com", "reply_to", "The reply-to address is not an email address"},
		{"a name on two lines", "name", "Evening\r\nBcc: all@example.com", "name", "The campaign name must fit on one line."},
		{"a From that is not an address", "from", "The Courier", "from", "The From address should look like: The Courier <news@example.com>."},
		{"an edition that is not ready", "edition", itoa(unready.ID), "edition", "The edition is not ready to send: "},
		{"no list", "lists", "", "lists", "Choose at least one list or segment."},
		{"a bad local time", "local_time", "7am", "local_time", `Local send time: "7am" is not a time of day written HH:MM`},
	} {
		form := url.Values{"csrf": {c.csrf}, "name": {"Rules"}, "edition": {e.ids["edition"]}, "lists": {e.ids["list"]},
			"from": {"Courier <news@example.com>"}, "reply_to": {"letters@example.com"}}
		if tc.value == "" {
			form.Del(tc.field)
		} else {
			form.Set(tc.field, tc.value)
		}
		status, page := c.postPage("/admin/campaigns", form)
		if status != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d, want 422", tc.what, status)
			continue
		}
		besideField(t, tc.what, page, tc.errField, tc.want)
		if tc.field == "reply_to" && !strings.Contains(page, `value="letters at example.com"`) {
			t.Errorf("%s: what was typed is lost", tc.what)
		}
	}
	if after, err := e.st.CountCampaigns(ctx); err != nil || after != before {
		t.Fatalf("campaigns %d, then %d (%v): a refused form stored one", before, after, err)
	}
}

// TestListAndColourRulesInTheAdmin: the list slug rule is the store's (a
// refused list comes back with the message beside the slug), and a colour
// the publication's settings refuse names the colour.
func TestListAndColourRulesInTheAdmin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	c := e.login(auth.Owner)
	status, page := c.postPage("/admin/lists", url.Values{"csrf": {c.csrf}, "name": {"Morning"}, "slug": {"Bad Slug"}})
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("bad slug: status %d", status)
	}
	besideField(t, "bad slug", page, "slug", "A list's slug is lower-case letters, digits and dashes")
	status, page = c.postPage("/admin/lists", url.Values{"csrf": {c.csrf}, "name": {"Again"}, "slug": {"evening"}})
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("taken slug: status %d", status)
	}
	besideField(t, "taken slug", page, "slug", "A list with that slug exists already.")
	status, page = c.postPage("/admin/lists/"+e.ids["list"], url.Values{"csrf": {c.csrf}, "name": {"Two\nlines"}})
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("two-line name: status %d", status)
	}
	besideField(t, "two-line name", page, "name", "The list name must fit on one line.")
	if ls, err := e.st.Lists(ctx); err != nil || len(ls) != 1 || ls[0].Name != "Evening Briefing" {
		t.Fatalf("lists after refusals: %+v, %v", ls, err)
	}

	form := url.Values{"csrf": {c.csrf}, "name": {"Northgate Courier"}, "site_url": {"https://courier.example"}, "accent": {"red"}}
	res := c.post("/admin/settings/publication", form)
	if got := flashOf(t, res); !strings.Contains(got, `The accent colour "red" is not a hex value such as #9c2f1f.`) {
		t.Fatalf("a named colour: flash %q", got)
	}
	if p, err := e.st.GetPublication(ctx); err != nil || p.Colors.Accent == "red" {
		t.Fatalf("a named colour was saved: %+v, %v", p.Colors, err)
	}
}

// TestStatusChangesInTheAdmin: pause, resume, cancel and schedule go
// through delivery.ChangeStatus, which refuses what the status does not
// allow.
func TestStatusChangesInTheAdmin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	c := e.login(auth.Editor)
	path := "/admin/campaigns/" + e.ids["campaign"]
	res := c.post(path+"/pause", url.Values{"csrf": {c.csrf}})
	if got := flashOf(t, res); got != "The campaign cannot do that in its current state." {
		t.Fatalf("pausing a draft: %q", got)
	}
	res = c.post(path+"/schedule", url.Values{"csrf": {c.csrf}, "send_at": {"2030-01-02T08:00"}})
	if got := flashOf(t, res); got != "Scheduled for 2030-01-02 08:00 UTC." {
		t.Fatalf("schedule: %q", got)
	}
	camp, err := e.st.Campaign(ctx, mustID(t, e.ids["campaign"]))
	if err != nil || camp.Status != model.CampaignScheduled {
		t.Fatalf("after schedule: %+v, %v", camp, err)
	}
	res = c.post(path+"/cancel", url.Values{"csrf": {c.csrf}})
	if got := flashOf(t, res); got != "Cancelled. Mail not yet sent will not go out." {
		t.Fatalf("cancel: %q", got)
	}
	if camp, err = e.st.Campaign(ctx, camp.ID); err != nil || camp.Status != model.CampaignCancelled {
		t.Fatalf("after cancel: %+v, %v", camp, err)
	}
}

// flashOf returns the message a redirect carries in its flash cookie.
func flashOf(t *testing.T, res *http.Response) string {
	t.Helper()
	for _, ck := range res.Cookies() {
		if ck.Name == "herald_flash" {
			v, _ := url.QueryUnescape(ck.Value)
			_, msg, _ := strings.Cut(v, ":")
			return msg
		}
	}
	t.Fatalf("%d to %q with no flash", res.StatusCode, res.Header.Get("Location"))
	return ""
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestOneTimeZoneInTheSettings: the settings page asks for the time zone
// once, and that one value is the publication's and the newsroom's.
func TestOneTimeZoneInTheSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	c := e.login(auth.Owner)
	page := c.get("/admin/settings")
	if n := strings.Count(page, `name="zone"`) + strings.Count(page, `name="time_zone"`); n != 1 {
		t.Fatalf("the settings page asks for a time zone %d times", n)
	}
	if got := flashOf(t, c.post("/admin/settings/zone", url.Values{"csrf": {c.csrf}, "zone": {"Asia/Tokyo"}})); got != "The newsroom's time zone is now Asia/Tokyo." {
		t.Fatalf("save the zone: %q", got)
	}
	if p, err := e.st.GetPublication(ctx); err != nil || p.TimeZone != "Asia/Tokyo" {
		t.Fatalf("the publication's zone is %q, %v", p.TimeZone, err)
	}
	// Saving the publication's other settings leaves the zone alone.
	form := url.Values{"csrf": {c.csrf}, "name": {"Northgate Courier"}, "site_url": {"https://courier.example"}}
	if got := flashOf(t, c.post("/admin/settings/publication", form)); got != "Publication saved." {
		t.Fatalf("save the publication: %q", got)
	}
	if zone, err := e.st.TimeZone(ctx); err != nil || zone != "Asia/Tokyo" {
		t.Fatalf("after saving the publication the zone is %q, %v", zone, err)
	}
}

// TestUserRulesInTheAdmin: the add-a-user form is checked by auth.CreateUser
// (validator.User), the check `herald user create` runs, and comes back
// with the message beside the field and what was typed kept.
func TestUserRulesInTheAdmin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.login(auth.Owner)
	for _, tc := range []struct {
		what, email, name, role, password, field, want string
	}{
		{"no address", "ada", "Ada", "editor", "a long enough password", "email", "The address has no @"},
		{"a name on two lines", "ada@example.com", "Ada\nBcc", "editor", "a long enough password", "name", "The user's name must fit on one line."},
		{"no role", "ada@example.com", "Ada", "", "a long enough password", "role", "Choose a role"},
		{"a short password", "ada@example.com", "Ada", "editor", "short", "password", "A password needs at least"},
		{"a taken address", "editor@example.com", "Ed", "editor", "a long enough password", "email", "A user with that email exists already."},
	} {
		status, page := c.postPage("/admin/users", url.Values{"csrf": {c.csrf}, "email": {tc.email}, "name": {tc.name}, "role": {tc.role}, "password": {tc.password}})
		if status != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d, want 422", tc.what, status)
			continue
		}
		_, form, _ := strings.Cut(page, `id="new-user"`) // the table above has role and password fields too
		besideField(t, tc.what, form, tc.field, tc.want)
		if strings.Contains(page, tc.password) {
			t.Errorf("%s: the password came back in the page", tc.what)
		}
	}
	if us, err := e.st.Users(context.Background()); err != nil || len(us) != len(auth.AllRoles()) {
		t.Fatalf("users after refusals: %d, %v", len(us), err)
	}
}
