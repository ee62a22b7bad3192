// Package client is the Go client of Herald's JSON API (/api/). Every call
// sends the API token as a bearer token; every error the server reports is
// an *Error with its status, code and message (and, for input a check
// refused, the field it concerns). The package stands alone: its wire
// types and their constants (EditionDraft, KindLead, SourceOK, ...) are
// its own, so a program outside Herald's module can use all of them.
//
//	c := client.New("https://news.example.com", token)
//	l, err := c.CreateList(ctx, client.ListInput{Slug: "evening", Name: "Evening"})
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Client calls one Herald server. Safe for concurrent use.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// New returns a client for the server at baseURL using an API token.
func New(baseURL, token string) *Client {
	return &Client{base: strings.TrimSuffix(baseURL, "/") + "/api", token: token, http: http.DefaultClient}
}

// WithHTTPClient returns a copy of c that uses hc.
func (c *Client) WithHTTPClient(hc *http.Client) *Client {
	cp := *c
	cp.http = hc
	return &cp
}

// Error is an error the API answered with.
type Error struct {
	Status  int
	Code    string
	Message string
	// Field names the input a check refused ("reply_to"), when it
	// concerns one.
	Field string
}

// Error says the status, the code and the message.
func (e *Error) Error() string {
	return fmt.Sprintf("herald API: %d %s: %s", e.Status, e.Code, e.Message)
}

// IsNotFound reports whether err is the API's not_found.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	_, err := c.callWith(ctx, method, path, nil, in, out)
	return err
}

// callWith is call with extra request headers; it returns the response's
// headers.
func (c *Client) callWith(ctx context.Context, method, path string, header http.Header, in, out any) (http.Header, error) {
	var body io.Reader
	ct := ""
	switch v := in.(type) {
	case nil:
	case io.Reader:
		body, ct = v, "text/csv"
	default:
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		body, ct = bytes.NewReader(b), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if ct != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", ct)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		var eb ErrorBody
		_ = json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&eb) // an error without a body still has its status
		return res.Header, &Error{Status: res.StatusCode, Code: eb.Error.Code, Message: eb.Error.Message, Field: eb.Error.Field}
	}
	if out == nil || res.StatusCode == http.StatusNoContent {
		return res.Header, nil
	}
	if w, ok := out.(io.Writer); ok { // a file download, such as an export
		if _, err := io.Copy(w, res.Body); err != nil {
			return res.Header, fmt.Errorf("read %s %s: %w", method, path, err)
		}
		return res.Header, nil
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		return res.Header, fmt.Errorf("decode %s %s: %w", method, path, err)
	}
	return res.Header, nil
}

func page(limit, offset int) string {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if offset > 0 {
		q.Set("offset", strconv.Itoa(offset))
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// Me returns the token's user and role.
func (c *Client) Me(ctx context.Context) (*Me, error) {
	var m Me
	return &m, c.call(ctx, "GET", "/me", nil, &m)
}

// Lists returns every list.
func (c *Client) Lists(ctx context.Context) ([]List, error) {
	var p Page[List]
	return p.Data, c.call(ctx, "GET", "/lists", nil, &p)
}

// CreateList creates a list.
func (c *Client) CreateList(ctx context.Context, in ListInput) (*List, error) {
	var l List
	return &l, c.call(ctx, "POST", "/lists", in, &l)
}

// List returns one list.
func (c *Client) List(ctx context.Context, id int64) (*List, error) {
	var l List
	return &l, c.call(ctx, "GET", fmt.Sprintf("/lists/%d", id), nil, &l)
}

// UpdateList changes a list's name, description, opt-in and visibility.
func (c *Client) UpdateList(ctx context.Context, id int64, in ListInput) (*List, error) {
	var l List
	return &l, c.call(ctx, "PUT", fmt.Sprintf("/lists/%d", id), in, &l)
}

// DeleteList deletes a list (its subscribers stay).
func (c *Client) DeleteList(ctx context.Context, id int64) error {
	return c.call(ctx, "DELETE", fmt.Sprintf("/lists/%d", id), nil, nil)
}

// Subscribers searches subscribers.
func (c *Client) Subscribers(ctx context.Context, q SubscriberQuery) (*Page[Subscriber], error) {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" && s != "0" {
			v.Set(k, s)
		}
	}
	set("q", q.Search)
	set("list", strconv.FormatInt(q.ListID, 10))
	set("substatus", q.SubStatus)
	set("status", q.Status)
	set("attr", q.Attribute)
	set("limit", strconv.Itoa(q.Limit))
	set("offset", strconv.Itoa(q.Offset))
	var p Page[Subscriber]
	return &p, c.call(ctx, "GET", "/subscribers?"+v.Encode(), nil, &p)
}

