package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/herald-news/herald/internal/admin"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/browsertest"
	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/model"
)

// edition reads an edition back from the store.
func (e *env) edition(id string) *model.Edition {
	e.t.Helper()
	var n int64
	fmt.Sscan(id, &n)
	ed, err := e.st.GetEdition(context.Background(), n)
	if err != nil {
		e.t.Fatal(err)
	}
	return ed
}

// flaky serves the admin, refusing or dropping the composer's autosaves
// while told to (503: the server refusing; "drop": a server that stops
// answering mid-request).
type flaky struct {
	h    http.Handler
	mode atomic.Value // "", "refuse" or "drop"
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/autosave") {
		switch f.mode.Load() {
		case "refuse":
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		case "drop":
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					c.Close()
					return
				}
			}
		}
	}
	f.h.ServeHTTP(w, r)
}

// An editor types while the server refuses, then stops answering: the
// words stay in the form, the page says plainly they are not saved and
// keeps trying, and they are saved once the server is back. Words typed
// in the last moment before following a link or leaving the page are
// saved on the way out; leaving with unsaved words asks first. A reload
// while the server is away brings the words back from the browser.
func TestBrowserComposerKeepsWhatWasTyped(t *testing.T) {
	e := newEnv(t, nil)
	mux := http.NewServeMux()
	mux.Handle("/admin/", e.admin)
	mux.Handle("GET /media/{name}", admin.Media(e.st))
	f := &flaky{h: mux}
	f.mode.Store("")
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	u := srv.URL
	b := browsertest.New(t)
	var dialogs atomic.Int32
	opening := chromedp.Events(b.Context(), page.JavascriptDialogOpening)
	go func() {
		for ev, err := range opening {
			if err != nil {
				return
			}
			dialogs.Add(1)
			accept := ev.Type == page.DialogTypeBeforeunload
			go func() {
				_ = chromedp.Do(b.Context(), chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					_, err := cdp.Call(ctx, tg, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: accept})
					return err
				}))
			}()
		}
	}()
	signIn(b, t, u, string(auth.Editor))
	id := e.ids["edition"]
	b.Do(chromedp.Navigate(u+"/admin/editions/"+id), chromedp.WaitVisible(css("#composer[data-ready]")))
	before := e.edition(id).Subject

	for _, mode := range []string{"refuse", "drop"} {
		f.mode.Store(mode)
		typed := " (" + mode + ")"
		b.Do(chromedp.SendKeys(css("#subject"), typed))
		waitJS(b, t, `document.getElementById("save-state").classList.contains("failed")`)
		state := browsertest.Run(b, chromedp.Text(css("#save-state")))
		if !strings.Contains(state, "Not saved yet") || !strings.Contains(state, "still here") {
			t.Errorf("%s: the save state says %q", mode, state)
		}
		if live := browsertest.Run(b, chromedp.Evaluate[string](`document.getElementById("save-state").getAttribute("aria-live")`)); live != "assertive" {
			t.Errorf("%s: a failed save is announced %q", mode, live)
		}
		b.Screenshot("composer-autosave-" + mode)
		if got := e.edition(id).Subject; got != before {
			t.Fatalf("%s: saved %q while the server refused", mode, got)
		}
		v := browsertest.Run(b, chromedp.Value(css("#subject")))
		if !strings.Contains(v, typed) {
			t.Fatalf("%s: the form lost what was typed: %q", mode, v)
		}
		if mode == "drop" {
			// The tab is reloaded (or the browser restarted) while the
			// server still takes nothing: the words come back from the
			// copy kept in the browser.
			b.Do(chromedp.Reload(), chromedp.WaitVisible(css("#composer[data-ready]")))
			if got := browsertest.Run(b, chromedp.Value(css("#subject"))); got != v {
				t.Fatalf("after a reload the subject is %q, want %q", got, v)
			}
			waitJS(b, t, `document.getElementById("save-state").classList.contains("failed")`)
			b.Screenshot("composer-restored-after-reload")
		}
		// The server is back: the retry saves it.
		f.mode.Store("")
		waitJS(b, t, `document.getElementById("save-state").textContent.startsWith("Saved at")`)
		before = strings.TrimSpace(v)
		if got := e.edition(id).Subject; got != before {
			t.Fatalf("%s: after the retry the subject is %q, want %q", mode, got, before)
		}
	}

	// A link followed while the server refuses: the page asks, and staying
	// (the dialog dismissed) keeps the words until the server is back.
	f.mode.Store("refuse")
	asked := dialogs.Load()
	b.Do(chromedp.SendKeys(css("#s0_byline_role"), "Acting "))
	b.Do(chromedp.Click(css(`a[href$="/history"]`)))
	for wait := time.Now().Add(10 * time.Second); dialogs.Load() == asked && time.Now().Before(wait); {
		time.Sleep(100 * time.Millisecond)
	}
	if dialogs.Load() == asked {
		t.Fatalf("following a link with the words unsaved did not ask")
	}
	if loc := browsertest.Run(b, chromedp.Location()); strings.HasSuffix(loc, "/history") {
		t.Fatalf("left for %s with the words unsaved", loc)
	}
	if v := browsertest.Run(b, chromedp.Value(css("#s0_byline_role"))); !strings.Contains(v, "Acting") {
		t.Fatalf("staying lost the words: %q", v)
	}
	f.mode.Store("")
	waitJS(b, t, `document.getElementById("save-state").textContent.startsWith("Saved at")`)
	if got := e.edition(id).Sections[0].Lead.Byline.Role; !strings.Contains(got, "Acting") {
		t.Errorf("after staying, the role is %q", got)
	}

	// A link in the admin right after typing: the words go with it.
	b.Do(chromedp.SendKeys(css("#s0_headline"), " now"))
	clickNav(b, t, `a[href$="/history"]`)
	if got := e.edition(id).Sections[0].Lead.Headline; !strings.Contains(got, "now") {
		t.Errorf("following a link lost the last words: headline %q", got)
	}
	// Leaving the page (typed address, closing): the browser asks, and
	// the words are saved on the way out.
	b.Do(chromedp.Navigate(u+"/admin/editions/"+id), chromedp.WaitVisible(css("#composer[data-ready]")))
	b.Do(chromedp.SendKeys(css("#preheader"), " Last words."))
	b.Do(chromedp.Navigate(u + "/admin/"))
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(e.edition(id).Preheader, "Last words.") && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if got := e.edition(id).Preheader; !strings.Contains(got, "Last words.") {
		t.Errorf("leaving the page lost the last words: preheader %q", got)
	}
	if dialogs.Load() == 0 {
		t.Errorf("leaving with unsaved words did not ask")
	}
}

