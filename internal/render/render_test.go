package render_test

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/html"

	"github.com/herald-news/herald/internal/contrast"
	"github.com/herald-news/herald/internal/edition"
	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// subscriber is the fixed subscriber of the golden files.
var subscriber = render.Fields{
	Name:           "Ada Lovelace",
	UnsubscribeURL: "https://news.northgate-courier.example/u/tok123?list=evening&x=1",
	PreferencesURL: "https://news.northgate-courier.example/p/tok123",
	WebURL:         "https://news.northgate-courier.example/archive/2025-03-13-evening",
	FeedbackURL:    "https://news.northgate-courier.example/feedback/tok123",
}

func setup(t testing.TB) (*render.Renderer, *model.Edition) {
	t.Helper()
	r, err := render.New(sample.Publication(), render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := sample.Edition()
	if err != nil {
		t.Fatal(err)
	}
	return r, e
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/render -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; review with -update and git diff", name)
	}
}

func TestGolden(t *testing.T) {
	r, e := setup(t)
	m, err := r.Email(e)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "sample.email.html", m.AppendHTML(nil, subscriber))
	golden(t, "sample.email.txt", m.AppendText(nil, subscriber))
	web, err := r.Web(e)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "sample.web.html", web)
	js, err := r.JSON(e)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "sample.json", js)
}

// checkHTML parses doc strictly enough to catch broken markup and returns
// the parsed tree.
func checkHTML(t *testing.T, doc []byte) *html.Node {
	t.Helper()
	z := html.NewTokenizer(bytes.NewReader(doc))
	for z.Next() != html.ErrorToken {
	}
	if z.Err() != io.EOF {
		t.Fatalf("tokenizer: %v", z.Err())
	}
	root, err := html.Parse(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return root
}

func TestEmailHTMLIsSoundAndSmall(t *testing.T) {
	r, e := setup(t)
	m, err := r.Email(e)
	if err != nil {
		t.Fatal(err)
	}
	doc := m.AppendHTML(nil, subscriber)
	if len(doc) >= 102*1024 {
		t.Errorf("HTML is %d bytes; Gmail clips at about 102 KB", len(doc))
	}
	t.Logf("sample email HTML: %d bytes, text: %d bytes", len(doc), len(m.AppendText(nil, subscriber)))
	root := checkHTML(t, doc)
	var imgs, links int
	hasLang, hasPreheader := false, false
	contrast.Walk(root, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		switch n.Data {
		case "html":
			_, hasLang = contrast.Attr(n, "lang")
		case "img":
			imgs++
			if alt, _ := contrast.Attr(n, "alt"); strings.TrimSpace(alt) == "" {
				t.Errorf("img without alt: %v", n.Attr)
			}
			if _, ok := contrast.Attr(n, "width"); !ok {
				t.Errorf("img without width: %v", n.Attr)
			}
		case "a":
			links++
			href, _ := contrast.Attr(n, "href")
			if !strings.HasPrefix(href, "https://") {
				t.Errorf("link is not absolute https: %q", href)
			}
		case "div":
			if c, _ := contrast.Attr(n, "class"); c == "preheader" {
				st, _ := contrast.Attr(n, "style")
				hasPreheader = strings.Contains(st, "display:none")
			}
		case "script", "iframe", "form":
			t.Errorf("unexpected <%s>", n.Data)
		}
	})
	if !hasLang || !hasPreheader || imgs < 2 || links < 10 {
		t.Errorf("lang=%v preheader=%v imgs=%d links=%d", hasLang, hasPreheader, imgs, links)
	}
	if !bytes.Contains(doc, []byte("prefers-color-scheme: dark")) || !bytes.Contains(doc, []byte(`name="color-scheme"`)) {
		t.Error("no dark-mode support")
	}
	if bytes.Contains(doc, []byte("<style>\nbody{")) {
		t.Error("CSS was not inlined")
	}
}

func TestPersonalFieldsAreEscaped(t *testing.T) {
	r, e := setup(t)
	m, err := r.Email(e)
	if err != nil {
		t.Fatal(err)
	}
	f := render.Fields{Name: `<img src=x onerror=alert(1)> "Bob" & co`, UnsubscribeURL: `https://x.example/u?a=1&b="2"`,
		PreferencesURL: "https://x.example/p", WebURL: "https://x.example/w"}
	doc := string(m.AppendHTML(nil, f))
	if strings.Contains(doc, "<img src=x") || !strings.Contains(doc, "&lt;img src=x onerror=alert(1)&gt; &#34;Bob&#34; &amp; co") {
		t.Error("name not escaped in HTML")
	}
	if !strings.Contains(doc, `href="https://x.example/u?a=1&amp;b=&#34;2&#34;"`) {
		t.Error("unsubscribe URL not escaped in HTML")
	}
	text := string(m.AppendText(nil, f))
	if !strings.Contains(text, `Good evening, <img src=x onerror=alert(1)> "Bob" & co.`) {
		t.Error("name not verbatim in text")
	}
	if !strings.Contains(text, "Unsubscribe: https://x.example/u?a=1&b=\"2\"\n") {
		t.Error("unsubscribe URL missing from text footer")
	}
	anon := string(m.AppendText(nil, render.Fields{}))
	if !strings.Contains(anon, "Good evening, reader.") {
		t.Error("no fallback name")
	}
	if strings.Contains(anon+doc, "hrld") {
		t.Error("a placeholder leaked")
	}
}

