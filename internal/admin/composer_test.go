package admin_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/auth"
)

// TestComposerNeverOverwritesAnotherEditor: two editors open the same
// edition; the second to save is told, keeps their text on screen, and
// replaces the other version only by saving again. Autosave never
// overwrites.
func TestComposerNeverOverwritesAnotherEditor(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	id := e.ids["edition"]
	edID, _ := strconv.ParseInt(id, 10, 64)
	alice, bob := e.login(auth.Editor), e.login(auth.Owner)
	revRE := regexp.MustCompile(`name="revision" value="(\d+)"`)
	m := revRE.FindStringSubmatch(alice.get("/admin/editions/" + id))
	if m == nil {
		t.Fatal("the composer has no revision field")
	}
	opened := m[1]
	send := func(c *client, path, subject, rev string) (int, string) {
		t.Helper()
		form := url.Values{"csrf": {c.csrf}, "subject": {subject}, "date": {"2026-11-27"}, "slot": {"evening"},
			"slug": {"2026-11-27-evening"}, "sections": {"0"}, "revision": {rev}}
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res := c.do(req)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	subject := func() string {
		ed, err := e.st.GetEdition(ctx, edID)
		if err != nil {
			t.Fatal(err)
		}
		return ed.Subject
	}

	// Bob's autosave lands first and answers with the new revision.
	code, body := send(bob, "/admin/editions/"+id+"/autosave", "Bob's subject", opened)
	var res struct {
		Saved    bool `json:"saved"`
		Stale    bool `json:"stale"`
		Revision int  `json:"revision"`
	}
	if err := json.Unmarshal([]byte(body), &res); code != http.StatusOK || err != nil || !res.Saved || strconv.Itoa(res.Revision-1) != opened {
		t.Fatalf("Bob's autosave = %d %s", code, body)
	}
	bobs := strconv.Itoa(res.Revision)

	// Alice's autosave from the older page: refused, not saved.
	_, body = send(alice, "/admin/editions/"+id+"/autosave", "Alice's subject", opened)
	res.Saved, res.Stale = true, false
	if err := json.Unmarshal([]byte(body), &res); err != nil || res.Saved || !res.Stale {
		t.Fatalf("Alice's stale autosave = %s", body)
	}
	// Her Save: refused with an explanation, her text still in the form,
	// now at the current revision.
	code, body = send(alice, "/admin/editions/"+id, "Alice's subject", opened)
	if code != http.StatusConflict || !strings.Contains(body, "Someone else saved this edition after you opened it") ||
		!strings.Contains(body, `value="Alice&#39;s subject"`) {
		t.Fatalf("Alice's stale save = %d\n%s", code, body)
	}
	if got := subject(); got != "Bob's subject" {
		t.Fatalf("after the refused save the subject is %q", got)
	}
	m = revRE.FindStringSubmatch(body)
	if m == nil || m[1] != bobs {
		t.Fatalf("the refused form carries revision %v, want Bob's %s", m, bobs)
	}
	// Saving again is her decision: it replaces Bob's version.
	if code, _ := send(alice, "/admin/editions/"+id, "Alice's subject", m[1]); code != http.StatusSeeOther {
		t.Fatalf("deliberate save = %d", code)
	}
	if got := subject(); got != "Alice's subject" {
		t.Fatalf("after the deliberate save the subject is %q", got)
	}
}

// TestHistoryPreviewAndRestore: the history lists who saved what; a kept
// revision previews as it was and can be restored, the state it replaces
// staying in the history; a restore from a stale page is refused.
func TestHistoryPreviewAndRestore(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	id := e.ids["edition"]
	edID, _ := strconv.ParseInt(id, 10, 64)
	editor := e.login(auth.Editor)
	first, err := e.st.GetEdition(ctx, edID)
	if err != nil {
		t.Fatal(err)
	}
	// Two people's saves: neither folds into the other.
	for _, s := range []struct{ by, subject string }{{"editor@example.com", "The editor's subject"}, {"owner@example.com", "The owner's subject"}} {
		cur, _ := e.st.GetEdition(ctx, edID)
		cur.Subject = s.subject
		if err := e.st.UpdateEdition(ctx, cur, s.by); err != nil {
			t.Fatal(err)
		}
	}
	page := editor.get("/admin/editions/" + id + "/history")
	for _, want := range []string{"The owner&#39;s subject", "owner@example.com", "The editor&#39;s subject", "editor@example.com", first.Subject, "file or command line"} {
		if !strings.Contains(page, want) {
			t.Fatalf("the history lacks %q:\n%s", want, page)
		}
	}
	if web := editor.get("/admin/editions/" + id + "/preview/web?rev=1"); !strings.Contains(web, first.Subject) || strings.Contains(web, "owner&#39;s subject") {
		t.Fatalf("the preview of revision 1 does not show it")
	}
	cur, _ := e.st.GetEdition(ctx, edID)
	stale := strconv.Itoa(cur.Revision - 1)
	if res := editor.post("/admin/editions/"+id+"/restore", url.Values{"csrf": {editor.csrf}, "rev": {"1"}, "revision": {stale}}); res.StatusCode != http.StatusSeeOther || !strings.HasSuffix(res.Header.Get("Location"), "/history") {
		t.Fatalf("stale restore = %d to %s", res.StatusCode, res.Header.Get("Location"))
	}
	if got, _ := e.st.GetEdition(ctx, edID); got.Subject != "The owner's subject" {
		t.Fatalf("a stale restore changed the edition to %q", got.Subject)
	}
	if res := editor.post("/admin/editions/"+id+"/restore", url.Values{"csrf": {editor.csrf}, "rev": {"1"}, "revision": {strconv.Itoa(cur.Revision)}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("restore = %d", res.StatusCode)
	}
	if got, _ := e.st.GetEdition(ctx, edID); got.Subject != first.Subject || len(got.Sections) != len(first.Sections) {
		t.Fatalf("after the restore: %q with %d sections", got.Subject, len(got.Sections))
	}
	revs, _ := e.st.EditionRevisions(ctx, edID)
	if len(revs) != 4 || revs[1].Edition.Subject != "The owner's subject" || revs[0].Author != "editor@example.com" {
		t.Fatalf("history after the restore: %d revisions, second %q, newest by %q", len(revs), revs[1].Edition.Subject, revs[0].Author)
	}
	// The editor's own quick save, then at once a restore: the save stays
	// in the history (a restore folds nothing).
	cur, _ = e.st.GetEdition(ctx, edID)
	cur.Subject = "The editor's latest work"
	if err := e.st.UpdateEdition(ctx, cur, "editor@example.com"); err != nil {
		t.Fatal(err)
	}
	if res := editor.post("/admin/editions/"+id+"/restore", url.Values{"csrf": {editor.csrf}, "rev": {"2"}, "revision": {strconv.Itoa(cur.Revision)}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("second restore = %d", res.StatusCode)
	}
	revs, _ = e.st.EditionRevisions(ctx, edID)
	if revs[1].Edition.Subject != "The editor's latest work" {
		t.Fatalf("the state a restore replaced is gone from the history: %q", revs[1].Edition.Subject)
	}
	if res := editor.post("/admin/editions/"+id+"/restore", url.Values{"csrf": {editor.csrf}, "rev": {"99"}, "revision": {"0"}}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("restore of a revision not kept = %d", res.StatusCode)
	}
}
