package web_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/emersion/go-message/mail"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/smtpsink"
)

// mailParts is a message as a reader's mail client shows it.
type mailParts struct {
	header     mail.Header
	subject    string
	text, html string
}

func readMail(t *testing.T, m smtpsink.Message) mailParts {
	t.Helper()
	r, err := mail.CreateReader(bytes.NewReader(m.Raw))
	if err != nil {
		t.Fatal(err)
	}
	out := mailParts{header: r.Header}
	out.subject, _ = r.Header.Subject()
	for {
		p, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p.Body)
		switch ct, _, _ := p.Header.(*mail.InlineHeader).ContentType(); ct {
		case "text/plain":
			out.text = string(b)
		case "text/html":
			out.html = string(b)
		}
	}
	return out
}

// addList stores a public list for a test.
func (st *site) addList(l *model.List) *model.List {
	st.t.Helper()
	l.Public = true
	if err := st.store.CreateList(context.Background(), l); err != nil {
		st.t.Fatal(err)
	}
	return l
}

// getLang fetches path with an Accept-Language header.
func (st *site) getLang(path, accept string) string {
	st.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, st.ts.URL+path, nil)
	if accept != "" {
		req.Header.Set("Accept-Language", accept)
	}
	resp, err := st.client().Do(req)
	if err != nil {
		st.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestConfirmationInListLanguage: signing up to a German list and to an
// Arabic one, through the hosted form, sends each confirmation in its
// list's language through a real SMTP session, Arabic right to left with
// the English list name isolated; the pages on the way are in the list's
// language whatever the browser asks for.
func TestConfirmationInListLanguage(t *testing.T) {
	st := newSite(t, sqlite(t), nil)
	st.addList(&model.List{Slug: "abend", Name: "Der Abend", OptIn: model.OptInDouble, Language: "de"})
	st.addList(&model.List{Slug: "masa", Name: "Evening Brief", OptIn: model.OptInDouble, Language: "ar"})

	c := st.client()
	if body := st.getLang("/subscribe/abend", "ar, en;q=0.5"); !strings.Contains(body, `<html lang="de" dir="ltr">`) || !strings.Contains(body, "Abonnieren") {
		t.Fatalf("the German list's page is not German:\n%s", body)
	}
	tok := st.csrf(c, "/subscribe/abend")
	_, body := st.post(c, "/subscribe/abend", url.Values{"email": {"leserin@example.com"}, "name": {"Ada"}, "csrf": {tok}})
	if !strings.Contains(body, "Bitte sehen Sie in Ihr Postfach") || !strings.Contains(body, "7 Tage gültig") {
		t.Fatalf("check-your-inbox page is not German:\n%s", body)
	}
	de := readMail(t, st.waitMail(1)[0])
	if de.subject != "Bestätigen Sie Ihr Abonnement von Der Abend" {
		t.Errorf("German subject %q", de.subject)
	}
	for _, want := range []string{"Jemand, hoffentlich Sie, möchte Der Abend an diese Adresse erhalten.", "Er ist 7 Tage gültig.", "Bestätigen: " + st.ts.URL + "/confirm/"} {
		if !strings.Contains(de.text, want) {
			t.Errorf("German text lacks %q:\n%s", want, de.text)
		}
	}
	if !strings.Contains(de.html, `<html lang="de">`) || !strings.Contains(de.html, ">Abonnement bestätigen</a>") {
		t.Errorf("German HTML:\n%s", de.html)
	}
	confirm := linkIn(t, st.sink.Messages()[0].Raw, "/confirm/")
	if body := st.getLang(strings.TrimPrefix(confirm, st.ts.URL), "en"); !strings.Contains(body, "Bestätigen Sie Ihr Abonnement") {
		t.Errorf("confirm page is not German:\n%s", body)
	}

	tok = st.csrf(c, "/subscribe/masa")
	st.post(c, "/subscribe/masa", url.Values{"email": {"qari@example.com"}, "csrf": {tok}})
	ar := readMail(t, st.waitMail(2)[1])
	if ar.subject != "أكّد اشتراكك في \u2068Evening Brief\u2069" {
		t.Errorf("Arabic subject %q", ar.subject)
	}
	if !strings.Contains(ar.html, `<html lang="ar" dir="rtl">`) || !strings.Contains(ar.html, "text-align:right") || !strings.Contains(ar.html, "يبقى صالحًا لمدة ٧ أيام") && !strings.Contains(ar.text, "٧ أيام") {
		t.Errorf("Arabic HTML is not right to left, or the days are not Arabic:\n%s\n%s", ar.html, ar.text)
	}
}

// TestAcceptLanguage: the home page, the archive and error pages answer in
// the reader's preferred language among the lists' languages, else in the
// publication's.
func TestAcceptLanguage(t *testing.T) {
	st := newSite(t, sqlite(t), nil)
	st.addList(&model.List{Slug: "soir", Name: "Le Soir", Language: "fr"})
	st.addList(&model.List{Slug: "abend", Name: "Der Abend", Language: "de"})
	if err := st.store.CreateList(context.Background(), &model.List{Slug: "private", Name: "Privat", Language: "ja"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, accept, lang, word string }{
		{"/", "fr-CH, fr;q=0.9, en;q=0.5", `lang="fr"`, "Lettres d’information"},
		{"/", "de-AT", `lang="de"`, "Newsletter"},
		{"/", "en-US", `lang="en-GB"`, "Newsletters"},
		{"/", "", `lang="en-GB"`, "Newsletters"},
		{"/archive", "de", `lang="de"`, "Archiv"},
		{"/no-such-page", "fr", `lang="fr"`, "Page introuvable"},
		{"/unsubscribe/forged", "de", `lang="de"`, "Dieser Link funktioniert nicht"},
	} {
		body := st.getLang(tc.path, tc.accept)
		if !strings.Contains(body, tc.lang) || !strings.Contains(body, tc.word) {
			t.Errorf("%s with Accept-Language %q: want %s and %q in\n%s", tc.path, tc.accept, tc.lang, tc.word, body)
		}
	}
	// Japanese is only a private list's language: not offered.
	if body := st.getLang("/", "ja"); !strings.Contains(body, `lang="en-GB"`) {
		t.Errorf("a private list's language was offered:\n%s", body)
	}
}

// TestListBrandMail: a list with its own brand sends its confirmation from
// its own From, with its Reply-To, logo and colours; another list keeps
// the publication's (its accent colour, the configured From), both through
// the SMTP sink.
func TestListBrandMail(t *testing.T) {
	st := newSite(t, sqlite(t), nil)
	brand := &model.Brand{Name: "Le Soir", LogoURL: "https://soir.example/logo.png", Colors: model.Colors{Accent: "#123456", Background: "#fdfaf3"},
		From: "Le Soir <soir@soir.example>", ReplyTo: "courrier@soir.example", PostalAddress: "1 rue du Port, Brest"}
	st.addList(&model.List{Slug: "soir", Name: "Le Soir du jour", OptIn: model.OptInDouble, Language: "fr", Brand: brand})

	c := st.client()
	if body := st.getLang("/subscribe/soir", ""); !strings.Contains(body, `<a class="brand" href="/">Le Soir</a>`) || !strings.Contains(body, "1 rue du Port, Brest") || !strings.Contains(body, `href="/theme.css?list=soir"`) {
		t.Errorf("the branded list's page does not show its brand:\n%s", body)
	}
	if css := st.getLang("/theme.css?list=soir", ""); !strings.Contains(css, "#123456") {
		t.Errorf("the branded list's theme.css: %q", css)
	}
	for _, slug := range []string{"soir", "daily"} {
		tok := st.csrf(c, "/subscribe/"+slug)
		st.post(c, "/subscribe/"+slug, url.Values{"email": {slug + "@example.com"}, "csrf": {tok}})
	}
	msgs := st.waitMail(2)
	for _, m := range msgs {
		got := readMail(t, m)
		from, _ := got.header.AddressList("From")
		reply, _ := got.header.AddressList("Reply-To")
		switch m.To[0] {
		case "soir@example.com":
			if m.From != "soir@soir.example" || len(from) != 1 || from[0].Address != "soir@soir.example" || from[0].Name != "Le Soir" {
				t.Errorf("branded mail from %q / %v", m.From, from)
			}
			if len(reply) != 1 || reply[0].Address != "courrier@soir.example" {
				t.Errorf("branded mail Reply-To %v", reply)
			}
			if !strings.Contains(got.html, `src="https://soir.example/logo.png"`) || !strings.Contains(got.html, "background:#123456") || !strings.Contains(got.html, "background:#fdfaf3") {
				t.Errorf("branded mail lacks its logo or colours:\n%s", got.html)
			}
		default:
			if m.From != "news@example.com" || len(reply) != 0 || strings.Contains(got.html, "soir.example") || !strings.Contains(got.html, "background:#9c2f1f") {
				t.Errorf("the default list's mail took another brand: from %q reply %v\n%s", m.From, reply, got.html)
			}
		}
	}
}

// TestListBrandCampaign: the same edition sent to a list with its own
// brand (French, its From, Reply-To, logo and colours) and to a list
// without one: each campaign's mail, through the SMTP sink, wears its own
// list's look, and the default one the publication's.
func TestListBrandCampaign(t *testing.T) {
	st := newSite(t, sqlite(t), nil)
	e := st.publishSample()
	brand := &model.Brand{Name: "Le Soir", LogoURL: "https://soir.example/logo.png", Colors: model.Colors{Accent: "#123456", Background: "#fdfaf3"},
		From: "Le Soir <soir@soir.example>", ReplyTo: "courrier@soir.example", PostalAddress: "1 rue du Port, Brest"}
	soir := st.addList(&model.List{Slug: "soir", Name: "Le Soir du jour", Language: "fr", Brand: brand})
	st.subscriber("lectrice@example.com", soir)
	st.subscriber("reader@example.com", st.daily)

	st.send(e, st.daily)
	st.send(e, soir) // the newest: the edition's web page wears its brand
	msgs := st.waitMail(2)
	if len(msgs) != 2 {
		t.Fatalf("%d messages", len(msgs))
	}
	for _, m := range msgs {
		got := readMail(t, m)
		from, _ := got.header.AddressList("From")
		reply, _ := got.header.AddressList("Reply-To")
		switch m.To[0] {
		case "lectrice@example.com":
			if m.From != "soir@soir.example" || len(from) != 1 || from[0].Name != "Le Soir" || len(reply) != 1 || reply[0].Address != "courrier@soir.example" {
				t.Errorf("branded campaign from %q %v reply %v", m.From, from, reply)
			}
			for _, want := range []string{`<html lang="fr"`, `src="https://soir.example/logo.png" alt="Le Soir"`, "#123456", "background-color:#fdfaf3", "1 rue du Port, Brest", "Bonsoir Test Reader,", "Vous recevez ce message parce que vous êtes abonné à Le Soir."} {
				if !strings.Contains(got.html, want) {
					t.Errorf("branded campaign HTML lacks %q", want)
				}
			}
			if text := strings.ReplaceAll(got.text, "\r\n", "\n"); !strings.Contains(text, "LE SOIR\n") || !strings.Contains(text, "jeudi 13 mars 2025 · Soir") {
				t.Errorf("branded campaign text:\n%s", got.text)
			}
		case "reader@example.com":
			if m.From != "news@example.com" || len(reply) != 0 {
				t.Errorf("default campaign from %q reply %v", m.From, reply)
			}
			if strings.Contains(got.html, "soir.example") || strings.Contains(got.html, "#123456") || !strings.Contains(got.html, "#9c2f1f") || !strings.Contains(got.html, `<html lang="en-GB"`) || !strings.Contains(got.html, "Good evening, Test Reader.") {
				t.Errorf("the default campaign took another look:\n%s", got.html)
			}
		default:
			t.Errorf("mail to %v", m.To)
		}
	}

	// Each list's archive and feeds show what went to it, under its brand.
	st.store.CreateList(context.Background(), &model.List{Slug: "quiet", Name: "Quiet", Public: true})
	for _, tc := range []struct{ path, want, not string }{
		{"/archive/soir", `<a class="brand" href="/">Le Soir</a>`, ""},
		{"/archive/soir", `href="/archive/` + e.Slug + `"`, ""},
		{"/archive/soir", `<html lang="fr" dir="ltr">`, ""},
		{"/archive/soir", `href="/archive/soir/feed.atom"`, ""},
		{"/archive/quiet", "No edition has been published yet.", "/archive/" + e.Slug},
		{"/archive/soir/feed.rss", "<title>Le Soir</title>", ""},
		{"/archive/soir/feed.rss", "Toutes les éditions publiques de Le Soir", ""},
		{"/archive/soir/feed.rss", e.Subject, ""},
		{"/archive/soir/feed.json", `"feed_url": "` + st.ts.URL + `/archive/soir/feed.json"`, ""},
		{"/archive/quiet/feed.atom", "<title>Northgate Courier</title>", e.Subject},
		{"/feed.json", `"feed_url": "` + st.ts.URL + `/feed.json"`, ""},
		{"/archive/" + e.Slug, `<html lang="fr">`, "Northgate Courier</a>"},
		{"/archive/" + e.Slug, `<img src="https://soir.example/logo.png" alt="Le Soir">`, ""},
	} {
		body := st.getLang(tc.path, "")
		if !strings.Contains(body, tc.want) || tc.not != "" && strings.Contains(body, tc.not) {
			t.Errorf("%s: want %q, not %q, in\n%s", tc.path, tc.want, tc.not, body)
		}
	}
}
