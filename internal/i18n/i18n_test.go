package i18n

import (
	"html/template"
	"testing"
	"time"
)

var day = time.Date(2025, 3, 13, 18, 5, 0, 0, time.UTC)

func TestDatesNumbersAndTimes(t *testing.T) {
	for _, tc := range []struct {
		tag, dateline, number, time string
	}{
		{"en-GB", "Thursday 13 March 2025 · Evening", "12,345", "6:05 pm"},
		{"fr", "jeudi 13 mars 2025 · Soir", "12\u00a0345", "18\u00a0h\u00a005"},
		{"de", "Donnerstag, 13. März 2025 · Abend", "12.345", "18:05 Uhr"},
		{"es", "jueves, 13 de marzo de 2025 · Tarde", "12.345", "18:05"},
		{"pt-BR", "quinta-feira, 13 de março de 2025 · Noite", "12.345", "18h05"},
		{"pl", "czwartek, 13 marca 2025 · Wydanie wieczorne", "12\u00a0345", "18:05"},
		{"ar", "الخميس ١٣ مارس ٢٠٢٥ · نشرة المساء", "١٢٬٣٤٥", "٦:٠٥ م"},
		{"ja", "2025年3月13日（木曜日） · 夕刊", "12,345", "18時05分"},
	} {
		l := For(tc.tag)
		if got := l.Dateline("2025-03-13", "evening"); got != tc.dateline {
			t.Errorf("%s dateline %q, want %q", tc.tag, got, tc.dateline)
		}
		if got := l.Number(12345); got != tc.number {
			t.Errorf("%s number %q, want %q", tc.tag, got, tc.number)
		}
		if got := l.Time(day); got != tc.time {
			t.Errorf("%s time %q, want %q", tc.tag, got, tc.time)
		}
	}
	if got := For("fr").Dateline("2025-03-13", "late"); got != "jeudi 13 mars 2025 · Late" {
		t.Errorf("a slot Herald does not know: %q", got)
	}
}

// Plural forms follow each language's CLDR rules.
func TestPlurals(t *testing.T) {
	for _, tc := range []struct {
		tag  string
		n    int
		want string
	}{
		{"en", 1, "one day"}, {"en", 7, "7 days"},
		{"fr", 1, "1 jour"}, {"fr", 7, "7 jours"},
		{"pl", 1, "1 dzień"}, {"pl", 3, "3 dni"}, {"pl", 22, "22 dni"}, {"pl", 25, "25 dni"},
		{"ar", 1, "يوم واحد"}, {"ar", 2, "يومين"}, {"ar", 7, "٧ أيام"}, {"ar", 11, "١١ يومًا"}, {"ar", 100, "١٠٠ يوم"},
		{"ja", 7, "7日間"},
	} {
		if got := For(tc.tag).N("duration.days", tc.n); got != tc.want {
			t.Errorf("%s %d days: %q, want %q", tc.tag, tc.n, got, tc.want)
		}
	}
}

func TestNegotiate(t *testing.T) {
	offered := []string{"en-GB", "fr", "de", "ar"}
	for _, tc := range []struct{ accept, want string }{
		{"fr-CH, fr;q=0.9, en;q=0.5", "fr"},
		{"de-AT,de;q=0.9", "de"},
		{"ja, ar;q=0.3", "ar"},
		{"en-US,en;q=0.9", "en-GB"},
		{"ja", "en-GB"}, // nothing offered matches: the fallback
		{"", "en-GB"},
		{"%%%", "en-GB"},
	} {
		if got := Negotiate(tc.accept, offered, "en-GB"); got != tc.want {
			t.Errorf("Accept-Language %q: %q, want %q", tc.accept, got, tc.want)
		}
	}
}

func TestDirectionAndIsolation(t *testing.T) {
	for tag, rtl := range map[string]bool{"ar": true, "he": true, "fa": true, "ur": true, "ar-EG": true, "en": false, "ja": false, "": false} {
		if IsRTL(tag) != rtl {
			t.Errorf("IsRTL(%q) = %v", tag, !rtl)
		}
	}
	ar := For("ar")
	if ar.Dir() != "rtl" || ar.Start() != "right" || ar.Catalog() != "ar" {
		t.Errorf("Arabic: dir %s, start %s, catalog %s", ar.Dir(), ar.Start(), ar.Catalog())
	}
	if got := ar.HTML("confirm.lead_html", "List", "The <Evening> Brief"); got != template.HTML("اضغط على الزر لتبدأ في تلقي <strong><bdi>The &lt;Evening&gt; Brief</bdi></strong>.") {
		t.Errorf("Arabic HTML: %s", got)
	}
	if got := ar.Plain("mail.confirm_subject", "List", "Evening Brief"); got != "أكّد اشتراكك في \u2068Evening Brief\u2069" {
		t.Errorf("Arabic plain: %q", got)
	}
	if got := For("en").HTML("confirm.lead_html", "List", "A & B"); got != "Press the button to start receiving <strong>A &amp; B</strong>." {
		t.Errorf("English HTML: %s", got)
	}
	// Hebrew has no catalog yet: English words, laid out right to left.
	if he := For("he"); he.Catalog() != "en" || he.Dir() != "rtl" || he.Lang() != "he" {
		t.Errorf("Hebrew: catalog %s, dir %s, lang %s", he.Catalog(), he.Dir(), he.Lang())
	}
}

func TestCheck(t *testing.T) {
	for in, want := range map[string]string{"fr": "fr", "pt-br": "pt-BR", "fr-CA": "fr-CA", "": ""} {
		if got, err := Check(in); err != nil || got != want {
			t.Errorf("Check(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"xx", "he", "not a tag"} {
		if _, err := Check(in); err == nil {
			t.Errorf("Check(%q) accepted", in)
		}
	}
	if got := For("fr").T("no.such.key"); got != "no.such.key" {
		t.Errorf("a missing key reads %q", got)
	}
}
