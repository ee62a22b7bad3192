package api

import (
	"net/http"

	"github.com/herald-news/herald/client"
	"github.com/herald-news/herald/internal/auth"
)

// Route is one API endpoint: what it takes and answers (for the OpenAPI
// document) and the permission it needs.
type Route struct {
	Method, Path string
	Summary      string
	Permission   auth.Permission
	Public       bool
	In, Out      any      // example values of the request and response types; nil for none
	Query        []string // query parameters
	Headers      []string // optional request headers it reads
	Body         string   // request content type when not JSON
	Produces     string   // response content type when not JSON
	h            func(w http.ResponseWriter, r *http.Request) error
}

// Routes returns the whole API surface.
func (a *API) Routes() []Route { return a.table() }

func (a *API) table() []Route {
	pageQ := []string{"limit", "offset"}
	return []Route{
		{Method: "GET", Path: "/api/openapi.json", Summary: "This API as an OpenAPI 3 document", Public: true, h: a.openAPI},
		{Method: "GET", Path: "/api/me", Summary: "The token's user and role", Permission: auth.ReadStats, Out: client.Me{}, h: a.me},

		{Method: "GET", Path: "/api/lists", Summary: "Every list with its counts", Permission: auth.ReadStats, Out: client.Page[client.List]{}, h: a.listLists},
		{Method: "POST", Path: "/api/lists", Summary: "Create a list", Permission: auth.ManageAudience, In: client.ListInput{}, Out: client.List{}, h: a.createList},
		{Method: "GET", Path: "/api/lists/{id}", Summary: "One list", Permission: auth.ReadStats, Out: client.List{}, h: a.getList},
		{Method: "PUT", Path: "/api/lists/{id}", Summary: "Change a list", Permission: auth.ManageAudience, In: client.ListInput{}, Out: client.List{}, h: a.updateList},
		{Method: "DELETE", Path: "/api/lists/{id}", Summary: "Delete a list (subscribers stay)", Permission: auth.ManageAudience, h: a.deleteList},
		{Method: "GET", Path: "/api/lists/{id}/export", Summary: "A list's subscribers as CSV (everyone, or one subscription status)", Permission: auth.ManageAudience,
			Query: []string{"status", "attr"}, Produces: "text/csv", h: a.exportList},

		{Method: "GET", Path: "/api/subscribers", Summary: "Search subscribers", Permission: auth.ManageAudience, Out: client.Page[client.Subscriber]{},
			Query: []string{"q", "list", "substatus", "status", "attr", "limit", "offset"}, h: a.listSubscribers},
		{Method: "POST", Path: "/api/subscribers", Summary: "Create (or update by email) a subscriber", Permission: auth.ManageAudience, In: client.SubscriberInput{}, Out: client.Subscriber{}, h: a.createSubscriber},
		{Method: "POST", Path: "/api/subscribers/bulk", Summary: "One action for many subscribers", Permission: auth.ManageAudience, In: client.BulkRequest{}, Out: client.BulkResult{}, h: a.bulk},
		{Method: "GET", Path: "/api/subscribers/{id}", Summary: "One subscriber with their lists", Permission: auth.ManageAudience, Out: client.Subscriber{}, h: a.getSubscriber},
		{Method: "PATCH", Path: "/api/subscribers/{id}", Summary: "Change a subscriber", Permission: auth.ManageAudience, In: client.SubscriberInput{}, Out: client.Subscriber{}, h: a.patchSubscriber},
		{Method: "DELETE", Path: "/api/subscribers/{id}", Summary: "Erase a subscriber's personal data", Permission: auth.ManageAudience, h: a.eraseSubscriber},

		{Method: "GET", Path: "/api/segments", Summary: "Saved segments with their counts", Permission: auth.ManageAudience, Out: []client.Segment{}, h: a.listSegments},
		{Method: "POST", Path: "/api/segments", Summary: "Save a segment", Permission: auth.ManageAudience, In: client.SegmentInput{}, Out: client.Segment{}, h: a.createSegment},
		{Method: "POST", Path: "/api/segments/count", Summary: "Count the subscribers a query selects now", Permission: auth.ManageAudience, In: client.SegmentInput{}, Out: client.SegmentCount{}, h: a.countSegment},
		{Method: "GET", Path: "/api/segments/{id}", Summary: "One segment with its count", Permission: auth.ManageAudience, Out: client.Segment{}, h: a.getSegment},
		{Method: "PUT", Path: "/api/segments/{id}", Summary: "Change a segment's name or query", Permission: auth.ManageAudience, In: client.SegmentInput{}, Out: client.Segment{}, h: a.updateSegment},
		{Method: "DELETE", Path: "/api/segments/{id}", Summary: "Delete a segment (not one that is a campaign's audience)", Permission: auth.ManageAudience, h: a.deleteSegment},

		{Method: "POST", Path: "/api/imports", Summary: "Import a CSV file into a list", Permission: auth.ManageAudience, Body: "text/csv",
			Query: []string{"list", "status", "mode"}, Out: client.ImportResult{}, h: a.importCSV},

		{Method: "GET", Path: "/api/editions", Summary: "Editions, newest first", Permission: auth.ReadStats, Query: pageQ, Out: client.Page[client.Edition]{}, h: a.listEditions},
		{Method: "POST", Path: "/api/editions", Summary: "Create a draft edition", Permission: auth.Compose, In: client.Edition{}, Out: client.Edition{}, h: a.createEdition},
		{Method: "GET", Path: "/api/editions/{id}", Summary: "One edition", Permission: auth.ReadStats, Out: client.Edition{}, h: a.getEdition},
		{Method: "PUT", Path: "/api/editions/{id}", Summary: "Replace an edition's content", Permission: auth.Compose, In: client.Edition{}, Out: client.Edition{}, h: a.updateEdition},
		{Method: "POST", Path: "/api/editions/{id}/publish", Summary: "Publish an edition", Permission: auth.Publish, Out: client.Edition{}, h: a.publishEdition},
		{Method: "POST", Path: "/api/media", Summary: "Upload a picture (JPEG, PNG, GIF or WebP) for an edition: refused over 16 MB or 60 megapixels, scaled down to 1200 pixels wide, stored under its content's hash", Permission: auth.Compose, Body: "image/jpeg", Out: client.Media{}, h: a.uploadMedia},
		{Method: "GET", Path: "/api/editions/{id}/revisions", Summary: "An edition's kept revisions, newest first, with who saved each", Permission: auth.Compose, Out: []client.EditionRevision{}, h: a.editionRevisions},

		{Method: "GET", Path: "/api/campaigns", Summary: "Campaigns, newest first", Permission: auth.ReadStats, Query: pageQ, Out: client.Page[client.Campaign]{}, h: a.listCampaigns},
		{Method: "POST", Path: "/api/campaigns", Summary: "Create a campaign", Permission: auth.Send, In: client.CampaignInput{}, Out: client.Campaign{}, h: a.createCampaign},
		{Method: "GET", Path: "/api/campaigns/{id}", Summary: "One campaign", Permission: auth.ReadStats, Out: client.Campaign{}, h: a.getCampaign},
		{Method: "GET", Path: "/api/campaigns/{id}/stats", Summary: "Delivery progress and engagement", Permission: auth.ReadStats, Out: client.Stats{}, h: a.campaignStats},
		{Method: "GET", Path: "/api/campaigns/{id}/export.csv", Summary: "Engagement as CSV: part=summary (default; figures by class), links (readers, machines and clicks per link) events (every open and click with its class and reason) or feedback (readers' ratings, comments and reasons for leaving)",
			Permission: auth.ReadStats, Query: []string{"part"}, Produces: "text/csv", h: a.exportCampaign},
		{Method: "GET", Path: "/api/campaigns/{id}/precheck", Summary: "Pre-send checks of the campaign's edition: links and images fetched, size, contrast, subject, preheader", Permission: auth.Send, Out: client.Precheck{}, h: a.precheckCampaign},
		{Method: "POST", Path: "/api/campaigns/{id}/start", Summary: "Start sending (optional body: precheck first, 409 precheck_warnings unless acknowledge_warnings)", Permission: auth.Send, In: client.StartOptions{}, Out: client.Campaign{}, h: a.startCampaign},
		{Method: "POST", Path: "/api/campaigns/{id}/pause", Summary: "Pause sending", Permission: auth.Send, Out: client.Campaign{}, h: a.pauseCampaign},
		{Method: "POST", Path: "/api/campaigns/{id}/resume", Summary: "Resume sending", Permission: auth.Send, Out: client.Campaign{}, h: a.resumeCampaign},
		{Method: "POST", Path: "/api/campaigns/{id}/cancel", Summary: "Cancel for good", Permission: auth.Send, Out: client.Campaign{}, h: a.cancelCampaign},
		{Method: "POST", Path: "/api/campaigns/{id}/schedule", Summary: "Set or clear the send time", Permission: auth.Send, In: client.Schedule{}, Out: client.Campaign{}, h: a.scheduleCampaign},

		{Method: "GET", Path: "/api/webhooks", Summary: "Webhook endpoints with their delivery counts", Permission: auth.ManageSettings, Out: client.Page[client.WebhookEndpoint]{}, h: a.listWebhooks},
		{Method: "POST", Path: "/api/webhooks", Summary: "Register a webhook endpoint (the answer holds its signing secret, shown once)", Permission: auth.ManageSettings, In: client.WebhookInput{}, Out: client.WebhookEndpoint{}, h: a.createWebhook},
		{Method: "GET", Path: "/api/webhooks/{id}", Summary: "One webhook endpoint", Permission: auth.ManageSettings, Out: client.WebhookEndpoint{}, h: a.getWebhook},
		{Method: "PUT", Path: "/api/webhooks/{id}", Summary: "Change a webhook endpoint", Permission: auth.ManageSettings, In: client.WebhookInput{}, Out: client.WebhookEndpoint{}, h: a.updateWebhook},
		{Method: "DELETE", Path: "/api/webhooks/{id}", Summary: "Delete a webhook endpoint and its deliveries", Permission: auth.ManageSettings, h: a.deleteWebhook},
		{Method: "GET", Path: "/api/webhooks/{id}/deliveries", Summary: "An endpoint's recent deliveries, newest first", Permission: auth.ManageSettings, Query: []string{"limit"}, Out: client.Page[client.WebhookDelivery]{}, h: a.webhookDeliveries},
		{Method: "POST", Path: "/api/webhooks/{id}/test", Summary: "Send a webhook.test event to an endpoint", Permission: auth.ManageSettings, Out: client.WebhookDelivery{}, h: a.testWebhook},
		{Method: "POST", Path: "/api/messages", Summary: "Send one message to one subscriber: an edition rendered for them, or a template with variables; idempotent with an Idempotency-Key",
			Permission: auth.SendMessage, In: client.MessageInput{}, Out: client.MessageResult{}, Headers: []string{"Idempotency-Key"}, h: a.sendMessage},

		{Method: "POST", Path: "/api/editions/{id}/ready", Summary: "Mark a series draft ready to go at its slot (or back to draft)", Permission: auth.Publish, In: client.Ready{}, Out: client.SeriesRun{}, h: a.markReady},

		{Method: "GET", Path: "/api/sources", Summary: "The desk's feeds with their status", Permission: auth.Compose, Out: []client.Source{}, h: a.listSources},
		{Method: "POST", Path: "/api/sources", Summary: "Add a feed (RSS, Atom or JSON Feed)", Permission: auth.Publish, In: client.SourceInput{}, Out: client.Source{}, h: a.createSource},
		{Method: "POST", Path: "/api/sources/{id}/poll", Summary: "Read a feed now and say what it found", Permission: auth.Compose, Out: client.SourcePoll{}, h: a.pollSource},
		{Method: "DELETE", Path: "/api/sources/{id}", Summary: "Remove a feed and its items", Permission: auth.Publish, h: a.deleteSource},
		{Method: "GET", Path: "/api/desk/items", Summary: "Recent items from the sources, newest first, marked when used in recent editions", Permission: auth.Compose,
			Query: []string{"q", "source", "limit"}, Out: []client.Item{}, h: a.deskItems},
		{Method: "POST", Path: "/api/desk/unfurl", Summary: "Read a page's title, author, publication and image", Permission: auth.Compose, In: client.UnfurlInput{}, Out: client.Unfurled{}, h: a.unfurl},

		{Method: "GET", Path: "/api/series", Summary: "Recurring briefings", Permission: auth.ReadStats, Out: []client.Series{}, h: a.listSeries},
		{Method: "POST", Path: "/api/series", Summary: "Set up a recurring briefing", Permission: auth.Send, In: client.Series{}, Out: client.Series{}, h: a.createSeries},
		{Method: "GET", Path: "/api/series/{id}", Summary: "One series", Permission: auth.ReadStats, Out: client.Series{}, h: a.getSeries},
		{Method: "PUT", Path: "/api/series/{id}", Summary: "Change a series", Permission: auth.Send, In: client.Series{}, Out: client.Series{}, h: a.updateSeries},
		{Method: "DELETE", Path: "/api/series/{id}", Summary: "Remove a series (its editions and campaigns stay)", Permission: auth.Send, h: a.deleteSeries},
		{Method: "GET", Path: "/api/series/{id}/runs", Summary: "A series' days, newest first", Permission: auth.ReadStats, Out: []client.SeriesRun{}, h: a.seriesRuns},

		{Method: "GET", Path: "/api/audit", Summary: "The audit log, newest first: who changed what, when, through what and from where (owners)", Permission: auth.ReadAudit,
			Query: []string{"action", "user", "object", "since", "until", "before", "limit"}, Out: client.AuditPage{}, h: a.listAudit},
		{Method: "GET", Path: "/api/audit/retention", Summary: "How many days audit rows are kept (0: for ever)", Permission: auth.ReadAudit, Out: client.AuditRetention{}, h: a.getAuditRetention},
		{Method: "PUT", Path: "/api/audit/retention", Summary: "Set how many days audit rows are kept", Permission: auth.ManageSettings, In: client.AuditRetention{}, Out: client.AuditRetention{}, h: a.putAuditRetention},
		{Method: "POST", Path: "/api/tokens", Summary: "Create an API token (the answer holds it, shown once); for another user with an owner's token", Permission: auth.ManageOwnTokens,
			In: client.TokenInput{}, Out: client.Token{}, h: a.createToken},
		{Method: "GET", Path: "/api/users", Summary: "The admin users", Permission: auth.ManageUsers, Out: client.Page[client.User]{}, h: a.listUsers},
		{Method: "PATCH", Path: "/api/users/{id}", Summary: "Change a user's role (their sessions end)", Permission: auth.ManageUsers, In: client.UserInput{}, Out: client.User{}, h: a.updateUser},

		{Method: "GET", Path: "/api/suppressions", Summary: "Suppressed addresses", Permission: auth.ManageAudience, Query: pageQ, Out: client.Page[client.Suppression]{}, h: a.listSuppressions},
		{Method: "POST", Path: "/api/suppressions", Summary: "Suppress an address", Permission: auth.ManageAudience, In: client.SuppressionInput{}, Out: client.Suppression{}, h: a.suppress},
		{Method: "DELETE", Path: "/api/suppressions/{email}", Summary: "Lift a suppression", Permission: auth.ManageAudience, h: a.unsuppress},
	}
}
