// Package prechecktest serves an in-process web site on loopback for the
// pre-send checks' tests in the packages that show them (admin, API, CLI),
// and an edition whose links and images point at it: one good page, one
// that is gone, one good image.
package prechecktest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

// Loopback is the allow list that lets a test's checker reach the site.
var Loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

// Site serves /ok (a page), /gone (404) and /hero.png (an image) until the
// test ends, and returns its base URL.
func Site(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<p>fine</p>")
		case "/hero.png":
			w.Header().Set("Content-Type", "image/png")
			w.Write([]byte("\x89PNG\r\n\x1a\n"))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// Edition is an edition file whose lead links to site's /ok and /gone,
// with its hero image from site: one warning (the gone link) when checked.
func Edition(site string) string {
	return `---
date: 2026-12-07
slot: evening
subject: The ferry strike is off
preheader: Crews accept the new rota after a night of talks at the harbour office.
hero-image: ` + site + `/hero.png
hero-alt: Two ferries tied up at the quay in the rain
---

# lead
headline: The ferry strike is off
byline: Mara Quint
role: Deputy Editor

The crews voted at six. [The agreement](` + site + `/ok) sets a new rota; [the union's statement](` + site + `/gone) came later.
`
}
