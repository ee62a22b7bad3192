package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/admin"
	"github.com/herald-news/herald/internal/auth"
)

// postMultipart posts fields and one file to path as c.
func (c *client) postMultipart(path string, fields map[string]string, fileField, fileName string, data []byte) (int, map[string]any) {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	if fileField != "" {
		w, _ := mw.CreateFormFile(fileField, fileName)
		_, _ = w.Write(data)
	}
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, c.e.srv.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-CSRF-Token", c.csrf)
	req.Header.Set("Accept", "application/json")
	res := c.do(req)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		c.t.Fatalf("%s: %d %s", path, res.StatusCode, b)
	}
	return res.StatusCode, out
}

func pngBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A hero file that is no picture is refused beside its field while the
// rest of the autosaved form is saved; the composer's upload takes a wide
// picture and stores it at the email's width, and refuses what is not one.
func TestComposerUploadsByTheMediaRule(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.login(auth.Editor)
	id := e.ids["edition"]
	page := c.get("/admin/editions/" + id)
	rev := page[strings.Index(page, `name="revision" value="`)+len(`name="revision" value="`):]
	rev = rev[:strings.IndexByte(rev, '"')]
	fields := map[string]string{"subject": "Storm over the estuary", "date": "2026-12-07", "slot": "evening", "slug": "2026-12-07-evening",
		"sections": "0", "revision": rev, "hero_url": "https://img.example/old.jpg", "hero_alt": "The estuary"}
	status, res := c.postMultipart("/admin/editions/"+id+"/autosave", fields, "hero_file", "notes.pdf", []byte("%PDF-1.7 minutes of the council"))
	if status != http.StatusOK || res["saved"] != true || !strings.Contains(res["image_error"].(string), "JPEG, PNG, GIF or WebP") {
		t.Fatalf("autosave with a PDF as hero: %d %v", status, res)
	}
	ed := e.edition(id)
	if ed.Subject != "Storm over the estuary" || ed.Hero == nil || ed.Hero.URL != "https://img.example/old.jpg" {
		t.Errorf("the rest of the form was not saved: %q %+v", ed.Subject, ed.Hero)
	}

	status, res = c.postMultipart("/admin/editions/"+id+"/media", nil, "file", "wide.png", pngBytes(t, 3000, 1000))
	if status != http.StatusOK || res["width"] != float64(1200) || res["scaled"] != true || !strings.HasPrefix(res["url"].(string), e.srv.URL+"/media/") {
		t.Fatalf("upload of a wide picture: %d %v", status, res)
	}
	if w, h := e.mediaSize(res["url"].(string)); w != 1200 || h != 400 {
		t.Errorf("stored at %d×%d", w, h)
	}
	status, res = c.postMultipart("/admin/editions/"+id+"/media", nil, "file", "notes.pdf", []byte("%PDF-1.7"))
	if status != http.StatusUnprocessableEntity || !strings.Contains(res["error"].(string), "not a picture") {
		t.Errorf("upload of a PDF: %d %v", status, res)
	}
	// An author may upload; a viewer may not.
	if status, _ := e.login(auth.Viewer).postMultipart("/admin/editions/"+id+"/media", nil, "file", "a.png", pngBytes(t, 10, 10)); status != http.StatusForbidden {
		t.Errorf("a viewer's upload: %d", status)
	}
}

// A test copy from the composer needs an address, a mail transport and a
// finished edition, and says so in the editor's words otherwise.
func TestComposerTestCopyRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(d *admin.Deps) { d.Sender = nil })
	c := e.login(auth.Editor)
	id := e.ids["edition"]
	flash := func(form url.Values) string {
		form.Set("csrf", c.csrf)
		res := c.post("/admin/editions/"+id+"/test", form)
		return c.get(strings.SplitN(res.Header.Get("Location"), "#", 2)[0])
	}
	if p := flash(url.Values{"to": {"not an address"}}); !strings.Contains(p, "Enter the address to send the test copy to.") {
		t.Errorf("a bad address: no message")
	}
	if p := flash(url.Values{"to": {"desk@example.com"}}); !strings.Contains(p, "No mail transport is configured for test copies.") {
		t.Errorf("no transport: no message")
	}
	e2 := newEnv(t, nil)
	c2 := e2.login(auth.Editor)
	ed := e2.edition(e2.ids["edition"])
	ed.Sections[1].Cards[0].URL = ""
	if err := e2.st.UpdateEdition(context.Background(), ed, ""); err != nil {
		t.Fatal(err)
	}
	res := c2.post("/admin/editions/"+e2.ids["edition"]+"/test", url.Values{"csrf": {c2.csrf}, "to": {"desk@example.com"}})
	if p := c2.get(strings.SplitN(res.Header.Get("Location"), "#", 2)[0]); !strings.Contains(p, "Card 1: the button needs a link") {
		t.Errorf("an unfinished edition: no message in the form's words")
	}
	if n, _ := e2.outbox.Count(); n != 0 {
		t.Errorf("%d test copies went out", n)
	}
}

// An unfinished edition previews with placeholders in every format,
// whatever is missing or refused.
func TestComposerPreviewsAnUnfinishedEdition(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.login(auth.Editor)
	ed := e.edition(e.ids["edition"])
	ed.Subject, ed.Date = "", "2026-02-30"
	ed.Hero.URL, ed.Hero.Alt = "not an address", ""
	ed.Sections[0].Lead.Body = "# A heading that would start a section\n\n<b>raw</b>"
	ed.Sections[1].Cards[0].Headline, ed.Sections[1].Cards[0].URL = "", "/relative"
	if err := e.st.UpdateEdition(context.Background(), ed, ""); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"email", "text", "web"} {
		body := c.get("/admin/editions/" + e.ids["edition"] + "/preview/" + format)
		if !strings.Contains(body, "[Card 1: no headline yet]") || format != "text" && !strings.Contains(body, "[Header: no subject yet]") {
			t.Errorf("%s preview:\n%.1500s", format, body)
		}
	}
}
