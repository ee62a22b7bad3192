package admin_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/model"
)

// TestSegmentDeleteAndDepth: an editor deletes a segment from the
// segments page; one that is a campaign's audience stays, and the page
// says which campaign; a query nested too deep is refused in words and
// never saved.
func TestSegmentDeleteAndDepth(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	c := e.login(auth.Editor)
	l, err := e.st.Lists(ctx)
	if err != nil || len(l) == 0 {
		t.Fatalf("lists: %v", err)
	}
	spare := &model.Segment{Name: "Spare", Query: "list = " + l[0].Slug}
	used := &model.Segment{Name: "Used", Query: "list = " + l[0].Slug}
	for _, sg := range []*model.Segment{spare, used} {
		if err := e.st.SaveSegment(ctx, sg); err != nil {
			t.Fatal(err)
		}
	}
	var edID int64
	fmt.Sscan(e.ids["edition"], &edID)
	camp := &model.Campaign{Name: "Segment send", EditionID: edID, SegmentIDs: []int64{used.ID}, From: "Courier <news@example.com>"}
	if err := e.st.CreateCampaign(ctx, camp); err != nil {
		t.Fatal(err)
	}
	if page := c.get("/admin/segments"); !strings.Contains(page, fmt.Sprintf(`action="/admin/segments/%d/delete"`, spare.ID)) {
		t.Fatalf("no delete button:\n%s", page)
	}
	if res := c.post(fmt.Sprintf("/admin/segments/%d/delete", spare.ID), url.Values{"csrf": {c.csrf}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", res.StatusCode)
	}
	if segs, _ := e.st.Segments(ctx); len(segs) != 1 || segs[0].ID != used.ID {
		t.Fatalf("segments after delete: %+v", segs)
	}
	postRead := func(path string, form url.Values) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("POST", c.e.srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res := c.do(req)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, b
	}
	res, body := postRead(fmt.Sprintf("/admin/segments/%d/delete", used.ID), url.Values{"csrf": {c.csrf}})
	if res.StatusCode != http.StatusConflict || !strings.Contains(html.UnescapeString(string(body)), `audience of campaign `+fmt.Sprint(camp.ID)+` ("Segment send")`) {
		t.Fatalf("deleting a campaign's audience: %d\n%s", res.StatusCode, body)
	}
	res, body = postRead("/admin/segments", url.Values{"csrf": {c.csrf}, "name": {"Deep"}, "query": {strings.Repeat("not ", 900) + "list = " + l[0].Slug}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(body), "nest more than 16 deep") {
		t.Fatalf("deep query: %d", res.StatusCode)
	}
	if segs, _ := e.st.Segments(ctx); len(segs) != 1 {
		t.Fatalf("a deep query was saved: %+v", segs)
	}
}