// CreateSubscriber creates a subscriber (or updates the one with that email).
func (c *Client) CreateSubscriber(ctx context.Context, in SubscriberInput) (*Subscriber, error) {
	var s Subscriber
	return &s, c.call(ctx, "POST", "/subscribers", in, &s)
}

// Subscriber returns one subscriber with their lists.
func (c *Client) Subscriber(ctx context.Context, id int64) (*Subscriber, error) {
	var s Subscriber
	return &s, c.call(ctx, "GET", fmt.Sprintf("/subscribers/%d", id), nil, &s)
}

// UpdateSubscriber changes a subscriber.
func (c *Client) UpdateSubscriber(ctx context.Context, id int64, in SubscriberInput) (*Subscriber, error) {
	var s Subscriber
	return &s, c.call(ctx, "PATCH", fmt.Sprintf("/subscribers/%d", id), in, &s)
}

// EraseSubscriber removes a subscriber's personal data.
func (c *Client) EraseSubscriber(ctx context.Context, id int64) error {
	return c.call(ctx, "DELETE", fmt.Sprintf("/subscribers/%d", id), nil, nil)
}

// Bulk applies one action to many subscribers.
func (c *Client) Bulk(ctx context.Context, in BulkRequest) (*BulkResult, error) {
	var r BulkResult
	return &r, c.call(ctx, "POST", "/subscribers/bulk", in, &r)
}

// Import reads CSV into a list and reports what it did.
func (c *Client) Import(ctx context.Context, listID int64, csv io.Reader, opt ImportOptions) (*ImportResult, error) {
	v := url.Values{"list": {strconv.FormatInt(listID, 10)}}
	if opt.Status != "" {
		v.Set("status", opt.Status)
	}
	if opt.Mode != "" {
		v.Set("mode", opt.Mode)
	}
	var r ImportResult
	return &r, c.call(ctx, "POST", "/imports?"+v.Encode(), csv, &r)
}

// UploadMedia uploads a picture (JPEG, PNG, GIF or WebP) for an edition
// and returns its public address; the server refuses one over its limits
// and scales a wide one down to 1200 pixels.
func (c *Client) UploadMedia(ctx context.Context, picture io.Reader) (*Media, error) {
	var m Media
	_, err := c.callWith(ctx, "POST", "/media", http.Header{"Content-Type": {"application/octet-stream"}}, picture, &m)
	return &m, err
}

// ExportList writes a list's subscribers to w as CSV (the columns herald
// export writes): everyone on the list, or those q selects.
func (c *Client) ExportList(ctx context.Context, listID int64, q ExportQuery, w io.Writer) error {
	v := url.Values{}
	if q.Status != "" {
		v.Set("status", q.Status)
	}
	if q.Attribute != "" {
		v.Set("attr", q.Attribute)
	}
	qs := ""
	if len(v) > 0 {
		qs = "?" + v.Encode()
	}
	return c.call(ctx, "GET", fmt.Sprintf("/lists/%d/export%s", listID, qs), nil, w)
}

