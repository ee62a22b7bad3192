package admin_test

import (
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/admin"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

// waitImport waits for an import to leave the running state.
func waitImport(t *testing.T, st *store.Store, id int64) *store.ImportJob {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		j, err := st.GetImportJob(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.State != store.ImportRunning {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("import %d still running after a minute: %+v", id, j)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// upload posts a CSV to the import form and returns the import's page.
func upload(t *testing.T, e *env, c *client, csv string) (path string, id int64) {
	t.Helper()
	var body strings.Builder
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", c.csrf)
	mw.WriteField("list", e.ids["list"])
	fw, _ := mw.CreateFormFile("file", "readers.csv")
	io.WriteString(fw, csv)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/admin/imports", strings.NewReader(body.String()))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res := c.do(req)
	res.Body.Close()
	path = res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(path, "/admin/imports/") {
		t.Fatalf("upload = %d to %q", res.StatusCode, path)
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(path, "/admin/imports/"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return path, id
}

// TestImportShownByAnyNode: an import started on one node is shown, with
// its counts and rejected rows, by another node on the same database.
func TestImportShownByAnyNode(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.login(auth.Owner)
	loc, id := upload(t, e, owner, "email,name\nann@example.com,Ann\nnot-an-address,Bob\ncat@example.com,Cat\n")
	j := waitImport(t, e.st, id)
	if j.State != store.ImportDone || j.Counts.Imported != 2 || j.Counts.Rejected != 1 {
		t.Fatalf("import = %+v", j)
	}

	// A second node: its own admin over the same database.
	other, err := admin.New(e.deps)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	mux := http.NewServeMux()
	mux.Handle("/admin/", other)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func(path string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		res := owner.do(req) // the session lives in the database too
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, page := get(loc); code != http.StatusOK || !strings.Contains(page, "readers.csv") || !strings.Contains(page, `data-field="rejected">1<`) {
		t.Fatalf("the other node's import page = %d\n%s", code, page)
	}
	if code, csv := get(loc + "/rejects.csv"); code != http.StatusOK || !strings.Contains(csv, "3,") || !strings.Contains(csv, "not-an-address") {
		t.Fatalf("the other node's rejects = %d %q", code, csv)
	}
}

// TestInterruptedImportIsFinishedAtStart: an import left running by a
// process that died (its upload still in the data folder) is taken over
// when the admin starts again, finished from the top of the file, and its
// upload removed.
func TestInterruptedImportIsFinishedAtStart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	upload := filepath.Join(e.deps.TempDir, "herald-import-interrupted.csv")
	if err := os.WriteFile(upload, []byte("email,name\nann@example.com,Ann\nben@example.com,Ben\nbad,Bad\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	j := &store.ImportJob{File: "readers.csv", ListID: e.list.ID, ListName: e.list.Name, Mode: store.ImportUpsert,
		SubStatus: model.SubConfirmed, Upload: upload, Size: 64}
	if err := e.st.CreateImportJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	// The dead process got one row in before it died.
	if err := e.st.SaveImportProgress(ctx, j.ID, store.ImportCounts{Read: 20, Imported: 1}); err != nil {
		t.Fatal(err)
	}

	restarted, err := admin.New(e.deps)
	if err != nil {
		t.Fatal(err)
	}
	defer restarted.Close()
	done := waitImport(t, e.st, j.ID)
	if done.State != store.ImportDone || done.Counts.Imported != 2 || done.Counts.Rejected != 1 || !strings.Contains(done.Message, "started again") {
		t.Fatalf("resumed import = %+v", done)
	}
	if _, err := os.Stat(upload); !os.IsNotExist(err) {
		t.Fatalf("the upload was kept after the import: %v", err)
	}
	n, err := e.st.CountSubscribers(ctx, store.SubscriberFilter{ListID: e.list.ID, Status: model.SubConfirmed})
	if err != nil || n != 3 { // the reader from the fixture, Ann and Ben
		t.Fatalf("%d confirmed subscribers, %v", n, err)
	}
}

// TestUnreadableImportEndsFailed: a file without an email column fails at
// its header and says so; it does not stay "running".
func TestUnreadableImportEndsFailed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.login(auth.Owner)
	loc, id := upload(t, e, owner, "name,city\nBob,York\n")
	j := waitImport(t, e.st, id)
	if j.State != store.ImportFailed || !strings.Contains(j.Message, "Nothing was imported: no email column") {
		t.Fatalf("import = %+v", j)
	}
	if page := owner.get(loc); !strings.Contains(page, "flash-err") {
		t.Fatalf("the import page does not show the failure:\n%s", page)
	}
}

// TestListExportRoundTrips: the list page's export holds the list's
// subscribers with their names and attributes, filtered by status, and
// the import page reads it back into another list unchanged.
func TestListExportRoundTrips(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	editor := e.login(auth.Editor)
	for _, s := range []struct {
		email, name string
		status      model.SubscriptionStatus
	}{{"ann@example.com", "Ann, \"the\" reader", model.SubConfirmed}, {"ben@example.com", "Ben", model.SubUnsubscribed}} {
		sub := &model.Subscriber{Email: s.email, Name: s.name, Attributes: map[string]any{"city": "Leeds"}}
		if _, err := e.st.UpsertSubscriber(ctx, sub); err != nil {
			t.Fatal(err)
		}
		if err := e.st.SetSubscription(ctx, sub.ID, e.list.ID, s.status, model.SourceAdmin); err != nil {
			t.Fatal(err)
		}
	}
	all := editor.get("/admin/lists/" + e.ids["list"] + "/export.csv")
	confirmed := editor.get("/admin/lists/" + e.ids["list"] + "/export.csv?status=confirmed")
	if !strings.HasPrefix(all, "email,name,status,created_at,attributes\n") || strings.Count(all, "\n") != 4 ||
		!strings.Contains(all, `ann@example.com,"Ann, ""the"" reader",confirmed,`) || !strings.Contains(all, "ben@example.com,Ben,unsubscribed,") {
		t.Fatalf("export of everyone:\n%s", all)
	}
	if strings.Contains(confirmed, "ben@example.com") || !strings.Contains(confirmed, "ann@example.com") || !strings.Contains(confirmed, "reader@example.org") {
		t.Fatalf("export of the confirmed:\n%s", confirmed)
	}
	if bad := editor.do(mustGet(t, e.srv.URL+"/admin/lists/"+e.ids["list"]+"/export.csv?status=maybe")); bad.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown status = %d", bad.StatusCode)
	}

	// The confirmed ones into a new list through the import page: the same
	// people, names, statuses and attributes. (The unsubscribed are not
	// imported into a list they never left: the importer reports them.)
	other := &model.List{Slug: "copy", Name: "Copy"}
	if err := e.st.CreateList(ctx, other); err != nil {
		t.Fatal(err)
	}
	e.ids["list"] = fmt.Sprint(other.ID)
	_, id := upload(t, e, editor, confirmed)
	if j := waitImport(t, e.st, id); j.State != store.ImportDone || j.Counts.Rejected != 0 || j.Counts.Rows != 2 {
		rj, _ := e.st.ImportRejects(ctx, id)
		t.Fatalf("re-import = %+v\n%s\nfrom\n%s", j, rj, confirmed)
	}
	again := editor.get("/admin/lists/" + e.ids["list"] + "/export.csv")
	strip := func(csv string) string { // created_at differs per list: compare without it
		var out []string
		for _, line := range strings.Split(csv, "\n") {
			f := strings.Split(line, ",")
			if len(f) > 4 {
				line = strings.Join(append(f[:len(f)-2:len(f)-2], f[len(f)-1]), ",")
			}
			out = append(out, line)
		}
		return strings.Join(out, "\n")
	}
	if strip(again) != strip(confirmed) {
		t.Fatalf("the re-imported list exports differently:\n%s\n----\n%s", again, confirmed)
	}
}

func mustGet(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
