package web

import "net/http"

// routes is the whole public URL surface.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("GET /static/herald.css", s.staticFile)
	mux.HandleFunc("GET /favicon.svg", s.staticFile)
	mux.HandleFunc("GET /favicon.ico", s.staticFile)
	mux.HandleFunc("GET /theme.css", s.themeCSS)

	// Joining: hosted page per public list, its form, and the embeddable
	// form's target (cross-site by nature, so no CSRF token).
	mux.HandleFunc("GET /subscribe/{slug}", s.subscribePage)
	mux.HandleFunc("POST /subscribe/{slug}", s.subscribePost)
	mux.HandleFunc("POST /subscribe/{slug}/embed", s.subscribeEmbed)
	mux.HandleFunc("GET /confirm/{token}", s.confirmPage)
	mux.HandleFunc("POST /confirm/{token}", s.confirmPost)

	// Leaving and choosing: GET never changes anything; POST with
	// List-Unsubscribe=One-Click is RFC 8058's one-click unsubscribe.
	mux.HandleFunc("GET /unsubscribe/{token}", s.unsubscribePage)
	mux.HandleFunc("POST /unsubscribe/{token}", s.unsubscribePost)
	mux.HandleFunc("POST /unsubscribe/{token}/why", s.unsubscribeWhy)
	// Readers' feedback: a GET shows the ratings, a POST records one.
	mux.HandleFunc("GET /feedback/{token}", s.feedbackRate)
	mux.HandleFunc("POST /feedback/{token}", s.feedbackPost)
	mux.HandleFunc("POST /feedback/{token}/more", s.feedbackMore)
	mux.HandleFunc("GET /preferences/{token}", s.preferencesPage)
	mux.HandleFunc("POST /preferences/{token}", s.preferencesPost)
	mux.HandleFunc("GET /preferences/{token}/data.json", s.preferencesData)
	mux.HandleFunc("POST /preferences/{token}/erase", s.preferencesErase)

	// Reading.
	mux.HandleFunc("GET /archive", s.archiveIndex)
	mux.HandleFunc("GET /archive/{$}", s.archiveSlash)
	mux.HandleFunc("GET /archive/{slug}", s.archiveEdition)
	mux.HandleFunc("GET /archive/campaign/{id}", s.archiveCampaign)
	mux.HandleFunc("GET /feed.rss", s.feed)
	mux.HandleFunc("GET /feed.atom", s.feed)
	mux.HandleFunc("GET /feed.json", s.feed)
	mux.HandleFunc("GET /archive/{slug}/{feed}", s.listFeed)

	// Tracking.
	mux.HandleFunc("GET /o/{file}", s.openPixel)
	mux.HandleFunc("GET /c/{token}", s.clickRedirect)
	mux.HandleFunc("GET /l/{token}", s.hiddenLink)

	// Mail providers' bounce and complaint reports.
	mux.HandleFunc("POST /webhooks/ses", s.webhookSES)
	mux.HandleFunc("POST /webhooks/postmark", s.webhookPostmark)
	mux.HandleFunc("POST /webhooks/sendgrid", s.webhookSendGrid)
	mux.HandleFunc("POST /webhooks/mailgun", s.webhookMailgun)
	mux.HandleFunc("POST /webhooks/generic", s.webhookGeneric)

	mux.HandleFunc("/", s.notFound)
	return mux
}