// EditionRevisions lists an edition's kept revisions, newest first.
func (c *Client) EditionRevisions(ctx context.Context, id int64) ([]EditionRevision, error) {
	var out []EditionRevision
	return out, c.call(ctx, "GET", fmt.Sprintf("/editions/%d/revisions", id), nil, &out)
}

// Editions lists editions, newest first.
func (c *Client) Editions(ctx context.Context, limit, offset int) (*Page[Edition], error) {
	var p Page[Edition]
	return &p, c.call(ctx, "GET", "/editions"+page(limit, offset), nil, &p)
}

// CreateEdition stores a new draft edition.
func (c *Client) CreateEdition(ctx context.Context, e *Edition) (*Edition, error) {
	var out Edition
	return &out, c.call(ctx, "POST", "/editions", e, &out)
}

// Edition returns one edition.
func (c *Client) Edition(ctx context.Context, id int64) (*Edition, error) {
	var out Edition
	return &out, c.call(ctx, "GET", fmt.Sprintf("/editions/%d", id), nil, &out)
}

// UpdateEdition replaces an edition's content.
func (c *Client) UpdateEdition(ctx context.Context, id int64, e *Edition) (*Edition, error) {
	var out Edition
	return &out, c.call(ctx, "PUT", fmt.Sprintf("/editions/%d", id), e, &out)
}

// PublishEdition marks an edition published (it must have no problems).
func (c *Client) PublishEdition(ctx context.Context, id int64) (*Edition, error) {
	var out Edition
	return &out, c.call(ctx, "POST", fmt.Sprintf("/editions/%d/publish", id), nil, &out)
}

// Campaigns lists campaigns, newest first.
func (c *Client) Campaigns(ctx context.Context, limit, offset int) (*Page[Campaign], error) {
	var p Page[Campaign]
	return &p, c.call(ctx, "GET", "/campaigns"+page(limit, offset), nil, &p)
}

// CreateCampaign creates a draft (or, with SendAt, scheduled) campaign.
func (c *Client) CreateCampaign(ctx context.Context, in CampaignInput) (*Campaign, error) {
	var out Campaign
	return &out, c.call(ctx, "POST", "/campaigns", in, &out)
}

// Campaign returns one campaign.
func (c *Client) Campaign(ctx context.Context, id int64) (*Campaign, error) {
	var out Campaign
	return &out, c.call(ctx, "GET", fmt.Sprintf("/campaigns/%d", id), nil, &out)
}

func (c *Client) action(ctx context.Context, id int64, act string, in any) (*Campaign, error) {
	var out Campaign
	return &out, c.call(ctx, "POST", fmt.Sprintf("/campaigns/%d/%s", id, act), in, &out)
}

// StartCampaign freezes the edition, writes the ledger and starts sending.
func (c *Client) StartCampaign(ctx context.Context, id int64) (*Campaign, error) {
	return c.action(ctx, id, "start", nil)
}

// PrecheckCampaign runs the pre-send checks on a campaign's edition:
// links and images fetched, size, contrast, subject and preheader.
func (c *Client) PrecheckCampaign(ctx context.Context, id int64) (*Precheck, error) {
	var out Precheck
	return &out, c.call(ctx, "GET", fmt.Sprintf("/campaigns/%d/precheck", id), nil, &out)
}

// StartCampaignChecked runs the pre-send checks, then starts the campaign
// unless they warn; with acknowledge it starts it all the same. A warning
// comes back as an *Error with Code "precheck_warnings".
func (c *Client) StartCampaignChecked(ctx context.Context, id int64, acknowledge bool) (*Campaign, error) {
	return c.action(ctx, id, "start", StartOptions{Precheck: true, AcknowledgeWarnings: acknowledge})
}

// PauseCampaign stops claiming new recipients.
func (c *Client) PauseCampaign(ctx context.Context, id int64) (*Campaign, error) {
	return c.action(ctx, id, "pause", nil)
}

// ResumeCampaign continues a paused campaign.
func (c *Client) ResumeCampaign(ctx context.Context, id int64) (*Campaign, error) {
	return c.action(ctx, id, "resume", nil)
}