// writeJPEG writes a w×h photo.
func writeJPEG(t *testing.T, w, h int) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 90, 255})
		}
	}
	p := filepath.Join(t.TempDir(), "phone.jpg")
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 92}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// mediaSize decodes a stored picture by its address and returns its size.
func (e *env) mediaSize(url string) (int, int) {
	e.t.Helper()
	m, err := e.st.MediaByName(context.Background(), path.Base(url))
	if err != nil {
		e.t.Fatalf("no media for %s: %v", url, err)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(m.Data))
	if err != nil {
		e.t.Fatal(err)
	}
	return cfg.Width, cfg.Height
}

// A new draft lists its problems in the form's words, each a link to its
// field, and previews with placeholders where things are missing. A
// phone photo is scaled down to the email's width; a picture over the
// limit is refused in place with both sizes while the rest is saved; a
// picture dropped or pasted into the story is uploaded and written in.
func TestBrowserComposerPicturesAndProblems(t *testing.T) {
	e := newEnv(t, nil)
	b := browsertest.New(t)
	u := e.srv.URL
	signIn(b, t, u, string(auth.Editor))
	b.Do(chromedp.Navigate(u+"/admin/editions"), chromedp.WaitVisible(css("h1")))
	clickNav(b, t, ".page-head button")
	b.Do(chromedp.WaitVisible(css("#composer[data-ready]")))
	clickNav(b, t, `button[value="add-item:1"]`)
	b.Do(chromedp.WaitVisible(css("#composer[data-ready]")))
	problems := browsertest.Run(b, chromedp.Text(css("#problems")))
	for _, want := range []string{"Card 2: the button needs a link", "Card 1: needs a headline", "Lead story: the story is empty", "Pick 1: the publication is empty"} {
		if !strings.Contains(problems, want) {
			t.Errorf("the problems lack %q:\n%s", want, problems)
		}
	}
	for _, fileWords := range []string{"url:", "front matter", `"## `, "section 2", "item 2"} {
		if strings.Contains(problems, fileWords) {
			t.Errorf("the problems speak the file's words %q:\n%s", fileWords, problems)
		}
	}
	axeCheck(b, t, "composer-new-draft")
	// A problem leads to its field.
	b.Do(chromedp.Click(css(`#problems a[data-field="s1_1_url"]`)))
	if f := browsertest.Run(b, chromedp.Evaluate[string](`document.activeElement.id`)); f != "s1_1_url" {
		t.Errorf("the problem's link focused %q", f)
	}
	b.Screenshot("composer-problems")
	// The live preview shows what is there, with placeholders.
	edPath := strings.TrimPrefix(strings.SplitN(browsertest.Run(b, chromedp.Location()), "#", 2)[0], u)
	b.Do(chromedp.SendKeys(css("#s1_0_headline"), "The council blinked first"))
	waitJS(b, t, `document.getElementById("save-state").textContent.startsWith("Saved at")`)
	b.Do(chromedp.Navigate(u + edPath + "/preview/email"))
	body := browsertest.Run(b, chromedp.Evaluate[string](`document.body.innerText`))
	for _, want := range []string{"The council blinked first", "[Card 2: no headline yet]", "[Lead story: no story yet]"} {
		if !strings.Contains(body, want) {
			t.Errorf("the preview lacks %q:\n%.800s", want, body)
		}
	}
	b.Screenshot("composer-preview-placeholders")
	b.Do(chromedp.Navigate(u+edPath), chromedp.WaitVisible(css("#composer[data-ready]")))

	// A phone photo: scaled to 1200 pixels, the email's width twice over.
	b.Do(chromedp.SetUploadFiles(css("#hero_file"), []string{writeJPEG(t, 4032, 3024)}))
	waitJS(b, t, `document.getElementById("hero_url").value.indexOf("/media/") > 0 && document.getElementById("save-state").textContent.startsWith("Saved at")`)
	hero := browsertest.Run(b, chromedp.Value(css("#hero_url")))
	if w, h := e.mediaSize(hero); w != 1200 || h != 900 {
		t.Errorf("the phone photo is stored at %d×%d", w, h)
	}
	// A picture over the limit: refused beside the field with both sizes;
	// what was typed with it is saved.
	big := filepath.Join(t.TempDir(), "huge.jpg")
	if err := os.WriteFile(big, make([]byte, 17<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	b.Do(chromedp.SendKeys(css("#subject"), " tonight"))
	b.Do(chromedp.SetUploadFiles(css("#hero_file"), []string{big}))
	waitJS(b, t, `document.getElementById("hero_file-note").textContent.length > 0`)
	note := browsertest.Run(b, chromedp.Text(css("#hero_file-note")))
	if !strings.Contains(note, "17 MB") || !strings.Contains(note, "16 MB at most") {
		t.Errorf("the refusal says %q", note)
	}
	b.Screenshot("composer-image-too-large")
	waitJS(b, t, `document.getElementById("save-state").textContent.startsWith("Saved at")`)
	ed := e.edition(path.Base(edPath))
	if !strings.Contains(ed.Subject, "tonight") || ed.Hero == nil || ed.Hero.URL != hero {
		t.Errorf("after the refusal the draft is %q with hero %+v", ed.Subject, ed.Hero)
	}

	// Dropped into the story, then pasted: uploaded and written in.
	for i, ev := range []string{`new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true})`,
		`Object.defineProperty(new Event("paste", {bubbles: true, cancelable: true}), "clipboardData", {value: dt})`} {
		browsertest.Run(b, chromedp.Evaluate[bool](`(function () {
			const c = document.createElement("canvas"); c.width = 2400; c.height = 1600;
			const g = c.getContext("2d"); g.fillStyle = "#2b59c3"; g.fillRect(0, 0, 2400, 1600);
			g.fillStyle = "#e76f51"; g.fillRect(0, 0, `+fmt.Sprint(600*(i+1))+`, 800);
			c.toBlob(function (blob) {
				const dt = new DataTransfer();
				dt.items.add(new File([blob], "harbour.png", {type: "image/png"}));
				document.getElementById("s0_body").dispatchEvent(`+ev+`);
			}, "image/png");
			return true; })()`))
		waitJS(b, t, fmt.Sprintf(`(document.getElementById("s0_body").value.match(/!\[[^\]]+\]\([^)]+\/media\/[0-9a-f]+\.png\)/g) || []).length === %d || document.getElementById("s0_body-note").textContent.indexOf("added") < 0 && document.getElementById("s0_body-note").textContent.length > 30`, i+1))
		if n := browsertest.Run(b, chromedp.Text(css("#s0_body-note"))); !strings.HasPrefix(n, "Picture added") {
			t.Fatalf("picture %d: %q", i+1, n)
		}
	}
	waitJS(b, t, `document.getElementById("save-state").textContent.startsWith("Saved at")`)
	b.Screenshot("composer-image-dropped")
	story := e.edition(path.Base(edPath)).Sections[0].Lead.Body
	if !strings.Contains(story, "![describe the picture]("+u+"/media/") {
		t.Fatalf("the story does not hold the pictures:\n%s", story)
	}
	url := story[strings.Index(story, u+"/media/"):]
	url = url[:strings.IndexByte(url, ')')]
	if w, h := e.mediaSize(url); w != 1200 || h != 800 {
		t.Errorf("the dropped picture is stored at %d×%d", w, h)
	}
	b.AssertNoProblems()
}

// A French editor's composer is in French, every field named for screen
// readers; a test copy goes out from the composer before any campaign
// exists.
func TestBrowserComposerInFrenchWithTestCopy(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	if err := e.st.SetUserLanguage(ctx, e.users[auth.Editor].ID, "fr"); err != nil {
		t.Fatal(err)
	}
	ed, err := sample.Edition()
	if err != nil {
		t.Fatal(err)
	}
	ed.Slug = "no-campaign-yet"
	ed.Hero = nil // its picture is on a site the tests do not reach
	if err := e.st.CreateEdition(ctx, ed, ""); err != nil {
		t.Fatal(err)
	}
	if cs, _ := e.st.Campaigns(ctx, 100); len(cs) != 1 || cs[0].EditionID == ed.ID {
		t.Fatalf("the edition has a campaign: %+v", cs)
	}
	b := browsertest.New(t)
	u := e.srv.URL
	signIn(b, t, u, string(auth.Editor))
	b.Do(chromedp.Navigate(fmt.Sprintf("%s/admin/editions/%d", u, ed.ID)), chromedp.WaitVisible(css("#composer[data-ready]")))
	main := browsertest.Run(b, chromedp.Text(css("main")))
	for _, want := range []string{"Objet", "Texte d’aperçu", "Image principale", "Ajouter une rubrique", "Enregistrer maintenant", "Envoyer un exemplaire de test à"} {
		if !strings.Contains(main, want) {
			t.Errorf("the French composer lacks %q", want)
		}
	}
	for _, english := range []string{"Subject", "Add a section", "Save now", "Send a test copy"} {
		if strings.Contains(main, english) {
			t.Errorf("the French composer still says %q", english)
		}
	}
	// Every field has a name a screen reader reads, in French.
	unnamed := browsertest.Run(b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("main input:not([type=hidden]), main textarea, main select, main button"))
		.filter(el => !el.closest("[aria-hidden=true]") && !(el.labels && el.labels.length) && !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby") && !(el.tagName === "BUTTON" && el.textContent.trim()))
		.map(el => el.outerHTML.slice(0, 120))`))
	if len(unnamed) > 0 {
		t.Errorf("fields without a name: %v", unnamed)
	}
	if l := browsertest.Run(b, chromedp.Evaluate[string](`document.querySelector('button[value="remove-item:1:0"]').getAttribute("aria-label")`)); l != "Supprimer : Carte 1" {
		t.Errorf("the remove button says %q", l)
	}
	axeCheck(b, t, "composer-fr")
	// The preview tabs show keyboard focus: a 3 px ring in #1e45a0, over
	// 3:1 against white and the tab's tint.
	b.Do(chromedp.Focus(css("#tab-email")), chromedp.KeyEvent(kb.ArrowRight)) // the next tab
	ring := browsertest.Run(b, chromedp.Evaluate[string](`(function () { const s = getComputedStyle(document.querySelector('label[for="tab-text"]'));
		return document.activeElement.id + " " + s.outlineStyle + " " + s.outlineWidth + " " + s.outlineColor; })()`))
	if ring != "tab-text solid 3px rgb(30, 69, 160)" {
		t.Errorf("the focused preview tab shows %q", ring)
	}
	// The problems too speak French.
	setField := func(id, v string) {
		browsertest.Run(b, chromedp.Evaluate[bool](fmt.Sprintf(`(function () { const f = document.getElementById(%q); f.value = %q;
			f.dispatchEvent(new Event("input", {bubbles: true})); return true; })()`, id, v)))
	}
	setField("s1_0_url", "")
	waitJS(b, t, `document.getElementById("problems").textContent.indexOf("Carte 1 : le bouton n’a pas de lien") >= 0`)
	waitJS(b, t, `document.getElementById("save-state").textContent.startsWith("Enregistré à")`)
	b.Screenshot("composer-fr")
	setField("s1_0_url", "https://northgate-courier.example/comment/blinked")
	waitJS(b, t, `document.getElementById("problems").textContent === "" && document.getElementById("save-state").textContent.startsWith("Enregistré à")`)

	// A test copy, with no campaign anywhere, of what was typed a moment
	// before: the composer saves it first.
	b.Do(chromedp.SetValue(css("#test-to"), "desk@example.com"))
	b.Do(chromedp.SendKeys(css("#subject"), "Ce soir : "))
	clickNav(b, t, "#test-send")
	if msg := browsertest.Run(b, chromedp.Text(css(".flash-ok"))); !strings.Contains(msg, "Exemplaire de test envoyé à desk@example.com") {
		t.Errorf("after the test copy: %q", msg)
	}
	b.Screenshot("composer-test-copy")
	b.Do(chromedp.Navigate(fmt.Sprintf("%s/admin/editions/%d/history", u, ed.ID)), chromedp.WaitVisible(css("main table")))
	if h := browsertest.Run(b, chromedp.Text(css("main"))); !strings.Contains(h, "Historique") || !strings.Contains(h, "Retour au rédacteur") {
		t.Errorf("the history is not in French:\n%s", h)
	}
	b.Screenshot("history-fr")
	items, err := e.outbox.List(0, 10)
	if err != nil || len(items) != 1 || !strings.Contains(items[0].To, "desk@example.com") || !strings.HasPrefix(items[0].Subject, "[Test] Ce soir : ") {
		t.Errorf("the outbox holds %+v, %v", items, err)
	}
	b.AssertNoProblems()
}

// axeCheck runs axe-core's rules on the page's main content when the
// axe-core package is on this machine (HERALD_TEST_AXE, or the copy the
// test script keeps in ~/.cache/herald), and fails on any serious or
// critical finding.
func axeCheck(b *browsertest.Browser, t *testing.T, name string) {
	t.Helper()
	src := os.Getenv("HERALD_TEST_AXE")
	if src == "" {
		home, _ := os.UserHomeDir()
		found, _ := filepath.Glob(filepath.Join(home, ".cache", "herald", "axe-core-*", "node_modules", "axe-core", "axe.min.js"))
		if len(found) == 0 {
			t.Logf("axe-core not found: its check is left to the accessibility suite")
			return
		}
		src = found[len(found)-1]
	}
	js, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	browsertest.Run(b, chromedp.Evaluate[chromedp.Void](string(js)))
	// The composer's own markup (the layout is the accessibility suite's).
	raw := browsertest.Run(b, chromedp.Evaluate[[]byte](`axe.run({include: [["main"]]})
		.then(r => r.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => ({id: v.id, nodes: v.nodes.map(n => n.target.join(" ") + ": " + n.failureSummary)})))`, chromedp.EvalAwaitPromise))
	var found []struct {
		ID    string   `json:"id"`
		Nodes []string `json:"nodes"`
	}
	if err := json.Unmarshal(raw, &found); err != nil {
		t.Fatal(err)
	}
	for _, v := range found {
		t.Errorf("%s: axe %s on %d elements: %s", name, v.ID, len(v.Nodes), strings.Join(v.Nodes, "\n  "))
	}
}

// slowSave serves the admin; an autosave that arrives while armed is held
// for a while, and every autosave after it waits until it is answered:
// the save sent when the page is left goes while an autosave is still
// running, and arrives after it.
type slowSave struct {
	h    http.Handler
	n    atomic.Int32 // autosaves arrived
	mu   sync.Mutex
	hold bool          // the next autosave is held
	held chan struct{} // closed once the held autosave is answered
}

func (s *slowSave) arm() {
	s.mu.Lock()
	s.hold = true
	s.mu.Unlock()
}

func (s *slowSave) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/autosave") {
		s.n.Add(1)
		s.mu.Lock()
		if s.hold {
			s.hold = false
			done := make(chan struct{})
			s.held = done
			s.mu.Unlock()
			time.Sleep(1500 * time.Millisecond)
			s.h.ServeHTTP(w, r)
			close(done)
			return
		}
		held := s.held
		s.mu.Unlock()
		if held != nil {
			<-held
		}
	}
	s.h.ServeHTTP(w, r)
}

// An editor types, an autosave starts, they type a little more and close
// the tab while it runs: the save sent on the way out is taken on top of
// the running one (same page, not someone else's), so the last words are
// saved, and the page reopened shows them, without a stale copy.
func TestBrowserComposerLeavingDuringAutosave(t *testing.T) {
	e := newEnv(t, nil)
	mux := http.NewServeMux()
	mux.Handle("/admin/", e.admin)
	s := &slowSave{h: mux}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	u := srv.URL
	b := browsertest.New(t)
	var dialogs atomic.Int32
	var stay atomic.Bool // leaving asks: stay on the page
	opening := chromedp.Events(b.Context(), page.JavascriptDialogOpening)
	go func() {
		for ev, err := range opening {
			if err != nil {
				return
			}
			dialogs.Add(1)
			accept := ev.Type == page.DialogTypeBeforeunload && !stay.Load()
			go func() {
				_ = chromedp.Do(b.Context(), chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					_, err := cdp.Call(ctx, tg, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: accept})
					return err
				}))
			}()
		}
	}()
	signIn(b, t, u, string(auth.Editor))
	id := e.ids["edition"]
	b.Do(chromedp.Navigate(u+"/admin/editions/"+id), chromedp.WaitVisible(css("#composer[data-ready]")))

	typeDuringAutosave := func(first, last string) {
		t.Helper()
		s.arm()
		n := s.n.Load()
		b.Do(chromedp.SendKeys(css("#preheader"), first))
		for wait := time.Now().Add(10 * time.Second); s.n.Load() == n && time.Now().Before(wait); {
			time.Sleep(20 * time.Millisecond)
		}
		if s.n.Load() == n {
			t.Fatal("no autosave started")
		}
		b.Do(chromedp.SendKeys(css("#preheader"), last))
	}
	typeDuringAutosave(" First words.", " Last words.")
	// The autosave is running, the last words typed: the tab goes.
	b.Do(chromedp.Navigate(u + "/admin/"))
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(e.edition(id).Preheader, "Last words.") && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if got := e.edition(id).Preheader; !strings.Contains(got, "First words. Last words.") {
		t.Fatalf("leaving during an autosave lost the last words: preheader %q", got)
	}
	if dialogs.Load() == 0 {
		t.Errorf("leaving with unsaved words did not ask")
	}
	// Reopened, the page shows the edition as saved and says nothing of
	// someone else.
	b.Do(chromedp.Navigate(u+"/admin/editions/"+id), chromedp.WaitVisible(css("#composer[data-ready]")))
	if v := browsertest.Run(b, chromedp.Value(css("#preheader"))); !strings.Contains(v, "First words. Last words.") {
		t.Errorf("reopened, the preheader is %q", v)
	}
	if st := browsertest.Run(b, chromedp.Text(css("#save-state"))); strings.Contains(st, "someone else") || strings.Contains(st, "Restored") {
		t.Errorf("reopened, the page says %q", st)
	}
	// The edition holds what the browser kept: the copy is gone.
	if kept := browsertest.Run(b, chromedp.Evaluate[int](`Object.keys(localStorage).filter(k => k.startsWith("herald-composer:")).length`)); kept != 0 {
		t.Errorf("reopened, %d browser copies are still kept", kept)
	}

	// The same, but the editor chooses to stay when asked: both saves are
	// taken, the page does not say someone else saved, and autosave goes
	// on.
	stay.Store(true)
	asked := dialogs.Load()
	typeDuringAutosave(" Stay one.", " Stay two.")
	browsertest.Run(b, chromedp.Evaluate[int](`setTimeout(() => { location.href = "/admin/"; }, 0)`))
	for wait := time.Now().Add(10 * time.Second); dialogs.Load() == asked && time.Now().Before(wait); {
		time.Sleep(50 * time.Millisecond)
	}
	if dialogs.Load() == asked {
		t.Fatal("leaving with unsaved words did not ask")
	}
	deadline = time.Now().Add(10 * time.Second)
	for !strings.Contains(e.edition(id).Preheader, "Stay one. Stay two.") && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if got := e.edition(id).Preheader; !strings.Contains(got, "Stay one. Stay two.") {
		t.Fatalf("staying during an autosave lost the last words: preheader %q", got)
	}
	waitJS(b, t, `document.getElementById("save-state").textContent.startsWith("Saved")`)
	b.Do(chromedp.SendKeys(css("#preheader"), " Still here."))
	deadline = time.Now().Add(10 * time.Second)
	for !strings.Contains(e.edition(id).Preheader, "Still here.") && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if got := e.edition(id).Preheader; !strings.Contains(got, "Still here.") {
		t.Errorf("after staying, autosave stopped: preheader %q", got)
	}
	if st := browsertest.Run(b, chromedp.Text(css("#save-state"))); strings.Contains(st, "someone else") {
		t.Errorf("after staying, the page says %q", st)
	}
}
