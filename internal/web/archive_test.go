package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/delivery/deliverytest"
	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/token"
	"github.com/herald-news/herald/internal/web"
)

func TestArchiveAndFeeds(t *testing.T) {
	t.Parallel()
	st := newSite(t, sqlite(t), func(o *web.Options) { o.ArchivePageSize = 2 })
	ctx := context.Background()
	first := st.publishSample()
	for i, slug := range []string{"second", "third", "hidden"} {
		e, _ := sample.Edition()
		e.Slug, e.Subject, e.Date = slug, "Edition "+slug, "2025-03-1"+string(rune('4'+i))
		e.Hero = nil
		e.Public, e.Status = slug != "hidden", model.EditionPublished
		if err := st.store.CreateEdition(ctx, e, ""); err != nil {
			t.Fatal(err)
		}
	}
	c := st.client()
	_, page1 := st.get(c, "/archive")
	_, page2 := st.get(c, "/archive?page=2")
	if !strings.Contains(page1, `rel="next"`) || !strings.Contains(page2, `rel="prev"`) || strings.Contains(page1+page2, "Edition hidden") {
		t.Fatalf("archive pages:\n%s\n----\n%s", page1, page2)
	}
	if !strings.Contains(page1+page2, first.Subject) {
		t.Fatal("the sample edition is not in the archive")
	}
	if resp, _ := st.get(c, "/archive/hidden"); resp.StatusCode != 404 {
		t.Fatalf("private edition = %d", resp.StatusCode)
	}
	resp, body := st.get(c, "/archive/"+first.Slug)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "style-src 'sha256-") || !strings.Contains(body, first.Subject) {
		t.Fatalf("edition page = %d, CSP %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
	for path, ctype := range map[string]string{"/feed.rss": "application/rss+xml", "/feed.atom": "application/atom+xml", "/feed.json": "application/feed+json"} {
		resp, body := st.get(c, path)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), ctype) || !strings.Contains(body, "Edition third") || strings.Contains(body, "Edition hidden") {
			t.Fatalf("%s = %d %s\n%s", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		if path == "/feed.json" {
			var f struct {
				Items []struct{ URL string } `json:"items"`
			}
			if err := json.Unmarshal([]byte(body), &f); err != nil || len(f.Items) != 3 || !strings.HasPrefix(f.Items[0].URL, st.ts.URL+"/archive/") {
				t.Fatalf("JSON Feed: %v %+v", err, f)
			}
		}
		etag, lm := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
		if etag == "" || lm == "" {
			t.Fatalf("%s: no ETag or Last-Modified", path)
		}
		for h, v := range map[string]string{"If-None-Match": etag, "If-Modified-Since": lm} {
			req, _ := http.NewRequest(http.MethodGet, st.ts.URL+path, nil)
			req.Header.Set(h, v)
			r2, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			r2.Body.Close()
			if r2.StatusCode != http.StatusNotModified {
				t.Fatalf("%s with %s = %d", path, h, r2.StatusCode)
			}
		}
	}
}

func TestPrivateEditionOpensOnlyFromTheCampaignsLink(t *testing.T) {
	t.Parallel()
	st := newSite(t, sqlite(t), nil)
	ctx := context.Background()
	e, err := sample.Edition()
	if err != nil {
		t.Fatal(err)
	}
	e.Public = false // subscribers only
	if err := st.store.CreateEdition(ctx, e, ""); err != nil {
		t.Fatal(err)
	}
	st.subscriber("reader@example.com", st.daily)
	c := st.send(e, st.daily)

	// The link the engine put in the mail opens the page.
	links := delivery.Links{BaseURL: st.ts.URL, Signer: st.signer}
	webURL := links.Web(c.ID)
	if !strings.Contains(string(st.waitMail(1)[0].Raw), "/archive/campaign/") {
		t.Fatal("the message carries no web-version link")
	}
	resp, body := st.get(st.client(), strings.TrimPrefix(webURL, st.ts.URL))
	if resp.StatusCode != 200 || !strings.Contains(body, e.Subject) {
		t.Fatalf("campaign link: %d", resp.StatusCode)
	}
	// A guessed or altered link does not.
	for _, path := range []string{
		fmt.Sprintf("/archive/campaign/%d", c.ID),
		fmt.Sprintf("/archive/campaign/%d?k=forged", c.ID),
		fmt.Sprintf("/archive/campaign/%d?k=%s", c.ID, st.signer.Sign(token.Claims{Purpose: token.View, CampaignID: c.ID + 1})),
		fmt.Sprintf("/archive/campaign/%d?k=%s", c.ID, st.signer.Sign(token.Claims{Purpose: token.Open, CampaignID: c.ID})),
	} {
		if resp, body := st.get(st.client(), path); resp.StatusCode != 404 || strings.Contains(body, e.Subject) {
			t.Errorf("%s: %d, want 404 with nothing of the edition", path, resp.StatusCode)
		}
	}
}

func TestArchiveWithTrailingSlash(t *testing.T) {
	t.Parallel()
	st := newSite(t, sqlite(t), nil)
	first := st.publishSample()
	c := st.client()
	for path, want := range map[string]string{"/archive/": "/archive", "/archive/?page=2": "/archive?page=2"} {
		resp, _ := st.get(c, path)
		if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != want {
			t.Fatalf("%s = %d to %q, want 301 to %q", path, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
	// Followed, it is the archive.
	resp, err := http.Get(st.ts.URL + "/archive/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(b), first.Subject) {
		t.Fatalf("/archive/ followed = %d\n%s", resp.StatusCode, b)
	}
}

func TestSiteTitleBeforeSettingsAreSaved(t *testing.T) {
	t.Parallel()
	s := sqlite(t)
	srv, err := web.NewServer(web.Deps{Store: s, Signer: deliverytest.Signer(t), BaseURL: "http://127.0.0.1:8080"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	for _, path := range []string{"/", "/archive", "/feed.rss", "/feed.atom", "/feed.json"} {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		body := rec.Body.String()
		if rec.Code != 200 || !strings.Contains(body, "Herald") || strings.Contains(body, ">127.0.0.1:8080<") ||
			strings.Contains(body, "· 127.0.0.1:8080") || strings.Contains(body, `"title": "127.0.0.1:8080"`) {
			t.Fatalf("%s on a fresh install = %d, want the publication's default name (Herald), not the host:\n%s", path, rec.Code, body)
		}
	}
}