// CancelCampaign stops a campaign for good.
func (c *Client) CancelCampaign(ctx context.Context, id int64) (*Campaign, error) {
	return c.action(ctx, id, "cancel", nil)
}

// ScheduleCampaign sets (or with nil clears) a draft's send time.
func (c *Client) ScheduleCampaign(ctx context.Context, id int64, s Schedule) (*Campaign, error) {
	return c.action(ctx, id, "schedule", s)
}

// CampaignStats returns a campaign's delivery and engagement.
func (c *Client) CampaignStats(ctx context.Context, id int64) (*Stats, error) {
	var s Stats
	return &s, c.call(ctx, "GET", fmt.Sprintf("/campaigns/%d/stats", id), nil, &s)
}

// CampaignExport writes one part of a campaign's engagement to w as CSV:
// "summary" (or ""), "links", "events" or "feedback" (docs/engagement.md).
func (c *Client) CampaignExport(ctx context.Context, id int64, part string, w io.Writer) error {
	q := ""
	if part != "" {
		q = "?part=" + url.QueryEscape(part)
	}
	return c.call(ctx, "GET", fmt.Sprintf("/campaigns/%d/export.csv%s", id, q), nil, w)
}

// Suppressions lists suppressed addresses, newest first.
func (c *Client) Suppressions(ctx context.Context, limit, offset int) (*Page[Suppression], error) {
	var p Page[Suppression]
	return &p, c.call(ctx, "GET", "/suppressions"+page(limit, offset), nil, &p)
}

// Suppress blocks an address from every list.
func (c *Client) Suppress(ctx context.Context, in SuppressionInput) (*Suppression, error) {
	var s Suppression
	return &s, c.call(ctx, "POST", "/suppressions", in, &s)
}

// Unsuppress lifts a suppression.
func (c *Client) Unsuppress(ctx context.Context, email string) error {
	return c.call(ctx, "DELETE", "/suppressions/"+url.PathEscape(email), nil, nil)
}

// Webhooks lists the webhook endpoints with their delivery counts.
func (c *Client) Webhooks(ctx context.Context) ([]WebhookEndpoint, error) {
	var p Page[WebhookEndpoint]
	return p.Data, c.call(ctx, "GET", "/webhooks", nil, &p)
}

// CreateWebhook registers an endpoint; the answer carries its signing
// secret, which is not shown again.
func (c *Client) CreateWebhook(ctx context.Context, in WebhookInput) (*WebhookEndpoint, error) {
	var out WebhookEndpoint
	return &out, c.call(ctx, "POST", "/webhooks", in, &out)
}

// Webhook returns one endpoint (without its secret).
func (c *Client) Webhook(ctx context.Context, id int64) (*WebhookEndpoint, error) {
	var out WebhookEndpoint
	return &out, c.call(ctx, "GET", fmt.Sprintf("/webhooks/%d", id), nil, &out)
}

// UpdateWebhook changes an endpoint's URL, events, description, whether it
// is active, and its secret when one is given.
func (c *Client) UpdateWebhook(ctx context.Context, id int64, in WebhookInput) (*WebhookEndpoint, error) {
	var out WebhookEndpoint
	return &out, c.call(ctx, "PUT", fmt.Sprintf("/webhooks/%d", id), in, &out)
}

// DeleteWebhook removes an endpoint and its deliveries.
func (c *Client) DeleteWebhook(ctx context.Context, id int64) error {
	return c.call(ctx, "DELETE", fmt.Sprintf("/webhooks/%d", id), nil, nil)
}

// WebhookDeliveries returns an endpoint's most recent deliveries, newest
// first (limit 0: 50).
func (c *Client) WebhookDeliveries(ctx context.Context, id int64, limit int) ([]WebhookDelivery, error) {
	var p Page[WebhookDelivery]
	return p.Data, c.call(ctx, "GET", fmt.Sprintf("/webhooks/%d/deliveries%s", id, page(limit, 0)), nil, &p)
}

