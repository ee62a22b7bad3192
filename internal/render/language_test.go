package render_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/render"
)

// TestGoldenLanguages renders the sample edition's email (HTML and text)
// and web page with Herald's words in French, German and Arabic: review
// the files in testdata/ after -update. English stays as TestGolden has it.
func TestGoldenLanguages(t *testing.T) {
	r, _ := setup(t)
	for _, lang := range []string{"fr", "de", "ar"} {
		t.Run(lang, func(t *testing.T) {
			_, e := setup(t)
			e.Language = lang
			m, err := r.Email(e)
			if err != nil {
				t.Fatal(err)
			}
			html := m.AppendHTML(nil, subscriber)
			text := m.AppendText(nil, subscriber)
			web, err := r.Web(e)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "sample."+lang+".email.html", html)
			golden(t, "sample."+lang+".email.txt", text)
			golden(t, "sample."+lang+".web.html", web)
			checkHTML(t, html)
			checkHTML(t, web)
			wantLang := `<html lang="` + lang + `"`
			if lang == "ar" {
				wantLang += ` dir="rtl"`
			}
			for name, doc := range map[string][]byte{"email": html, "web": web} {
				if !bytes.Contains(doc, []byte(wantLang+">")) {
					t.Errorf("%s has no %s>", name, wantLang)
				}
				if lang != "ar" && bytes.Contains(doc, []byte(`dir="rtl"`)) {
					t.Errorf("%s is right to left in %s", name, lang)
				}
			}
			if m.Language() != lang {
				t.Errorf("Email.Language() = %q", m.Language())
			}
		})
	}
}

// The greeting has a form with the reader's name and one without, in every
// language; in Arabic the English name is isolated.
func TestGreetingWithAndWithoutName(t *testing.T) {
	r, _ := setup(t)
	for _, tc := range []struct {
		lang, named, anonymous string
	}{
		{"", "Good evening, Ada Lovelace.", "Good evening, reader."},
		{"fr", "Bonsoir Ada Lovelace,", "Bonsoir,"},
		{"de", "Guten Abend, Ada Lovelace,", "Guten Abend, liebe Leserin, lieber Leser,"},
		{"ja", "Ada Lovelaceさん、こんばんは。", "こんばんは。"},
		{"ar", "مساء الخير يا \u2068Ada Lovelace\u2069،", "مساء الخير،"},
	} {
		_, e := setup(t)
		e.Language = tc.lang
		m, err := r.Email(e)
		if err != nil {
			t.Fatal(err)
		}
		named := string(m.AppendText(nil, subscriber))
		anon := string(m.AppendText(nil, render.Fields{WebURL: subscriber.WebURL}))
		if !strings.Contains(named, "\n"+tc.named+"\n") || strings.Contains(named, "\n"+tc.anonymous+"\n") {
			t.Errorf("%s with a name:\n%s", tc.lang, named)
		}
		if !strings.Contains(anon, "\n"+tc.anonymous+"\n") || strings.Contains(anon, "Ada") {
			t.Errorf("%s without a name:\n%s", tc.lang, anon)
		}
		htmlNamed := string(m.AppendHTML(nil, subscriber))
		if tc.lang == "ar" && !strings.Contains(htmlNamed, "<bdi>Ada Lovelace</bdi>") {
			t.Errorf("Arabic HTML greeting does not isolate the name")
		}
	}
}

// BenchmarkPersonalizeLanguages fills in one subscriber's copy, as
// delivery does per recipient, in English, French and Arabic: the greeting
// with and without a name is chosen per copy.
func BenchmarkPersonalizeLanguages(b *testing.B) {
	for _, lang := range []string{"en", "fr", "ar"} {
		b.Run(lang, func(b *testing.B) {
			r, e := setup(b)
			e.Language = lang
			m, err := r.Email(e)
			if err != nil {
				b.Fatal(err)
			}
			var htmlBuf, textBuf []byte
			b.ReportAllocs()
			for b.Loop() {
				htmlBuf = m.AppendHTML(htmlBuf[:0], subscriber)
				textBuf = m.AppendText(textBuf[:0], subscriber)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