func TestTextSpacingAndCallsToAction(t *testing.T) {
	r, e := setup(t)
	m, err := r.Email(e)
	if err != nil {
		t.Fatal(err)
	}
	text := string(m.AppendText(nil, subscriber))
	flat := strings.Join(strings.Fields(text), " ")
	for _, s := range e.Sections {
		for _, p := range s.Picks {
			if p.Author != "" && !strings.Contains(flat, " "+p.Author+" in "+p.Publication+".") {
				t.Errorf("no %q", p.Author+" in "+p.Publication)
			}
			for i := 0; ; {
				j := strings.Index(flat[i:], p.Publication)
				if j < 0 {
					break
				}
				if flat[i+j-1] != ' ' {
					t.Errorf("no space before %q: %q", p.Publication, flat[i+j-10:i+j+len(p.Publication)])
				}
				i += j + 1
			}
		}
		for _, c := range s.Cards {
			if !strings.Contains(text, "\n"+c.CTA+": "+c.URL+"\n") {
				t.Errorf("call to action %q not followed by %s", c.CTA, c.URL)
			}
		}
	}
	cta := regexp.MustCompile(`(?im)^.*read here.*$`)
	for _, line := range cta.FindAllString(text, -1) {
		if !regexp.MustCompile(`^Read here: https://\S+$`).MatchString(line) {
			t.Errorf("call to action without its target: %q", line)
		}
	}
	for _, want := range []string{"Photo: Lena Ortiz", "COMMENT\n-------", "ALSO KNOW", "FIVE THINGS",
		"summary of the flood survey\n<https://northgate-courier.example/data/harbour-flood-survey-2024>",
		"Mara Quint\nDeputy Editor", "Unsubscribe: " + subscriber.UnsubscribeURL, "Manage your preferences: " + subscriber.PreferencesURL} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	for _, line := range strings.Split(text, "\n") {
		if len([]rune(line)) <= 72 {
			continue
		}
		// Only an unbreakable URL may run past the margin, after a short label.
		words := strings.Fields(line)
		last := words[len(words)-1]
		if !strings.HasPrefix(last, "https://") || len(line)-len(last) > 40 {
			t.Errorf("line over 72 columns with a place to break: %q", line)
		}
	}
}