// TestWebhook queues a webhook.test event for an endpoint and returns its
// delivery.
func (c *Client) TestWebhook(ctx context.Context, id int64) (*WebhookDelivery, error) {
	var out WebhookDelivery
	return &out, c.call(ctx, "POST", fmt.Sprintf("/webhooks/%d/test", id), nil, &out)
}

// SendMessage sends one transactional message to one subscriber. With an
// idempotencyKey (any unique string up to 255 printable ASCII characters,
// such as a UUID or "reset-42-2026-03-04"), a retry of the same request
// within 24 hours gets the first answer back (Replayed set) and sends
// nothing again; the same key with another request is refused. Retry a
// temporary failure (an *Error with status 503) with the same key.
func (c *Client) SendMessage(ctx context.Context, in MessageInput, idempotencyKey string) (*MessageResult, error) {
	var h http.Header
	if idempotencyKey != "" {
		h = http.Header{"Idempotency-Key": {idempotencyKey}}
	}
	var out MessageResult
	rh, err := c.callWith(ctx, "POST", "/messages", h, in, &out)
	if err != nil {
		return nil, err
	}
	out.Replayed = rh.Get("Idempotent-Replayed") == "true"
	return &out, nil
}

// Sources lists the desk's feeds.
func (c *Client) Sources(ctx context.Context) ([]Source, error) {
	var out []Source
	return out, c.call(ctx, "GET", "/sources", nil, &out)
}

// CreateSource adds a feed; it is read within a minute.
func (c *Client) CreateSource(ctx context.Context, in SourceInput) (*Source, error) {
	var s Source
	return &s, c.call(ctx, "POST", "/sources", in, &s)
}

// PollSource reads a source now and says what it found.
func (c *Client) PollSource(ctx context.Context, id int64) (*SourcePoll, error) {
	var out SourcePoll
	return &out, c.call(ctx, "POST", fmt.Sprintf("/sources/%d/poll", id), nil, &out)
}

// DeleteSource removes a source and its items.
func (c *Client) DeleteSource(ctx context.Context, id int64) error {
	return c.call(ctx, "DELETE", fmt.Sprintf("/sources/%d", id), nil, nil)
}

// DeskItems lists recent items from every source, newest first, matching
// the words of q (all items when empty).
func (c *Client) DeskItems(ctx context.Context, q string) ([]Item, error) {
	var out []Item
	return out, c.call(ctx, "GET", "/desk/items?q="+url.QueryEscape(q), nil, &out)
}

// Unfurl reads a page's title, author, publication and image.
func (c *Client) Unfurl(ctx context.Context, pageURL string) (*Unfurled, error) {
	var out Unfurled
	return &out, c.call(ctx, "POST", "/desk/unfurl", UnfurlInput{URL: pageURL}, &out)
}

// AllSeries lists the recurring briefings.
func (c *Client) AllSeries(ctx context.Context) ([]Series, error) {
	var out []Series
	return out, c.call(ctx, "GET", "/series", nil, &out)
}

// CreateSeries sets up a recurring briefing.
func (c *Client) CreateSeries(ctx context.Context, in Series) (*Series, error) {
	var out Series
	return &out, c.call(ctx, "POST", "/series", in, &out)
}

// UpdateSeries changes a series.
func (c *Client) UpdateSeries(ctx context.Context, id int64, in Series) (*Series, error) {
	var out Series
	return &out, c.call(ctx, "PUT", fmt.Sprintf("/series/%d", id), in, &out)
}

// DeleteSeries removes a series (its editions and campaigns stay).
func (c *Client) DeleteSeries(ctx context.Context, id int64) error {
	return c.call(ctx, "DELETE", fmt.Sprintf("/series/%d", id), nil, nil)
}

// SeriesRuns lists a series' days, newest first.
func (c *Client) SeriesRuns(ctx context.Context, id int64) ([]SeriesRun, error) {
	var out []SeriesRun
	return out, c.call(ctx, "GET", fmt.Sprintf("/series/%d/runs", id), nil, &out)
}

