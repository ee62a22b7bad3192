package render_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/herald-news/herald/internal/browsertest"
	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/render"
)

// colorScheme makes the page report prefers-color-scheme: scheme.
func colorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	})
}

// The sample email and web page as Chromium draws them, in light and dark
// mode: the card buttons' text must be readable on the button, the card
// headlines in the text colour, and the byline apart from the story.
// Screenshots are saved for a person to look at (HERALD_TEST_ARTIFACTS).
func TestBrowserEmailAndWebPage(t *testing.T) {
	b := browsertest.New(t)
	var pic bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 600, 300))
	for y := range 300 {
		for x := range 600 {
			img.Set(x, y, color.RGBA{0x70, 0x80, 0x90, 0xff})
		}
	}
	if err := png.Encode(&pic, img); err != nil {
		t.Fatal(err)
	}
	pages := map[string][]byte{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/favicon.ico" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if r.URL.Path == "/picture.png" {
			w.Header().Set("Content-Type", "image/png")
			w.Write(pic.Bytes())
			return
		}
		p, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(p)
	}))
	defer srv.Close()

	// Pictures from the test server: the test uses no network.
	pub := sample.Publication()
	pub.LogoURL = ""
	e, err := sample.Edition()
	if err != nil {
		t.Fatal(err)
	}
	e.Hero.URL = srv.URL + "/picture.png"
	r, err := render.New(pub, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.Email(e)
	if err != nil {
		t.Fatal(err)
	}
	pages["/email"] = m.AppendHTML(nil, subscriber)
	if pages["/web"], err = r.Web(e); err != nil {
		t.Fatal(err)
	}

	type looks struct {
		CTAColor, CTABackground, Headline, BylineTop string
	}
	want := map[string]looks{
		"light": {CTAColor: "rgb(255, 255, 255)", CTABackground: "rgb(156, 47, 31)", Headline: "rgb(31, 35, 40)", BylineTop: "18px"},
		"dark":  {CTAColor: "rgb(28, 31, 35)", CTABackground: "rgb(242, 160, 143)", Headline: "rgb(236, 232, 225)", BylineTop: "18px"},
	}
	b.Do(chromedp.EmulateViewport(700, 900))
	for _, scheme := range []string{"light", "dark"} {
		b.Do(colorScheme(scheme), chromedp.Navigate(srv.URL+"/email"), chromedp.WaitVisible(chromedp.CSS("a.cta")))
		got := browsertest.Run(b, chromedp.Evaluate[looks](`(() => {
			const cta = getComputedStyle(document.querySelector("a.cta"));
			return {
				CTAColor: cta.color, CTABackground: cta.backgroundColor,
				Headline: getComputedStyle(document.querySelector(".card h3 a")).color,
				BylineTop: getComputedStyle(document.querySelector(".byline")).marginTop,
			};
		})()`))
		if got != want[scheme] {
			t.Errorf("%s email: got %+v, want %+v", scheme, got, want[scheme])
		}
		b.Screenshot(fmt.Sprintf("email-%s", scheme))
		b.Do(chromedp.Navigate(srv.URL+"/web"), chromedp.WaitVisible(chromedp.CSS("main")))
		b.Screenshot(fmt.Sprintf("web-%s", scheme))
	}
	b.AssertNoProblems()
}