func TestHostileEdition(t *testing.T) {
	r, e := setup(t)
	t.Run("script in headlines is escaped", func(t *testing.T) {
		e := *e
		e.Sections = append([]model.Section(nil), e.Sections...)
		e.Sections[2].Briefs = []model.Brief{{Headline: `<script>alert("x")</script>`, Body: "Body."}}
		e.Subject = "<script>s</script>"
		m, err := r.Email(&e)
		if err != nil {
			t.Fatal(err)
		}
		web, err := r.Web(&e)
		if err != nil {
			t.Fatal(err)
		}
		for name, doc := range map[string]string{"email": string(m.AppendHTML(nil, subscriber)), "web": string(web)} {
			if strings.Contains(doc, "<script") || !strings.Contains(doc, "&lt;script&gt;") {
				t.Errorf("%s: headline not escaped", name)
			}
		}
	})
	t.Run("javascript URL refused", func(t *testing.T) {
		e := *e
		e.Sections = append([]model.Section(nil), e.Sections...)
		e.Sections[1].Cards = []model.Card{{Headline: "Click", URL: "javascript:alert(1)"}}
		_, err := r.Email(&e)
		if !errors.Is(err, edition.ErrInvalid) || !strings.Contains(err.Error(), `the card URL "javascript:alert(1)" is not a web address`) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("CR LF in subject refused", func(t *testing.T) {
		e := *e
		e.Subject = "Hi\r\nBcc: x@example.org"
		_, err := r.Email(&e)
		if err == nil || !strings.Contains(err.Error(), "the subject must be one line") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("oversized body refused", func(t *testing.T) {
		e := *e
		e.Sections = []model.Section{{Kind: model.KindText, Text: &model.Text{Body: strings.Repeat("word ", 2<<20)}}}
		_, err := r.Email(&e)
		if err == nil || !strings.Contains(err.Error(), "the text section is 10.0 MB; the limit is 128.0 KB") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("Markdown is sanitised", func(t *testing.T) {
		// Bodies that bypass validation (a stored draft from an older
		// version, say) are still sanitised by the renderer.
		body := "Hi <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(2)> [rel](/about)"
		got := string(render.MarkdownHTMLForTest(r, body))
		for _, bad := range []string{"<script", "javascript:", "onerror"} {
			if strings.Contains(got, bad) {
				t.Errorf("%q survived: %s", bad, got)
			}
		}
		if !strings.Contains(got, `href="https://northgate-courier.example/about"`) {
			t.Errorf("relative link not made absolute: %s", got)
		}
	})
}

func TestLinks(t *testing.T) {
	r, e := setup(t)
	m, err := r.Email(e)
	if err != nil {
		t.Fatal(err)
	}
	links := m.Links()
	set := map[string]bool{}
	for _, l := range links {
		if set[l] {
			t.Errorf("duplicate %s", l)
		}
		set[l] = true
	}
	for _, s := range e.Sections {
		for _, c := range s.Cards {
			if !set[c.URL] {
				t.Errorf("missing %s", c.URL)
			}
		}
		for _, p := range s.Picks {
			if !set[p.URL] {
				t.Errorf("missing %s", p.URL)
			}
		}
	}
	if !set["https://northgate-courier.example/data/harbour-flood-survey-2024"] {
		t.Error("missing the link inside the lead")
	}
}

func TestConcurrentPersonalisation(t *testing.T) {
	r, e := setup(t)
	m, err := r.Email(e)
	if err != nil {
		t.Fatal(err)
	}
	want := m.AppendHTML(nil, subscriber)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			var buf []byte
			for range 50 {
				buf = m.AppendHTML(buf[:0], subscriber)
				if !bytes.Equal(buf, want) {
					t.Error("concurrent output differs")
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestFeedEntry(t *testing.T) {
	r, e := setup(t)
	fe, err := r.FeedEntry(e)
	if err != nil {
		t.Fatal(err)
	}
	if fe.Link != "https://northgate-courier.example/archive/2025-03-13-evening" || fe.Title != e.Subject ||
		fe.Summary != e.Preheader || fe.Author != "Mara Quint" || fe.Published.Format("2006-01-02") != "2025-03-13" ||
		!strings.Contains(fe.ContentHTML, "<h2 id=\"s3\">Five things</h2>") || strings.Contains(fe.ContentHTML, "<html") {
		t.Errorf("feed entry: %+v", fe)
	}
	checkHTML(t, []byte(fe.ContentHTML))
}

func TestWebPage(t *testing.T) {
	r, e := setup(t)
	web, err := r.Web(e)
	if err != nil {
		t.Fatal(err)
	}
	root := checkHTML(t, web)
	var h1 int
	contrast.Walk(root, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "h1" {
			h1++
		}
		if n.Type == html.ElementNode && n.Data == "html" {
			if l, _ := contrast.Attr(n, "lang"); l != "en-GB" {
				t.Errorf("lang = %q", l)
			}
		}
	})
	if h1 != 1 {
		t.Errorf("%d h1 elements", h1)
	}
	for _, want := range []string{`<main id="edition">`, "<figcaption", `name="viewport"`, "<cite>The Upland Review</cite>"} {
		if !bytes.Contains(web, []byte(want)) {
			t.Errorf("web page lacks %q", want)
		}
	}
}

func TestCustomTheme(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("parse error", func(t *testing.T) {
		write("email.html", "<html>\n<body>\n{{.Edition.Subject | nosuchfunc}}\n</body></html>\n")
		_, err := render.New(sample.Publication(), render.Options{ThemeDir: dir})
		var te *render.ThemeError
		if !errors.As(err, &te) || te.File != filepath.Join(dir, "email.html") || te.Line != 3 {
			t.Fatalf("err = %v (%#v)", err, te)
		}
	})
	t.Run("execution error", func(t *testing.T) {
		write("email.html", "<html>\n<body>\n<p>{{.Edition.Subject}}</p>\n<p>{{.Edition.NoSuchField}}</p>\n</body></html>\n")
		_, err := render.New(sample.Publication(), render.Options{ThemeDir: dir})
		var te *render.ThemeError
		if !errors.As(err, &te) || te.File != filepath.Join(dir, "email.html") || te.Line != 4 {
			t.Fatalf("err = %v (%#v)", err, te)
		}
		t.Log(err)
	})
	t.Run("a folder that is not there", func(t *testing.T) {
		// A mistyped path must not quietly send the default theme.
		missing := filepath.Join(dir, "no-such-theme")
		empty := t.TempDir()
		file := filepath.Join(empty, "email.html.txt")
		if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		for path, want := range map[string]string{
			missing: `theme folder "` + missing + `" does not exist`,
			file:    `theme folder "` + file + `" is a file, not a folder`,
			empty:   `theme folder "` + empty + `" holds neither email.html nor web.html`,
		} {
			_, err := render.New(sample.Publication(), render.Options{ThemeDir: path})
			if err == nil || err.Error() != want {
				t.Errorf("theme %s: err = %v, want %q", path, err, want)
			}
		}
	})
	t.Run("override used", func(t *testing.T) {
		write("email.html", `<html lang="{{.Pub.Language}}"><body><p>{{.Edition.Subject}} for {{.Name}}</p><a href="{{.UnsubscribeURL}}">Unsubscribe</a></body></html>`)
		r, err := render.New(sample.Publication(), render.Options{ThemeDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		e, _ := sample.Edition()
		m, err := r.Email(e)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(m.AppendHTML(nil, render.Fields{Name: "Ann", UnsubscribeURL: "https://x.example/u"})); !strings.Contains(got, "who pays for the sea for Ann") ||
			!strings.Contains(got, `href="https://x.example/u"`) {
			t.Errorf("custom theme not used: %s", got)
		}
	})
}

func BenchmarkPersonalize(b *testing.B) {
	r, e := setup(b)
	m, err := r.Email(e)
	if err != nil {
		b.Fatal(err)
	}
	var htmlBuf, textBuf []byte
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		htmlBuf = m.AppendHTML(htmlBuf[:0], subscriber)
		textBuf = m.AppendText(textBuf[:0], subscriber)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(len(htmlBuf)+len(textBuf)), "bytes/msg")
}

func TestFreezeThaw(t *testing.T) {
	r, e := setup(t)
	m, err := r.Email(e)
	if err != nil {
		t.Fatal(err)
	}
	th := render.Thaw(m.Freeze(), "reader")
	if !bytes.Equal(th.AppendHTML(nil, subscriber), m.AppendHTML(nil, subscriber)) ||
		!bytes.Equal(th.AppendText(nil, render.Fields{}), m.AppendText(nil, render.Fields{})) ||
		th.Subject() != m.Subject() || len(th.Links()) != len(m.Links()) {
		t.Error("thawed email renders differently")
	}
}

// TestCutFillsBackToTheWhole: the runs of a Cut with its holes filled in
// are the whole HTML and text, for readers with and without a name (the
// greeting's two forms), a name to escape, and a tracked copy.
func TestCutFillsBackToTheWhole(t *testing.T) {
	r, e := setup(t)
	m, err := r.Email(e)
	if err != nil {
		t.Fatal(err)
	}
	tracked := m.Track(func(html []byte, click, open, hidden string) []byte {
		out := bytes.ReplaceAll(html, []byte(`href="https://`), []byte(`href="`+click+`https://`))
		out = bytes.Replace(out, []byte("</body>"), []byte(`<img src="`+open+`"></body>`), 1)
		return bytes.Replace(out, []byte("<body"), []byte(`<a href="`+hidden+`"></a><body`), 1)
	})
	readers := []render.Fields{subscriber, {}, {Name: `Zoë "<b>" & Co`, UnsubscribeURL: "https://x.example/u?a=1&b=2"},
		{Name: "Ana", Click: "https://x.example/c/tok?u=", Open: "https://x.example/o/tok.gif", Hidden: "https://x.example/l/tok"}}
	for _, em := range []*render.Email{m, tracked} {
		for _, f := range readers {
			for _, part := range []struct {
				cut   render.Cut
				whole []byte
			}{{em.CutHTML(), em.AppendHTML(nil, f)}, {em.CutText(), em.AppendText(nil, f)}} {
				var got []byte
				for i, run := range part.cut.Static() {
					if i > 0 {
						got = part.cut.AppendHole(got, i-1, &f)
					}
					got = append(got, run...)
				}
				if !bytes.Equal(got, part.whole) {
					t.Errorf("cut filled back for %+v differs:\n%s\nwant\n%s", f, got, part.whole)
				}
				if len(part.cut.Static()) < 2 {
					t.Errorf("no hole cut")
				}
			}
		}
	}
	if got := tracked.AppendHTML(nil, readers[3]); !bytes.Contains(got, []byte(`href="https://x.example/c/tok?u=https://`)) ||
		!bytes.Contains(got, []byte(`<img src="https://x.example/o/tok.gif">`)) {
		t.Error("tracked copy lacks the reader's tracking URLs")
	}
}