// MarkReady marks the series draft an edition is ready to go at its slot
// (or, with ready false, back to draft).
func (c *Client) MarkReady(ctx context.Context, editionID int64, ready bool) (*SeriesRun, error) {
	var out SeriesRun
	return &out, c.call(ctx, "POST", fmt.Sprintf("/editions/%d/ready", editionID), Ready{Ready: ready}, &out)
}

// Segments returns the saved segments with their counts.
func (c *Client) Segments(ctx context.Context) ([]Segment, error) {
	var out []Segment
	return out, c.call(ctx, "GET", "/segments", nil, &out)
}

// CreateSegment saves a segment.
func (c *Client) CreateSegment(ctx context.Context, in SegmentInput) (*Segment, error) {
	var sg Segment
	return &sg, c.call(ctx, "POST", "/segments", in, &sg)
}

// UpdateSegment changes a segment's name or query.
func (c *Client) UpdateSegment(ctx context.Context, id int64, in SegmentInput) (*Segment, error) {
	var sg Segment
	return &sg, c.call(ctx, "PUT", fmt.Sprintf("/segments/%d", id), in, &sg)
}

// Segment returns one segment with its count.
func (c *Client) Segment(ctx context.Context, id int64) (*Segment, error) {
	var sg Segment
	return &sg, c.call(ctx, "GET", fmt.Sprintf("/segments/%d", id), nil, &sg)
}

// DeleteSegment deletes a saved segment; one that is a campaign's
// audience is refused (code in_use).
func (c *Client) DeleteSegment(ctx context.Context, id int64) error {
	return c.call(ctx, "DELETE", fmt.Sprintf("/segments/%d", id), nil, nil)
}

// CountSegment counts the subscribers a query (saved or not) selects now.
func (c *Client) CountSegment(ctx context.Context, query string) (*SegmentCount, error) {
	var out SegmentCount
	return &out, c.call(ctx, "POST", "/segments/count", SegmentInput{Query: query}, &out)
}

// Audit reads the audit log, newest first (owners' tokens only).
func (c *Client) Audit(ctx context.Context, q AuditQuery) (*AuditPage, error) {
	v := url.Values{}
	for k, s := range map[string]string{"action": q.Action, "user": q.User, "object": q.Object, "since": q.Since, "until": q.Until} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.Before > 0 {
		v.Set("before", strconv.FormatInt(q.Before, 10))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	path := "/audit"
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	var p AuditPage
	return &p, c.call(ctx, "GET", path, nil, &p)
}

// AuditRetention returns how many days audit rows are kept.
func (c *Client) AuditRetention(ctx context.Context) (*AuditRetention, error) {
	var out AuditRetention
	return &out, c.call(ctx, "GET", "/audit/retention", nil, &out)
}

// SetAuditRetention sets how many days audit rows are kept (0: for ever).
func (c *Client) SetAuditRetention(ctx context.Context, days int) (*AuditRetention, error) {
	var out AuditRetention
	return &out, c.call(ctx, "PUT", "/audit/retention", AuditRetention{Days: days}, &out)
}

// CreateToken makes an API token; the answer holds the token, shown once.
func (c *Client) CreateToken(ctx context.Context, in TokenInput) (*Token, error) {
	var out Token
	return &out, c.call(ctx, "POST", "/tokens", in, &out)
}

// Users lists the admin users.
func (c *Client) Users(ctx context.Context) ([]User, error) {
	var p Page[User]
	return p.Data, c.call(ctx, "GET", "/users", nil, &p)
}

// UpdateUser changes a user's role (never the last owner's away from
// owner); their sessions end so it applies at once.
func (c *Client) UpdateUser(ctx context.Context, id int64, in UserInput) (*User, error) {
	var out User
	return &out, c.call(ctx, "PATCH", fmt.Sprintf("/users/%d", id), in, &out)
}
