package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/herald-news/herald/internal/admin"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/browsertest"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

// TestBrowserImportDoneLiveAndKept: an import into a double opt-in list,
// as confirmed, is followed live: the page says Done and lists the first
// rejected rows with their line and reason without a reload, and warns
// that the opt-in was skipped. After Herald restarts (the store closed and
// opened again under a new admin) the history still shows the import with
// its counts, and its page its rejected rows.
func TestBrowserImportDoneLiveAndKept(t *testing.T) {
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "herald.db")
	st, err := store.Open(ctx, store.Options{SQLitePath: dbPath})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvOn(t, st, nil)
	if err := st.PutSettings(ctx, map[string]string{store.NewsroomZoneSetting: "Europe/Paris"}); err != nil {
		t.Fatal(err)
	}
	morning := &model.List{Slug: "morning", Name: "Morning Digest", OptIn: model.OptInDouble}
	if err := st.CreateList(ctx, morning); err != nil {
		t.Fatal(err)
	}
	// Enough rows that the page opens while the import still runs.
	var csv strings.Builder
	csv.WriteString("email,name\n")
	for i := range 40000 {
		switch i {
		case 1:
			csv.WriteString("not-an-address,Bob\n") // line 3
		case 4:
			csv.WriteString("ann@@example.com,Ann\n") // line 6
		default:
			fmt.Fprintf(&csv, "reader%05d@example.net,Reader %d\n", i, i)
		}
	}
	file := filepath.Join(t.TempDir(), "morning-readers.csv")
	if err := os.WriteFile(file, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	b := browsertest.New(t)
	u := e.srv.URL
	b.Do(chromedp.Navigate(u+"/admin/login"), chromedp.WaitVisible(css("#email")),
		chromedp.SendKeys(css("#email"), "owner@example.com"), chromedp.SendKeys(css("#password"), password))
	clickNav(b, t, ".login-card button")
	b.Do(chromedp.Navigate(u+"/admin/imports"), chromedp.WaitVisible(css("#file")))
	if note := browsertest.Run(b, chromedp.Text(css("#optin-note"))); !strings.Contains(note, "skips the opt-in") || !strings.Contains(note, "Morning Digest") {
		t.Errorf("the import form's opt-in note: %q", note)
	}
	b.Do(chromedp.SetUploadFiles(css("#file"), []string{file}),
		chromedp.SetValue(css("#list"), fmt.Sprint(morning.ID)), chromedp.SetValue(css("#status"), "confirmed"))
	b.Screenshot("import-form")
	clickNav(b, t, `form[action="/admin/imports"] button[type=submit]`)
	browsertest.Run(b, chromedp.Evaluate[bool](`window.__samePage = true`))
	if live := browsertest.Run(b, chromedp.Evaluate[bool](`!!document.querySelector("#progress[data-events]")`)); !live {
		t.Fatal("the import had finished before its page opened: the live path was not exercised")
	}
	b.Screenshot("import-running")
	waitJS(b, t, `document.getElementById("import-state").textContent === "Done" && !document.getElementById("rejects").hidden`)
	if same := browsertest.Run(b, chromedp.Evaluate[bool](`window.__samePage === true`)); !same {
		t.Error("the page reloaded to show the end of the import")
	}
	rejects := browsertest.Run(b, chromedp.Text(css("#rejects table")))
	for _, want := range []string{"3", "not-an-address", "6", "ann@@example.com"} {
		if !strings.Contains(rejects, want) {
			t.Errorf("the rejected rows lack %q:\n%s", want, rejects)
		}
	}
	if note := browsertest.Run(b, chromedp.Text(css("#optin-note"))); !strings.Contains(note, "Morning Digest asks for double opt-in") {
		t.Errorf("the import page's opt-in warning: %q", note)
	}
	if hidden := browsertest.Run(b, chromedp.Evaluate[bool](`document.querySelector("[data-when-done]").hidden`)); hidden {
		t.Error("the rejects download is still hidden after the import ended")
	}
	b.Screenshot("import-done-live")

	// Herald restarts: the admin and the store close, and open again.
	e.admin.Close()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st2, err := store.Open(ctx, store.Options{SQLitePath: dbPath})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st2.Close() })
	d := e.deps
	d.Store, d.Auth = st2, auth.New(st2, auth.Options{BcryptCost: bcrypt.MinCost})
	a2, err := admin.New(d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a2.Close() })
	mux := http.NewServeMux()
	mux.Handle("/admin/", a2)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	b.Do(chromedp.Navigate(srv.URL+"/admin/login"), chromedp.WaitVisible(css("#email")),
		chromedp.SendKeys(css("#email"), "owner@example.com"), chromedp.SendKeys(css("#password"), password))
	clickNav(b, t, ".login-card button")
	b.Do(chromedp.Navigate(srv.URL+"/admin/imports"), chromedp.WaitVisible(css("#import-history")))
	history := browsertest.Run(b, chromedp.Text(css("#import-history")))
	for _, want := range []string{"morning-readers.csv", "Morning Digest", "39,998", "Done", "Europe/Paris"} {
		if !strings.Contains(history, want) {
			t.Errorf("after a restart the import history lacks %q:\n%s", want, history)
		}
	}
	b.Screenshot("import-history-after-restart")
	b.Do(chromedp.Navigate(srv.URL+"/admin/imports/1"), chromedp.WaitVisible(css("#rejects")))
	if rejects := browsertest.Run(b, chromedp.Text(css("#rejects table"))); !strings.Contains(rejects, "not-an-address") {
		t.Errorf("after a restart the import page's rejects:\n%s", rejects)
	}
	b.AssertNoProblems()
}
